"""``v1mtl fit-neural`` on the command line: config layers, outputs, errors."""

from __future__ import annotations

import json

import pytest
import yaml

from v1mtl.cli import main
from v1mtl.simulator.simulate import SimulationConfig, simulate_to_folder

TINY = [
    "--set",
    "model.arch=vgg11",
    "--set",
    "model.width=0.125",
    "--set",
    "model.shared_layer=relu2_1",
    "--set",
    "data.batch_size=32",
    "--set",
    "training.max_epochs=4",
    "--set",
    # fewer epochs, or the default 5e-4, end below the untrained readout's validation correlation on this
    # tiny dataset, which fit_health counts as a failed fit
    "training.lr=0.005",
    "--set",
    "progress=false",
]


@pytest.fixture(scope="module")
def sim(tmp_path_factory):
    folder = tmp_path_factory.mktemp("sim") / "tiny"
    cfg = SimulationConfig(neurons=4, sessions=2, images=96, test_images=8, repeats=3, image_size=16, seed=2)
    simulate_to_folder(cfg, folder, progress=False)
    return folder


def test_fit_neural_runs_and_reports(sim, tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["fit-neural", "--out", str(out), "--data", str(sim), *TINY]) == 0
    text = capsys.readouterr().out
    assert "FEVE" in text and "noise ceiling" in text
    cfg = yaml.safe_load((out / "config.yaml").read_text())
    assert cfg["model"]["shared_layer"] == "relu2_1" and cfg["training"]["max_epochs"] == 4
    assert cfg["data"]["path"] == str(sim)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["n_neurons"] == 8 and summary["epochs"] == 4 and summary["status"] == "ok"
    assert f"over {summary['n_used']} of 8 neurons" in text


def test_a_failed_fit_prints_failed_and_no_score(sim, tmp_path, capsys, monkeypatch):
    from v1mtl.neural_model import fit as fit_module

    monkeypatch.setattr(fit_module, "fit_failure", lambda history, peak, response: "made to fail")
    out = tmp_path / "run"
    assert main(["fit-neural", "--out", str(out), "--data", str(sim), *TINY]) == 0
    text = capsys.readouterr().out
    assert "failed after 2 attempts: made to fail" in text and "FEVE" not in text
    assert json.loads((out / "summary.json").read_text())["status"] == "failed"


def test_unknown_key_names_the_key(sim, tmp_path, capsys):
    code = main(["fit-neural", "--out", str(tmp_path / "r"), "--data", str(sim), "--set", "training.lrr=1"])
    assert code == 2
    assert "training.lrr" in capsys.readouterr().err


def test_config_file_and_wrong_type(sim, tmp_path, capsys):
    cfg = tmp_path / "fit.yaml"
    cfg.write_text("training:\n  max_epochs: many\n")
    assert main(["fit-neural", str(cfg), "--out", str(tmp_path / "r"), "--data", str(sim)]) == 2
    err = capsys.readouterr().err
    assert "fit.yaml" in err and "training.max_epochs" in err


def test_missing_data_is_an_error(tmp_path, capsys):
    assert main(["fit-neural", "--out", str(tmp_path / "r")]) == 2
    assert "data.path" in capsys.readouterr().err


def test_float_stimuli_outside_the_unit_range_are_refused(sim, tmp_path, capsys):
    # 0-255 floats would be z-scored with [0, 1] statistics and reach the network hundreds of times too large
    from v1mtl.data.neural import read_v1
    from v1mtl.data.neural.native import write_native

    dataset = read_v1(sim)
    dataset.images = dataset.images.astype("float32")  # uint8 values kept: 0 to 255
    write_native(dataset, tmp_path / "floats")
    assert main(["fit-neural", "--out", str(tmp_path / "r"), "--data", str(tmp_path / "floats"), *TINY]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and str(tmp_path / "floats") in err and "field 'images'" in err
    assert "[0, 1]" in err
