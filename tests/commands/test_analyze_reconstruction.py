import csv
import json

import pytest
from analysis_fixtures import one_thread, write_tiny_images, write_tiny_network  # noqa: F401

from v1mtl.cli import main


def _rows(path):
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def test_reconstruction_command_on_two_tiny_networks(tmp_path, capsys):
    a = write_tiny_network(tmp_path / "baseline", seed=0)
    b = write_tiny_network(tmp_path / "mtl", seed=1)
    images = write_tiny_images(tmp_path / "images.npz")
    out = tmp_path / "out"
    argv = [
        "analyze", "reconstruction", str(a), str(b), "--images", str(images), "--n-images", "3",
        "--budgets", "5", "20", "--noise-stds", "0.2", "--steps", "15", "--layer", "relu2_1",
        "--n-boot", "50", "--out", str(out),
    ]  # fmt: skip
    assert main(argv) == 0
    rows = _rows(out / "per_image.csv")
    assert len(rows) == 2 * 2 * 3
    assert {r["model"] for r in rows} == {"baseline", "mtl"}
    assert {r["layer"] for r in rows} == {"relu2_1"}
    for r in rows:
        assert 0.0 <= float(r["content_fraction"]) <= 1.0
    comparisons = _rows(out / "comparisons.csv")
    assert {c["reference"] for c in comparisons} == {"baseline"}
    for name in ("summary.csv", "examples.png", "content_gain.png", "content_fraction.png", "protocol.md"):
        assert (out / name).stat().st_size > 0
    config = json.loads((out / "config.json").read_text())
    assert config["settings"]["budgets"] == [5.0, 20.0]
    assert "content fraction" in (out / "protocol.md").read_text()
    # same seeds, same numbers
    out2 = tmp_path / "again"
    assert main([*argv[:-1], str(out2)]) == 0
    assert _rows(out2 / "per_image.csv") == rows
    assert "content gain" in capsys.readouterr().out


def test_reconstruction_command_rejects_a_layer_beyond_the_trunk(tmp_path, capsys):
    a = write_tiny_network(tmp_path / "net")
    code = main(["analyze", "reconstruction", str(a), "--layer", "relu9_9", "--out", str(tmp_path / "o")])
    assert code == 2
    assert "relu9_9" in capsys.readouterr().err


def test_reconstruction_command_rejects_a_missing_checkpoint(tmp_path, capsys):
    assert main(["analyze", "reconstruction", str(tmp_path / "nothing"), "--out", str(tmp_path / "o")]) == 2
    assert "nothing" in capsys.readouterr().err


@pytest.mark.parametrize("steps", ["0"])
def test_reconstruction_command_rejects_bad_settings(tmp_path, capsys, steps):
    a = write_tiny_network(tmp_path / "net")
    assert main(["analyze", "reconstruction", str(a), "--steps", steps, "--out", str(tmp_path / "o")]) == 2
    assert "steps" in capsys.readouterr().err
