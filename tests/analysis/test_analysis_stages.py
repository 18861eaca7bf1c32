"""The analysis stages called directly give what ``v1mtl analyze reconstruction|saliency`` gives; their configs
take ``--config``/``--set`` like the dedicated flags, and name the key of a bad value."""

import dataclasses
import sys
from pathlib import Path

import numpy as np
import pytest

# the tiny networks and images of the command tests, so that the stages and the commands share fixtures
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "commands"))
from analysis_fixtures import one_thread, write_tiny_images, write_tiny_network  # noqa: E402, F401

from v1mtl.analysis import ReconstructionConfig, SaliencyConfig, run_reconstruction_stage, run_saliency_stage  # noqa: E402
from v1mtl.analysis.settings import ContentNoiseSettings, ReconstructionSettings
from v1mtl.cli import build_parser, main  # noqa: E402
from v1mtl.commands import analyze_reconstruction, analyze_saliency  # noqa: E402
from v1mtl.common.errors import InputError  # noqa: E402
from v1mtl.common.tables import read_csv  # noqa: E402

# every file the stages write; none records the output folder's path
RECON_FILES = ("per_image.csv", "summary.csv", "comparisons.csv", "config.json", "protocol.md")
SALIENCY_FILES = RECON_FILES


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    root = tmp_path_factory.mktemp("inputs")
    nets = [str(write_tiny_network(root / "baseline", seed=0)), str(write_tiny_network(root / "mtl", seed=1))]
    return nets, str(write_tiny_images(root / "images.npz", n=2))


def _same_files(a: Path, b: Path, names) -> None:
    for name in names:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name


def test_reconstruction_stage_equals_the_command(inputs, tmp_path, capsys):
    nets, images = inputs
    (tmp_path / "cfg.yaml").write_text("noise_stds: [0.2]\nlayer: relu2_1\n")
    argv = [
        "analyze", "reconstruction", *nets, "--images", images, "--config", str(tmp_path / "cfg.yaml"),
        "--set", "budgets=[5, 20]", "--steps", "6", "--n-boot", "20", "--out", str(tmp_path / "command"),
    ]  # fmt: skip
    assert main(argv) == 0
    printed = capsys.readouterr().out
    cfg = ReconstructionConfig(
        images=images, layer="relu2_1", budgets=[5.0, 20.0], noise_stds=[0.2], steps=6, n_boot=20
    )
    result = run_reconstruction_stage(cfg, nets, tmp_path / "stage")
    _same_files(tmp_path / "command", tmp_path / "stage", RECON_FILES)
    assert len(result.rows) == 2 * 2 * 1 * 2  # models x budgets x noise levels x images
    written = read_csv(tmp_path / "stage" / "summary.csv")
    assert [float(r["value"]) for r in written] == pytest.approx([s["value"] for s in result.summary])
    assert f"{result.comparisons[0]['model']} - baseline content gain" in printed


def test_saliency_stage_equals_the_command(inputs, tmp_path):
    nets, images = inputs
    argv = [
        "analyze", "saliency", *nets, "--images", images, "--set", "n_probes=2", "--steps", "4", "--n-boot", "20",
        "--set", "model=centre_surround", "--layer", "relu2_1", "--out", str(tmp_path / "command"),
    ]  # fmt: skip
    assert main(argv) == 0
    cfg = SaliencyConfig(
        images=images, n_probes=2, steps=4, n_boot=20, model="centre_surround", layer="relu2_1"
    )
    result = run_saliency_stage(cfg, nets, tmp_path / "stage", names=["baseline", "mtl"])
    _same_files(tmp_path / "command", tmp_path / "stage", SALIENCY_FILES)
    assert {(r["model"], r["method"]) for r in result.rows} == {
        (m, k) for m in ("baseline", "mtl") for k in ("jacobian", "reconstruction")
    }
    assert "Itti" in (tmp_path / "stage" / "protocol.md").read_text()


