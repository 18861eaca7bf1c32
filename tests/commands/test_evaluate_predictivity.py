import csv
import json

import pytest
import torch
from analysis_fixtures import one_thread, write_tiny_network, write_tiny_v1  # noqa: F401

from v1mtl.cli import main
from v1mtl.data.neural import read_v1


def _rows(path):
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def v1_folder(tmp_path_factory):
    return write_tiny_v1(tmp_path_factory.mktemp("v1") / "sim")


def test_ridge_layer_sweep_records_layer_and_resolution(tmp_path, v1_folder, capsys):
    net = write_tiny_network(tmp_path / "baseline")
    out = tmp_path / "pred"
    argv = ["evaluate", "predictivity", str(net), "--neural", str(v1_folder), "--out", str(out)]
    assert main([*argv, "--readout", "ridge", "--layers", "relu1_1", "relu2_1", "8", "--no-progress"]) == 0
    rows = _rows(out / "scores.csv")
    assert len(rows) == 3 * 12
    assert {r["layer"] for r in rows} == {"relu1_1", "relu2_1", "pool2"}
    assert {r["layer_index"] for r in rows} == {"3", "7", "8"}
    ppd = read_v1(v1_folder).pixels_per_degree
    assert ppd is not None
    assert {float(r["pixels_per_degree"]) for r in rows} == {ppd}
    assert {r["model"] for r in rows} == {"baseline"}
    summary = json.loads((out / "summary.json").read_text())
    best = max(summary["layers"], key=lambda r: r["val_corr"])
    assert summary["best_layer"] == best["layer"]
    for name in ("layers.csv", "layer_sweep.png", "protocol.md", "config.json"):
        assert (out / name).stat().st_size > 0
    assert "best layer" in capsys.readouterr().out


def test_gaussian_readouts_leave_the_frozen_trunk_untouched(tmp_path, v1_folder):
    net = write_tiny_network(tmp_path / "baseline")
    out = tmp_path / "pred"
    argv = ["evaluate", "predictivity", str(net), "--neural", str(v1_folder), "--out", str(out)]
    assert (
        main(
            [
                *argv,
                "--layers",
                "relu2_1",
                "--max-epochs",
                "2",
                "--set",
                "data.batch_size=64",
                "--no-progress",
            ]
        )
        == 0
    )
    rows = _rows(out / "scores.csv")
    assert len(rows) == 12 and {r["layer"] for r in rows} == {"relu2_1"}
    assert {"test_corr", "corr_to_average", "feve", "pixels_per_degree"} <= set(rows[0])
    original = torch.load(net / "best.pt", weights_only=True)["state_dict"]
    fitted = torch.load(out / "layer_relu2_1" / "fit" / "model.pt", weights_only=True)["state_dict"]
    trunk = {k: v for k, v in fitted.items() if k.startswith("shared.")}
    assert any("running_mean" in k for k in trunk)
    for key, value in trunk.items():
        torch.testing.assert_close(value, original[key], msg=key)
    # the fit used the network's own input normalization
    config = json.loads((out / "config.json").read_text())
    assert config["fit"]["data"]["mean"] is None
    assert config["input_normalization"] == {"mean": 0.45, "std": 0.22}


def test_unknown_layer_is_an_input_error(tmp_path, v1_folder, capsys):
    net = write_tiny_network(tmp_path / "baseline")
    argv = ["evaluate", "predictivity", str(net), "--neural", str(v1_folder), "--out", str(tmp_path / "o")]
    assert main([*argv, "--layers", "relu7_7"]) == 2
    assert "relu7_7" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        ([], 3),  # the fit file's limit, as before the command had --config
        (["--set", "training.max_epochs=4"], 4),
        (["--config", "pred.yaml"], 5),
        (["--config", "pred.yaml", "--set", "max_epochs=6"], 6),
        (["--config", "pred.yaml", "--set", "max_epochs=6", "--max-epochs", "7"], 7),
    ],
)
def test_epoch_limit_precedence(tmp_path, v1_folder, flags, expected):
    net = write_tiny_network(tmp_path / "baseline")
    (tmp_path / "fit.yaml").write_text("training:\n  max_epochs: 3\n")
    (tmp_path / "pred.yaml").write_text("max_epochs: 5\n")
    out = tmp_path / "pred"
    argv = [
        "evaluate",
        "predictivity",
        str(net),
        "--neural",
        str(v1_folder),
        "--out",
        str(out),
        "--no-progress",
    ]
    fit = ["--readout", "ridge", "--layers", "relu1_1", "--fit-config", str(tmp_path / "fit.yaml")]
    assert main([*argv, *fit, *[f.replace("pred.yaml", str(tmp_path / "pred.yaml")) for f in flags]]) == 0
    assert json.loads((out / "config.json").read_text())["fit"]["training"]["max_epochs"] == expected
