"""``v1mtl evaluate robustness`` end to end on tiny checkpoints (built in code in the trainer's best.pt format)."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
import torch
from PIL import Image
from robustness_checkpoints import SIZE, builtin_run, make_run, private_cache, write_tinyimagenet  # noqa: F401

from v1mtl.cli import main
from v1mtl.data.images import load_classification
from v1mtl.training.checkpoint import load_trained_network

# The images are deliberately smaller than the presets are calibrated for.
pytestmark = pytest.mark.filterwarnings("ignore:preset .* is calibrated:UserWarning")


def _read(path):
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def _direct_clean_accuracy(run_dir, split):
    net, _, extras = load_trained_network(run_dir)
    norm = extras["normalization"]
    x = torch.from_numpy(np.asarray(split.images, dtype=np.float32) / 255).unsqueeze(1)
    with torch.no_grad():
        pred = net((x - norm["mean"]) / norm["std"]).argmax(1).numpy()
    return float((pred == split.labels).mean())


def test_on_the_fly_run_writes_everything_and_resumes(tmp_path, capsys):
    run = builtin_run(tmp_path)
    out = tmp_path / "eval"
    argv = ["evaluate", "robustness", str(run), "--out", str(out), "--table", "tiny-imagenet"]
    argv += ["--corruptions", "contrast", "gaussian_noise", "--severities", "1", "5", "--batch-size", "16"]
    assert main(argv) == 0
    rows = _read(out / "robustness.csv")
    assert [(r["corruption"], r["severity"]) for r in rows] == [
        ("clean", "0"),
        ("contrast", "1"),
        ("contrast", "5"),
        ("gaussian_noise", "1"),
        ("gaussian_noise", "5"),
    ]
    assert {r["model"] for r in rows} == {"run_a"} and {r["space"] for r in rows} == {"gray"}
    data = load_classification("builtin", size=SIZE, builtin_counts=[20, 10, 40])
    assert float(rows[0]["accuracy"]) == pytest.approx(_direct_clean_accuracy(run, data.test))
    protocol = json.loads((out / "protocol.json").read_text())
    assert protocol["protocol"]["preset"] == "tiny-imagenet" and protocol["checkpoints"]["run_a"].endswith(
        "best.pt"
    )
    for name in (
        "summary.csv",
        "corruption_scores.csv",
        "accuracy_vs_severity_on-the-fly_tiny-imagenet_gray.png",
    ):
        assert (out / name).is_file()
    assert "clean" in capsys.readouterr().out

    before = (out / "robustness.csv").read_text()
    assert main(argv) == 0  # everything is done: nothing recomputed, same table
    assert (out / "robustness.csv").read_text() == before


def test_sweep_with_a_reference_checkpoint_and_combined_plots(tmp_path):
    run_a, run_b = builtin_run(tmp_path, "run_a", seed=0), builtin_run(tmp_path, "run_b", seed=1)
    out = tmp_path / "sweep"
    argv = ["evaluate", "robustness", str(run_a), "--out", str(out), "--source", "gaussian-sweep"]
    assert main([*argv, "--stds", "0", "0.3", "--reference", str(run_b)]) == 0
    rows = _read(out / "robustness.csv")
    acc = {(r["model"], r["corruption"], r["severity"]): float(r["accuracy"]) for r in rows}
    for m in ("run_a", "run_b"):
        assert acc[(m, "gaussian_sweep", "0")] == acc[(m, "clean", "0")]
    summary = {r["model"]: r for r in _read(out / "summary.csv")}
    assert float(summary["run_b"]["mce"]) == pytest.approx(1.0)
    err = lambda m, c, s: 1 - acc[(m, c, s)]  # noqa: E731
    expected_mce = err("run_a", "gaussian_sweep", "0.3") / err("run_b", "gaussian_sweep", "0.3")
    assert float(summary["run_a"]["mce"]) == pytest.approx(expected_mce, abs=1e-5)

    # The same CSV used later as a --reference file gives the same number.
    again = tmp_path / "again"
    assert main([*argv[:2], "--plot", str(out / "robustness.csv"), "--out", str(again)]) == 0
    ref_out = tmp_path / "ref"
    assert (
        main(
            ["evaluate", "robustness", "--plot", str(out / "robustness.csv"), "--out", str(ref_out)]
            + ["--reference", str(out / "robustness.csv"), "--reference-model", "run_b"]
        )
        == 0
    )
    assert {r["model"]: r["mce"] for r in _read(ref_out / "summary.csv")} == {
        m: summary[m]["mce"] for m in ("run_a", "run_b")
    }
    with Image.open(again / "accuracy_vs_severity_gaussian-sweep_none_gray.png") as im:
        assert im.format == "PNG"


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ([], "--table"),
        (["--source", "pre-rendered", "--tinyimagenet-c", "x"], "TinyImageNet"),
        (["--source", "pre-rendered"], "--tinyimagenet-c"),
        (["--source", "gaussian-sweep", "--jpeg-roundtrip"], "jpeg"),
        (["--table", "tiny-imagenet", "--corruptions", "rain"], "rain"),
        (["--table", "nowhere"], "table"),
        (["--plot", "a.csv"], "not both"),
        (["--plot", "a.csv", "--print-config"], "--plot evaluates nothing"),
    ],
)
def test_bad_arguments_exit_2_with_one_line(tmp_path, capsys, extra, message):
    run = builtin_run(tmp_path)
    assert (
        main(["evaluate", "robustness", str(run), "--out", str(tmp_path / "o"), "--limit", "2", *extra]) == 2
    )
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_pre_rendered_and_rgb_on_the_fly_on_a_tinyimagenet_model(tmp_path):
    wnids = ["n01", "n02", "n03"]
    tin = write_tinyimagenet(tmp_path / "tin", wnids)
    data = load_classification(tin, size=SIZE)
    run = make_run(tmp_path / "tin_run", [f"data.source={tin}", f"data.image_size={SIZE}"], data.class_names)
    out = tmp_path / "pre"
    argv = ["evaluate", "robustness", str(run), "--out", str(out), "--source", "pre-rendered"]
    assert main([*argv, "--tinyimagenet-c", str(tmp_path / "tic"), "--corruptions", "all"]) == 0
    rows = _read(out / "robustness.csv")
    assert [(r["corruption"], r["severity"], r["n"]) for r in rows] == [
        ("clean", "0", "12"),
        ("contrast", "1", "9"),
        ("contrast", "2", "9"),
        ("fog", "1", "9"),
        ("fog", "2", "9"),
    ]
    assert {r["jpeg_roundtrip"] for r in rows} == {"true"}
    assert float(rows[0]["accuracy"]) == pytest.approx(_direct_clean_accuracy(run, data.test))

    rgb = tmp_path / "rgb"
    on_the_fly = ["evaluate", "robustness", str(run), "--out", str(rgb), "--table", "tiny-imagenet"]
    assert main([*on_the_fly, "--corruptions", "fog", "--severities", "3", "--jpeg-roundtrip"]) == 0
    rows = _read(rgb / "robustness.csv")
    assert {(r["space"], r["jpeg_roundtrip"]) for r in rows} == {("rgb", "true")}

    # The Tiny-ImageNet-C classes must be the network's: a folder with a foreign class is refused.
    (tmp_path / "tic" / "fog" / "1" / "n99").mkdir()
    assert main([*argv, "--tinyimagenet-c", str(tmp_path / "tic"), "--out", str(tmp_path / "x")]) == 2
