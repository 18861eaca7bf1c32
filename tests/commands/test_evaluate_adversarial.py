"""``v1mtl evaluate adversarial`` end to end on a tiny checkpoint (built in code in the trainer's best.pt format)."""

from __future__ import annotations

import csv
import json

import pytest
from robustness_checkpoints import builtin_run, private_cache  # noqa: F401

from v1mtl.cli import main
from v1mtl.fitting import load_checkpoint, save_checkpoint


def _sharp_run(tmp_path):
    """A tiny run whose logits depend on the image. The untrained network's first hidden unit is negative on
    these images (a dead ReLU) and its second has a weight near zero, which makes every logit equal and every
    gradient vanish (what the masking check flags); flipping the one and scaling the other revives them."""
    run = builtin_run(tmp_path)
    payload = load_checkpoint(run / "best.pt")
    state = payload["state_dict"]
    state["classifier.0.weight"] = -state["classifier.0.weight"]
    state["classifier.3.weight"] = state["classifier.3.weight"].abs() * 100
    save_checkpoint(run / "best.pt", payload)
    return run


def _read(path):
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def _argv(run, out, *extra):
    return ["evaluate", "adversarial", str(run), "--out", str(out), "--limit", "6", "--steps", "5", *extra]


def test_writes_the_tidy_csv_and_the_summary_and_repeats_itself(tmp_path, capsys):
    run = _sharp_run(tmp_path)
    out = tmp_path / "adv"
    argv = _argv(run, out, "--linf-eps", "0", "0.5", "--l2-eps", "0", "20", "--batch-size", "4")
    assert main(argv) == 0
    rows = _read(out / "adversarial.csv")
    assert list(rows[0]) == [
        "model",
        "norm",
        "eps",
        "n",
        "correct",
        "accuracy",
        "mean_loss_start",
        "mean_loss_end",
    ]
    assert [(r["model"], r["norm"], float(r["eps"]), r["n"]) for r in rows] == [
        ("run_a", "linf", 0.0, "6"),
        ("run_a", "linf", 0.5, "6"),
        ("run_a", "l2", 0.0, "6"),
        ("run_a", "l2", 20.0, "6"),
    ]
    # a huge budget breaks every image of an untrained network; the clean rows are the clean accuracy
    assert rows[1]["accuracy"] == rows[3]["accuracy"] == "0.0" and rows[0]["accuracy"] == rows[2]["accuracy"]
    assert float(rows[1]["mean_loss_end"]) > float(rows[1]["mean_loss_start"])
    summary = json.loads((out / "adversarial.json").read_text())
    assert summary["settings"]["steps"] == 5 and summary["checkpoint"].endswith("best.pt")
    assert summary["suspect_gradient_masking"] is False and summary["gradient_masking_reasons"] == []
    assert "wrote" in capsys.readouterr().out
    first = (out / "adversarial.csv").read_text()
    assert main(argv) == 0
    assert (out / "adversarial.csv").read_text() == first


def test_a_network_without_gradients_is_flagged_as_suspect(tmp_path, capsys):
    run = builtin_run(tmp_path)  # every logit equal: the attack cannot raise the loss
    out = tmp_path / "adv"
    assert main(_argv(run, out, "--norms", "linf", "--linf-eps", "0", "0.5")) == 0
    summary = json.loads((out / "adversarial.json").read_text())
    assert summary["suspect_gradient_masking"] is True
    assert any("did not raise the loss" in r for r in summary["gradient_masking_reasons"])
    assert "suspected gradient masking" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--linf-eps", "0", "2"], "linf_eps"),
        (["--linf-eps", "x"], "--linf_eps: field 'linf_eps': expected a number, got 'x'"),
        (["--steps", "0"], "steps"),
        (["--set", "norms=[]"], "field 'norms': give at least one norm"),
        (["--set", "l2_eps=[]"], "field 'l2_eps': norm l2 is asked for but has no budgets"),
    ],
)
def test_bad_settings_are_one_line_input_errors(tmp_path, capsys, extra, message):
    run = builtin_run(tmp_path)
    assert main(_argv(run, tmp_path / "o", *extra)) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and "\n" not in err
    assert not (tmp_path / "o").exists()


def test_a_missing_checkpoint_names_the_file(tmp_path, capsys):
    assert main(_argv(tmp_path / "nowhere", tmp_path / "o")) == 2
    assert "nowhere" in capsys.readouterr().err
