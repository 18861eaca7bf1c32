"""``v1mtl train``: config layering on the command line, errors as one line, rerun of a finished run."""

from __future__ import annotations

import json

import pytest
import torch

from v1mtl.cli import main

TINY = [
    "data.image_size=32",
    "data.builtin_counts=[192,64,64]",
    "data.batch_size=64",
    "model.arch=vgg11",
    "model.width=0.0625",
    "model.hidden=16",
    "optimizer.lr=0.02",
    "schedule.max_epochs=1",
    "logging.tensorboard=false",
    "logging.progress=false",
]


@pytest.fixture(autouse=True)
def _env(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("V1MTL_CACHE", str(tmp_path_factory.getbasetemp() / "v1mtl-cache"))
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def test_train_command_runs_and_reruns(tmp_path, capsys):
    user = tmp_path / "cfg.yaml"
    user.write_text("seed: 5\nschedule:\n  patience: 7\n")
    args = ["train", str(user), "--preset", "quick", "--out", str(tmp_path / "run"), "--device", "cpu"]
    args += [a for s in TINY for a in ("--set", s)]
    assert main(args) == 0
    saved = (tmp_path / "run" / "config.yaml").read_text()
    assert "seed: 5" in saved and "patience: 7" in saved and "kind: onecycle" in saved  # user + preset
    assert json.loads((tmp_path / "run" / "final.json").read_text())["epochs_trained"] == 1
    capsys.readouterr()
    assert main(args) == 0
    assert "finished" in capsys.readouterr().out


def test_bad_key_is_one_line_error(tmp_path, capsys):
    code = main(["train", "--out", str(tmp_path), "--set", "schedule.patiense=3"])
    err = capsys.readouterr().err
    assert code == 2 and "schedule.patiense" in err and "--set" in err and len(err.strip().splitlines()) == 1
    code = main(["train", "--out", str(tmp_path), "--set", "condition=mtl"])
    assert code == 2 and "neural.targets" in capsys.readouterr().err