# key, --set value, the dedicated flag's argv, the value both give
RECON_KEYS = [
    ("images", "pics", ["--images", "pics"], "pics"),
    ("layer", "relu2_1", ["--layer", "relu2_1"], "relu2_1"),
    ("n_images", "3", ["--n-images", "3"], 3),
    ("size", "24", ["--size", "24"], 24),
    ("batch_size", "4", ["--batch-size", "4"], 4),
    ("n_boot", "50", ["--n-boot", "50"], 50),
    ("seed", "7", ["--seed", "7"], 7),
    ("steps", "15", ["--steps", "15"], 15),
    ("lr", "64", ["--lr", "64"], 64.0),
    ("blur_sigma", "0", ["--blur-sigma", "0"], 0.0),
    ("constraint", "ball", ["--constraint", "ball"], "ball"),
    ("recon_seed", "3", ["--recon-seed", "3"], 3),
    ("budgets", "[5, 20]", ["--budgets", "5", "20"], [5.0, 20.0]),
    ("noise_stds", "[0.3]", ["--noise-stds", "0.3"], [0.3]),
]
SALIENCY_KEYS = [
    ("saliency_maps", "maps.h5", ["--saliency-maps", "maps.h5"], "maps.h5"),
    ("log_density", "true", ["--log-density"], True),
    ("model", "centre_surround", ["--saliency-model", "centre_surround"], "centre_surround"),
    ("methods", "[jacobian]", ["--methods", "jacobian"], ["jacobian"]),
    ("n_probes", "3", ["--n-probes", "3"], 3),
    ("budget", "10", ["--budget", "10"], 10.0),
    ("top_fraction", "0.1", ["--top-fraction", "0.1"], 0.1),
    *[k for k in RECON_KEYS if k[0] not in ("budgets", "noise_stds")],
]


def _config(command, module, extra):
    args = build_parser().parse_args(["analyze", command, "net", "--out", "o", *extra])
    return module.stage_config(args)


@pytest.mark.parametrize(
    "command, module, key, text, flag, value",
    [("reconstruction", analyze_reconstruction, *k) for k in RECON_KEYS]
    + [("saliency", analyze_saliency, *k) for k in SALIENCY_KEYS],
)
def test_a_set_key_equals_its_dedicated_flag(command, module, key, text, flag, value):
    by_set = _config(command, module, ["--set", f"{key}={text}"])
    by_flag = _config(command, module, flag)
    assert by_set == by_flag
    assert getattr(by_flag, key) == value != getattr(_config(command, module, []), key)


def test_a_dedicated_flag_overrides_set_and_the_config_file(tmp_path):
    (tmp_path / "c.yaml").write_text("steps: 40\nseed: 2\n")
    cfg = _config(
        "reconstruction",
        analyze_reconstruction,
        ["--config", str(tmp_path / "c.yaml"), "--set", "steps=50", "--steps", "60"],
    )
    assert (cfg.steps, cfg.seed) == (60, 2)


@pytest.mark.parametrize(
    "command, setting, key",
    [
        ("reconstruction", "steps=0", "steps"),
        ("reconstruction", "budgets=[5, -1]", "budgets[1]"),
        ("reconstruction", "noise_stds=[]", "noise_stds"),
        ("reconstruction", "constraint=cube", "constraint"),
        ("reconstruction", "lr=fast", "lr"),
        ("reconstruction", "steps_typo=3", "steps_typo"),
        ("saliency", "top_fraction=1.5", "top_fraction"),
        ("saliency", "n_probes=0", "n_probes"),
        ("saliency", "methods=[gradient]", "methods[0]"),
        ("saliency", "budget=0", "budget"),
    ],
)
def test_a_bad_value_is_a_one_line_error_naming_the_key(tmp_path, capsys, command, setting, key):
    # the settings are checked before any checkpoint is read, so a missing one does not mask the error
    code = main(
        ["analyze", command, str(tmp_path / "nothing"), "--set", setting, "--out", str(tmp_path / "o")]
    )
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and f"field '{key}'" in err
    assert not (tmp_path / "o").exists()


def test_the_stage_functions_check_their_configs(tmp_path):
    with pytest.raises(InputError, match="field 'steps'"):
        run_reconstruction_stage(ReconstructionConfig(steps=0), [tmp_path / "nothing"], tmp_path / "o")
    with pytest.raises(InputError, match="field 'top_fraction'"):
        run_saliency_stage(SaliencyConfig(top_fraction=0.0), [tmp_path / "nothing"], tmp_path / "o")


@pytest.mark.parametrize(
    "stage_cls, study_name",
    [(ReconstructionConfig, "ReconstructionConfig"), (SaliencyConfig, "SaliencyConfig")],
)
def test_the_stage_configs_keep_the_study_keys_and_defaults(stage_cls, study_name):
    """The study's analysis settings are meant to become these classes: same names, same defaults."""
    from v1mtl.study import config as study_config

    study = getattr(study_config, study_name)()
    stage = stage_cls()
    for f in dataclasses.fields(study):
        assert getattr(stage, f.name) == getattr(study, f.name), f.name


def test_the_sweep_defaults_are_the_analysis_defaults():

    cfg, sweep, optimizer = ReconstructionConfig(), ContentNoiseSettings(), ReconstructionSettings()
    assert tuple(cfg.budgets) == tuple(sweep.budgets) and tuple(cfg.noise_stds) == tuple(sweep.noise_stds)
    assert cfg.reconstruction_settings() == optimizer
    assert np.isclose(cfg.lr, 5000.0)  # the reference's step size (sinzlab/reconstruction @01d0586)
