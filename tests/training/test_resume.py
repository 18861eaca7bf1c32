"""Checkpoints: a killed run resumes to the same weights as an uninterrupted one; a finished run is left alone."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from train_fixtures import tiny_config, tiny_targets

from v1mtl.common.errors import InputError
from v1mtl.fitting.metrics_log import read_metrics
from v1mtl.training import trainer as trainer_module
from v1mtl.training.checkpoint import load_trained_network, read_checkpoint
from v1mtl.training.trainer import Trainer, train


def _weights(path):
    return read_checkpoint(path)["state_dict"]


SHORT_BUDGET_RECIPE = (
    "schedule.kind=onecycle",
    "optimizer.name=adamw",
    "optimizer.lr=0.003",
    "model.readout=factorized",
    "model.readout_output=linear",
    "neural.target_scaling=standardize",
    "neural.weighting=learned-neural",
)


@pytest.mark.parametrize("recipe", [(), SHORT_BUDGET_RECIPE], ids=["reference", "short-budget"])
def test_resume_after_kill_is_bit_identical(tmp_path, monkeypatch, recipe):
    cfg = tiny_config("mtl", "schedule.max_epochs=3", *recipe)
    targets = tiny_targets(cfg)
    monkeypatch.setattr(trainer_module, "prepare_targets", lambda *a: targets)

    full = train(cfg, tmp_path / "full")

    original = Trainer.train_epoch

    def killed_in_epoch_2(self, epoch):
        if epoch == 2:
            raise KeyboardInterrupt  # as if the process died mid-epoch
        return original(self, epoch)

    monkeypatch.setattr(Trainer, "train_epoch", killed_in_epoch_2)
    with pytest.raises(KeyboardInterrupt):
        train(cfg, tmp_path / "resumed")
    assert not (tmp_path / "resumed" / "final.json").exists()
    assert read_checkpoint(tmp_path / "resumed" / "last.pt")["epoch"] == 1
    monkeypatch.setattr(Trainer, "train_epoch", original)
    resumed = train(cfg, tmp_path / "resumed")

    for name in ("last.pt", "best.pt"):
        a, b = _weights(tmp_path / "full" / name), _weights(tmp_path / "resumed" / name)
        assert a.keys() == b.keys()
        for key in a:
            assert torch.equal(a[key], b[key]), f"{name}: {key} differs"
    assert {k: v for k, v in full.items() if k != "train_time_s"} == {
        k: v for k, v in resumed.items() if k != "train_time_s"
    }
    drop_time = lambda rs: [{k: v for k, v in r.items() if k != "epoch_time_s"} for r in rs]  # noqa: E731
    assert drop_time(read_metrics(tmp_path / "full")) == drop_time(read_metrics(tmp_path / "resumed"))
    assert [r["epoch"] for r in read_metrics(tmp_path / "resumed")] == [1, 2, 3]


# A training process that kills itself with SIGKILL at one point: nothing of Python's cleanup runs, as with
# kill -9. Arguments: the folder of train_fixtures, the kill point, the run folder.
KILLED_RUN = """
import os, signal, sys
from pathlib import Path

sys.path.insert(0, sys.argv[1])
import torch
from train_fixtures import tiny_config
from v1mtl.training import trainer

torch.set_num_threads(1)
point, out = sys.argv[2], Path(sys.argv[3])
die = lambda: os.kill(os.getpid(), signal.SIGKILL)
if point in ("last.pt", "final.json"):
    # written in full to its temporary, killed before the rename: the temporary is left behind
    rename = os.replace
    os.replace = lambda src, dst: die() if Path(dst).name == point else rename(src, dst)
else:
    train_epoch = trainer.Trainer.train_epoch
    trainer.Trainer.train_epoch = lambda self, epoch: die() if epoch == int(point) else train_epoch(self, epoch)
trainer.train(tiny_config("baseline", "schedule.max_epochs=3"), out)
"""


def _killed_run(point: str, out) -> None:
    proc = subprocess.run(
        [sys.executable, "-c", KILLED_RUN, str(Path(__file__).parent), point, str(out)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr[-2000:]


def _temporaries(folder) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def test_kill_9_at_three_points_resumes_bit_identical_and_leaves_no_temporaries(tmp_path):
    cfg = tiny_config("baseline", "schedule.max_epochs=3")
    full = train(cfg, tmp_path / "full")
    run = tmp_path / "killed"

    _killed_run("last.pt", run)  # while the first checkpoint is written
    assert not (run / "last.pt").exists() and [t.split(".")[1:3] for t in _temporaries(run)] == [
        ["last", "pt"]
    ]
    _killed_run("2", run)  # in the second epoch, after a restart from nothing
    assert read_checkpoint(run / "last.pt")["epoch"] == 1 and _temporaries(run) == []
    _killed_run("final.json", run)  # at the very end, resumed from epoch 1
    assert read_checkpoint(run / "last.pt")["epoch"] == 3 and not (run / "final.json").exists()
    assert [t.split(".")[1:3] for t in _temporaries(run)] == [["final", "json"]]
    resumed = train(cfg, run)

    assert _temporaries(run) == []
    for name in ("last.pt", "best.pt"):
        a, b = _weights(tmp_path / "full" / name), _weights(run / name)
        assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a), name
    assert {k: v for k, v in full.items() if k != "train_time_s"} == {
        k: v for k, v in resumed.items() if k != "train_time_s"
    }
    assert [r["epoch"] for r in read_metrics(run)] == [1, 2, 3]


def test_finished_run_does_nothing(tmp_path, capsys, monkeypatch):
    cfg = tiny_config("baseline", "schedule.max_epochs=1")
    result = train(cfg, tmp_path)
    stamp = {p.name: p.stat().st_mtime_ns for p in tmp_path.iterdir()}
    monkeypatch.setattr(Trainer, "__init__", lambda *a: pytest.fail("a finished run must not be rebuilt"))
    again = train(cfg, tmp_path)
    assert again == result
    assert "finished" in capsys.readouterr().out
    assert {p.name: p.stat().st_mtime_ns for p in tmp_path.iterdir()} == stamp

    final = json.loads((tmp_path / "final.json").read_text())
    net, loaded_cfg, extras = load_trained_network(tmp_path)
    assert loaded_cfg == cfg and extras["epoch"] == final["best_epoch"]
    assert net(torch.zeros(2, 1, 32, 32)).shape == (2, len(extras["class_names"]))


def test_different_config_in_same_folder_is_refused(tmp_path, monkeypatch):
    cfg = tiny_config("baseline", "schedule.max_epochs=2")
    original = Trainer.train_epoch

    def killed(self, epoch):
        if epoch == 2:
            raise KeyboardInterrupt
        return original(self, epoch)

    monkeypatch.setattr(Trainer, "train_epoch", killed)
    with pytest.raises(KeyboardInterrupt):
        train(cfg, tmp_path)
    with pytest.raises(InputError, match="different config.*seed"):
        train(tiny_config("baseline", "schedule.max_epochs=2", "seed=3"), tmp_path)
