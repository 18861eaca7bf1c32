import json

import numpy as np
import pytest

from v1mtl.cli import build_parser, main
from v1mtl.commands.evaluate_brain_robustness import config_from_flags
from v1mtl.common.errors import InputError
from v1mtl.evaluate.brain_vs_robustness import (
    BrainRobustnessConfig,
    mean_corruption_accuracy,
    relate,
    run_brain_robustness,
)
from v1mtl.evaluate.robustness_table import RobustnessRow, write_rows


def _robustness_csv(path, accuracies: dict[str, float], source: str = "on-the-fly"):
    rows = []
    for model, acc in accuracies.items():
        rows.append(RobustnessRow(model, source, "tiny-imagenet", False, "rgb", "clean", 0, 100, 90))
        for k, corruption in enumerate(("gaussian_noise", "fog")):
            for severity in (1, 2):
                # the two corruptions straddle the model's mean accuracy
                correct = int(round(100 * acc + (10 if k else -10)))
                rows.append(
                    RobustnessRow(
                        model, source, "tiny-imagenet", False, "rgb", corruption, severity, 100, correct
                    )
                )
    write_rows(rows, path)
    return path


def _predictivity(folder, model: str, value: float):
    folder.mkdir(parents=True)
    best = {
        "layer": "relu3_1",
        "layer_index": 17,
        "val_corr": 0.3,
        "corr_to_average_mean": value,
        "test_corr_mean": value / 2,
        "feve_mean": value - 0.1,
    }
    summary = {
        "model": model,
        "readout": "gaussian",
        "pixels_per_degree": 8.0,
        "best_layer": "relu3_1",
        "best": best,
    }
    (folder / "summary.json").write_text(json.dumps(summary))
    return folder


def test_mean_corruption_accuracy_leaves_out_clean(tmp_path):
    csv = _robustness_csv(tmp_path / "r.csv", {"a": 0.4})
    out = mean_corruption_accuracy([csv])
    assert out["a"]["mean_corruption_accuracy"] == pytest.approx(0.4)
    assert out["a"]["clean_accuracy"] == pytest.approx(0.9)
    assert out["a"]["n_conditions"] == 4


def test_monotone_relation_gives_rank_correlation_one(tmp_path):
    acc = {f"m{i}": 0.2 + 0.05 * i for i in range(6)}
    csv = _robustness_csv(tmp_path / "r.csv", acc)
    folders = [_predictivity(tmp_path / m, m, 0.1 + 0.1 * i) for i, m in enumerate(acc)]
    points, result = relate([csv], folders, n_boot=200)
    assert len(points) == 6
    assert result["spearman"] == pytest.approx(1.0)
    assert result["ci_low"] == pytest.approx(1.0) and result["positive_and_ci_excludes_zero"]
    assert result["verdict"].startswith("positive")
    # reversed predictivity: negative
    folders = [_predictivity(tmp_path / f"rev{m}", m, 1.0 - 0.1 * i) for i, m in enumerate(acc)]
    _, result = relate([csv], folders, n_boot=200)
    assert result["spearman"] == pytest.approx(-1.0)
    assert not result["positive_and_ci_excludes_zero"]


def test_unrelated_values_do_not_claim_a_relation(tmp_path):
    rng = np.random.default_rng(0)
    acc = {f"m{i}": float(rng.uniform(0.2, 0.6)) for i in range(8)}
    csv = _robustness_csv(tmp_path / "r.csv", acc)
    values = [0.3, 0.1, 0.4, 0.15, 0.35, 0.2, 0.25, 0.05]
    folders = [_predictivity(tmp_path / m, m, v) for m, v in zip(acc, values, strict=True)]
    _, result = relate([csv], folders, n_boot=500)
    assert result["ci_low"] < 0 < result["ci_high"]
    assert result["verdict"].startswith("not established")


def test_errors_name_the_problem(tmp_path):
    csv = _robustness_csv(tmp_path / "r.csv", {"a": 0.4})
    other = _robustness_csv(tmp_path / "s.csv", {"b": 0.4}, source="pre-rendered")
    with pytest.raises(InputError, match="protocols"):
        mean_corruption_accuracy([csv, other])
    folder = _predictivity(tmp_path / "zz", "zz", 0.2)
    with pytest.raises(InputError, match="zz"):
        relate([csv], [folder])
    with pytest.raises(InputError, match="summary.json"):
        relate([csv], [tmp_path / "missing"])


