import json

import numpy as np
import pytest

from v1mtl.cli import main
from v1mtl.common.errors import InputError
from v1mtl.evaluate.brain_vs_robustness import mean_corruption_accuracy, relate
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
