"""``run_predictivity_stage`` called directly gives what ``v1mtl evaluate predictivity`` gives."""

import copy
import json
import sys
from pathlib import Path

import pytest

# the tiny network and V1 folder of the command tests, so that the stage and the command share fixtures
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "commands"))
from analysis_fixtures import one_thread, write_tiny_network, write_tiny_v1  # noqa: E402, F401

from v1mtl.cli import main  # noqa: E402
from v1mtl.evaluate.predictivity_stage import PredictivityConfig, run_predictivity_stage  # noqa: E402
from v1mtl.neural_model.fit import FitNeuralConfig  # noqa: E402

# everything the stage writes at the top of its folder; none of it records the output folder's path
TOP_FILES = ("scores.csv", "layers.csv", "summary.json", "layer_sweep.png", "protocol.md", "config.json")


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    root = tmp_path_factory.mktemp("inputs")
    return write_tiny_network(root / "baseline"), write_tiny_v1(root / "v1")


def _command(net: Path, v1: Path, out: Path, *flags: str) -> Path:
    argv = ["evaluate", "predictivity", str(net), "--neural", str(v1), "--out", str(out), "--no-progress"]
    assert main([*argv, *flags]) == 0
    return out


def _assert_same_files(a: Path, b: Path, names=TOP_FILES) -> None:
    for name in names:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name


def test_ridge_sweep_writes_what_the_command_writes(tmp_path, inputs):
    net, v1 = inputs
    (tmp_path / "pred.yaml").write_text("layers: [relu1_1, '8']\nreadout: ridge\n")
    by_command = _command(net, v1, tmp_path / "cmd", "--config", str(tmp_path / "pred.yaml"))
    cfg = PredictivityConfig(layers=["relu1_1", "8"], readout="ridge")
    summary = run_predictivity_stage(cfg, net, v1, tmp_path / "fn", progress=False)
    _assert_same_files(by_command, tmp_path / "fn")
    assert [r["layer"] for r in summary["layers"]] == ["relu1_1", "pool2"]
    assert summary == json.loads((tmp_path / "fn" / "summary.json").read_text())


def test_gaussian_readouts_match_the_command_with_the_same_flags(tmp_path, inputs):
    net, v1 = inputs
    flags = ("--layers", "relu2_1", "--max-epochs", "2", "--seed", "5", "--set", "data.batch_size=64")
    by_command = _command(net, v1, tmp_path / "cmd", *flags)
    fit = FitNeuralConfig()
    fit.data.batch_size = 64
    cfg = PredictivityConfig(layers=["relu2_1"], max_epochs=2, seed=5)
    run_predictivity_stage(cfg, net, v1, tmp_path / "fn", fit=fit, progress=False)
    _assert_same_files(by_command, tmp_path / "fn", (*TOP_FILES, "layer_relu2_1/fit/scores.csv"))
    recorded = json.loads((tmp_path / "fn" / "config.json").read_text())["fit"]
    assert recorded["seed"] == 5 and recorded["training"]["max_epochs"] == 2
    assert recorded["data"]["batch_size"] == 64


def test_a_fit_config_object_equals_the_same_settings_as_a_fit_config_file(tmp_path, inputs):
    net, v1 = inputs
    (tmp_path / "fit.yaml").write_text("seed: 5\ntraining:\n  max_epochs: 2\ndata:\n  batch_size: 64\n")
    # without --max-epochs the command's epoch limit is the fit file's
    by_command = _command(
        net, v1, tmp_path / "cmd", "--layers", "relu2_1", "--fit-config", str(tmp_path / "fit.yaml")
    )
    fit = FitNeuralConfig()
    fit.seed, fit.training.max_epochs, fit.data.batch_size = 5, 2, 64
    given = copy.deepcopy(fit)
    run_predictivity_stage(
        PredictivityConfig(layers=["relu2_1"], max_epochs=2),
        net,
        v1,
        tmp_path / "fn",
        fit=fit,
        progress=False,
    )
    assert fit == given, "the stage must not modify the fit settings it is given"
    _assert_same_files(by_command, tmp_path / "fn", (*TOP_FILES, "layer_relu2_1/fit/scores.csv"))
    recorded = json.loads((tmp_path / "fn" / "config.json").read_text())["fit"]
    assert (recorded["seed"], recorded["data"]["batch_size"]) == (5, 64)


@pytest.mark.parametrize(
    ("item", "key"),
    [
        ("max_epochs=many", "max_epochs"),
        ("readout=linear", "readout"),
        ("data.batch_size=big", "data.batch_size"),
    ],
)
def test_a_bad_set_value_is_a_one_line_error_naming_the_key(tmp_path, inputs, capsys, item, key):
    net, v1 = inputs
    argv = ["evaluate", "predictivity", str(net), "--neural", str(v1), "--out", str(tmp_path / "o")]
    assert main([*argv, "--set", item]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and f"field '{key}'" in err, err
    assert not (tmp_path / "o").exists()


def test_a_layer_whose_readout_fit_failed_is_never_the_best(tmp_path, inputs, monkeypatch, capsys):
    from v1mtl.neural_model import fit as fit_module

    net, v1 = inputs
    calls = []

    def first_layer_fails(history, peak, response):
        calls.append(1)
        return "made to fail" if len(calls) == 1 else None

    monkeypatch.setattr(fit_module, "fit_failure", first_layer_fails)
    fit = FitNeuralConfig()
    fit.training.retries = 0
    cfg = PredictivityConfig(layers=["relu2_1", "relu1_1"], max_epochs=1)
    summary = run_predictivity_stage(cfg, net, v1, tmp_path / "one", fit=fit, progress=False)
    by_layer = {r["layer"]: r for r in summary["layers"]}
    assert by_layer["relu2_1"]["status"] == "failed" and by_layer["relu2_1"]["failure"] == "made to fail"
    assert summary["status"] == "ok" and summary["best_layer"] == "relu1_1"
    assert summary["best"]["n_total"] == by_layer["relu1_1"]["n_total"] >= summary["best"]["n_used"]

    monkeypatch.setattr(fit_module, "fit_failure", lambda history, peak, response: "made to fail")
    summary = run_predictivity_stage(cfg, net, v1, tmp_path / "all", fit=fit, progress=False)
    assert summary["status"] == "failed" and "every layer's readout fit failed" in summary["failure"]
    capsys.readouterr()
    _command(
        net, v1, tmp_path / "cmd", "--layers", "relu2_1", "--max-epochs", "1", "--set", "training.retries=0"
    )
    text = capsys.readouterr().out
    assert "failed: every layer's readout fit failed" in text and "FEVE" not in text


def test_fresh_readouts_fit_on_the_trunk_of_a_network_behind_a_voneblock(tmp_path, inputs):
    _, v1 = inputs
    vone = ("model.front_end=vone", "model.vone.simple_channels=3", "model.vone.complex_channels=3")
    net = write_tiny_network(tmp_path / "vone", overrides=vone)
    cfg = PredictivityConfig(layers=["relu2_1"], max_epochs=1)
    summary = run_predictivity_stage(cfg, net, v1, tmp_path / "pred", progress=False)
    assert [r["layer"] for r in summary["layers"]] == ["relu2_1"]
    # the V1 model's trunk holds the trained network's filter bank, whatever its input size
    import torch

    fitted = torch.load(tmp_path / "pred" / "layer_relu2_1" / "fit" / "model.pt", weights_only=True)
    trained = torch.load(net / "best.pt", weights_only=True)
    key = "shared.0.block.weight"
    assert torch.equal(fitted["state_dict"][key], trained["state_dict"][key])