def test_command_writes_points_result_and_scatter(tmp_path, capsys):
    acc = {f"m{i}": 0.2 + 0.05 * i for i in range(4)}
    csv = _robustness_csv(tmp_path / "r.csv", acc)
    folders = [str(_predictivity(tmp_path / m, m, 0.1 * i)) for i, m in enumerate(acc)]
    out = tmp_path / "out"
    argv = [
        "evaluate",
        "brain-robustness",
        "--robustness",
        str(csv),
        "--predictivity",
        *folders,
        "--out",
        str(out),
        "--n-boot",
        "100",
    ]
    assert main(argv) == 0
    result = json.loads((out / "result.json").read_text())
    assert result["n_models"] == 4 and result["spearman"] == pytest.approx(1.0)
    for name in ("points.csv", "scatter.png", "protocol.md", "config.json"):
        assert (out / name).stat().st_size > 0
    assert "Spearman" in capsys.readouterr().out


def _inputs(tmp_path, n_models: int = 5):
    """A robustness CSV and predictivity folders of ``n_models`` models whose ranks disagree somewhat."""
    acc = {f"m{i}": 0.2 + 0.05 * i for i in range(n_models)}
    csv = _robustness_csv(tmp_path / "r.csv", acc)
    values = [0.1, 0.3, 0.2, 0.5, 0.4, 0.6][:n_models]
    folders = [str(_predictivity(tmp_path / m, m, v)) for m, v in zip(acc, values, strict=True)]
    return csv, folders


def _config(*extra: str) -> BrainRobustnessConfig:
    """The config ``v1mtl evaluate brain-robustness --robustness r.csv --predictivity p --out o EXTRA...``."""
    argv = ["evaluate", "brain-robustness", "--robustness", "r.csv", "--predictivity", "p", "--out", "o"]
    return config_from_flags(build_parser().parse_args([*argv, *extra]))


@pytest.mark.parametrize(
    ("key", "text", "flag", "value"),
    [
        ("metric", "feve", ["--metric", "feve"], "feve"),
        ("n_boot", "100", ["--n-boot", "100"], 100),
        ("seed", "3", ["--seed", "3"], 3),
    ],
)
def test_a_set_key_equals_its_dedicated_flag(key, text, flag, value):
    by_set = _config("--set", f"{key}={text}")
    assert by_set == _config(*flag)
    assert getattr(by_set, key) == value != getattr(BrainRobustnessConfig(), key)


def test_a_flag_given_beats_set_which_beats_the_file(tmp_path):
    assert _config() == BrainRobustnessConfig()
    (tmp_path / "c.yaml").write_text("metric: test_corr\nn_boot: 50\nseed: 4\n")
    cfg = _config(
        "--config", str(tmp_path / "c.yaml"), "--set", "seed=5", "--set", "n_boot=60", "--n-boot", "70"
    )
    assert (cfg.metric, cfg.n_boot, cfg.seed) == ("test_corr", 70, 5)


def test_a_config_file_gives_what_relate_gives_with_its_settings(tmp_path, capsys):
    csv, folders = _inputs(tmp_path)
    (tmp_path / "c.yaml").write_text("metric: feve\nn_boot: 50\nseed: 3\n")
    out = tmp_path / "out"
    argv = ["evaluate", "brain-robustness", "--robustness", str(csv), "--predictivity", *folders]
    assert main([*argv, "--out", str(out), "--config", str(tmp_path / "c.yaml")]) == 0
    _, expected = relate([csv], folders, metric="feve", n_boot=50, seed=3)
    assert json.loads((out / "result.json").read_text()) == expected
    # another seed resamples differently, so the file's seed did reach the bootstrap
    _, other = relate([csv], folders, metric="feve", n_boot=50, seed=4)
    assert (other["ci_low"], other["ci_high"]) != (expected["ci_low"], expected["ci_high"])
    settings = json.loads((out / "config.json").read_text())
    assert settings["metric"] == "feve" and settings["n_boot"] == 50 and settings["seed"] == 3
    assert settings["predictivity"] == folders
    assert expected["verdict"] in capsys.readouterr().out


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        (["--set", "metric=r2"], "metric"),
        (["--set", "n_boot=many"], "n_boot"),
        (["--set", "boots=3"], "boots"),
        (["--n-boot", "0"], "n_boot"),
    ],
)
def test_a_bad_value_is_one_line_naming_its_key(tmp_path, capsys, extra, field):
    csv, folders = _inputs(tmp_path)
    out = tmp_path / "out"
    argv = ["evaluate", "brain-robustness", "--robustness", str(csv), "--predictivity", *folders]
    assert main([*argv, "--out", str(out), *extra]) == 2
    err = capsys.readouterr().err
    assert f"field '{field}'" in err and err.count("\n") == 1
    assert not out.exists()


def test_the_stage_refuses_a_hand_built_bad_config(tmp_path):
    csv, folders = _inputs(tmp_path)
    with pytest.raises(InputError) as err:
        run_brain_robustness(BrainRobustnessConfig(metric="r2"), [csv], folders, tmp_path / "out")
    assert err.value.field == "metric"
    assert not (tmp_path / "out").exists()
