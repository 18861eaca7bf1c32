"""Task interleaving: the pure schedule and the trace of the real training loop."""

from __future__ import annotations

import pytest
from train_fixtures import tiny_config, tiny_targets

from v1mtl.training import trainer as trainer_module
from v1mtl.training.distributed import DistInfo
from v1mtl.training.schedule import interleave, neural_batches_before


@pytest.mark.parametrize("ratio", [1, 2, 3, 0.5, 0.25, 1.5, 0.1])
def test_neural_batches_total(ratio):
    n = 40
    counts = [neural_batches_before(i, ratio) for i in range(n)]
    assert sum(counts) == int(n * ratio + 1e-9)
    assert max(counts) - min(counts) <= 1  # spread evenly


def test_round_robin_across_steps():
    steps = list(interleave(3, ["a", "b"], 1))
    assert [s.neural_sessions for s in steps] == [("a",), ("b",), ("a",)]
    steps = list(interleave(2, ["a", "b", "c"], 2))
    assert [s.neural_sessions for s in steps] == [("a", "b"), ("c", "a")]
    assert [s.neural_sessions for s in interleave(2, [], 2)] == [(), ()]


@pytest.mark.parametrize("ratio", [1, 2])
def test_training_loop_trace(tmp_path, monkeypatch, ratio):
    """Neural batches first, backward after every batch, one optimizer step after the classification batch."""
    cfg = tiny_config("mtl", f"neural.ratio={ratio}")
    targets = tiny_targets(cfg, sessions=2)
    monkeypatch.setattr(trainer_module, "prepare_targets", lambda *a: targets)
    t = trainer_module.Trainer(cfg, tmp_path, DistInfo())
    trace: list[str] = []
    forward = t.objective.forward

    def recording_forward(x, target, task, session=None, mask=None):
        loss, raw, out = forward(x, target, task, session, mask)
        trace.append(task if session is None else f"{task}:{session}")
        loss.register_hook(lambda g: trace.append("backward"))
        return loss, raw, out

    step = t.optimizer.step

    def recording_step(*a, **k):
        trace.append("step")
        return step(*a, **k)

    monkeypatch.setattr(t.objective, "forward", recording_forward)
    monkeypatch.setattr(t.model, "forward", recording_forward)
    monkeypatch.setattr(t.optimizer, "step", recording_step)
    t.train_epoch(1)
    n_steps = -(-len(t.data.train) // cfg.data.batch_size)
    sessions = iter(["s0", "s1"] * (ratio * n_steps))
    expected = []
    for _ in range(n_steps):
        for _ in range(ratio):
            expected += [f"neural:{next(sessions)}", "backward"]
        expected += ["classification", "backward", "step"]
    assert trace == expected
