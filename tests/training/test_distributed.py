"""DDP: ``torchrun`` with gloo and two CPU processes trains an mtl run end to end (both tasks sharded)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import torch
from train_fixtures import TINY, tiny_config, tiny_targets

from v1mtl.data.neural import write_native
from v1mtl.training.checkpoint import read_checkpoint


@pytest.mark.slow
def test_torchrun_two_processes(tmp_path):
    cfg = tiny_config("mtl")
    write_native(tiny_targets(cfg), tmp_path / "targets")
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    common = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2"]
    common += ["-m", "v1mtl.cli", "train"]
    sets = [a for s in [*TINY, "schedule.max_epochs=2"] for a in ("--set", s)]
    extra = ["--set", "condition=mtl", "--set", f"neural.targets={tmp_path / 'targets'}"]
    out = tmp_path / "run"
    proc = subprocess.run(
        [*common, *sets, *extra, "--out", str(out)], env=env, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    final = json.loads((out / "final.json").read_text())
    assert final["epochs_trained"] == 2 and final["test_images"] == 64  # each test image counted once
    # Only rank 0 writes: one line per epoch, one checkpoint.
    assert len((out / "metrics.jsonl").read_text().splitlines()) == 2
    assert not list(out.glob(".*.tmp"))
    state = read_checkpoint(out / "last.pt")
    assert all(torch.isfinite(v).all() for v in state["state_dict"].values() if v.is_floating_point())
    weights = state["loss_weights"]
    assert set(weights) == {"classification.log_weight", "neural.log_weight"}
    assert all(float(v) != 0.0 for v in weights.values())  # the learned weights were trained
