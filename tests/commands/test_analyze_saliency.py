import csv

import h5py
import numpy as np
from analysis_fixtures import one_thread, write_tiny_images, write_tiny_network  # noqa: F401

from v1mtl.cli import main


def _rows(path):
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def test_saliency_command_with_the_builtin_model_and_with_a_user_file(tmp_path, capsys):
    a = write_tiny_network(tmp_path / "baseline", seed=0)
    b = write_tiny_network(tmp_path / "mtl", seed=1)
    images = write_tiny_images(tmp_path / "images.npz", n=3)
    common = [
        "--images",
        str(images),
        "--n-probes",
        "2",
        "--steps",
        "10",
        "--n-boot",
        "50",
        "--layer",
        "relu2_1",
    ]
    out = tmp_path / "builtin"
    assert main(["analyze", "saliency", str(a), str(b), *common, "--out", str(out)]) == 0
    rows = _rows(out / "per_image.csv")
    assert len(rows) == 2 * 2 * 3
    assert {r["method"] for r in rows} == {"jacobian", "reconstruction"}
    for r in rows:
        assert 0.0 <= float(r["auc"]) <= 1.0
    summary = _rows(out / "summary.csv")
    assert {(s["model"], s["score"]) for s in summary} >= {("baseline", "nss"), ("mtl", "auc")}
    for name in ("comparisons.csv", "examples.png", "scores.png", "protocol.md", "config.json"):
        assert (out / name).stat().st_size > 0
    assert "Hou & Zhang" in (out / "protocol.md").read_text()

    # a user file keyed by image id, at another resolution; a map centred on one spot
    y, x = np.mgrid[:64, :64]
    spot = np.exp(-((y - 20) ** 2 + (x - 40) ** 2) / 50.0)
    with h5py.File(tmp_path / "maps.h5", "w") as f:
        for i in range(3):
            f[f"img{i}"] = spot
    out2 = tmp_path / "file"
    argv = [
        "analyze",
        "saliency",
        str(a),
        *common,
        "--methods",
        "jacobian",
        "--saliency-maps",
        str(tmp_path / "maps.h5"),
    ]
    assert main([*argv, "--out", str(out2)]) == 0
    assert len(_rows(out2 / "per_image.csv")) == 3
    assert "NSS" in capsys.readouterr().out


def test_saliency_command_names_a_missing_image_id(tmp_path, capsys):
    a = write_tiny_network(tmp_path / "net")
    images = write_tiny_images(tmp_path / "images.npz", n=2)
    np.savez(tmp_path / "maps.npz", img0=np.ones((8, 8)))
    argv = [
        "analyze",
        "saliency",
        str(a),
        "--images",
        str(images),
        "--saliency-maps",
        str(tmp_path / "maps.npz"),
    ]
    assert main([*argv, "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "maps.npz" in err and "img1" in err
