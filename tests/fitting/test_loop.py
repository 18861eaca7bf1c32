"""The shared end-of-epoch loop: best snapshots, restores at the end of a round, the plateau schedule."""

import math

import torch

from v1mtl.fitting import EarlyStopping, RestoreBestLoop


def _loop(weights: dict, *, patience=1, rounds=2, max_epochs=10, plateau=None):
    stopper = EarlyStopping(patience=patience, threshold=0.0, rounds=rounds, max_epochs=max_epochs)
    return RestoreBestLoop(
        stopper,
        snapshot=lambda: {"w": weights["w"]},
        restore=lambda best: weights.update(w=best["w"].clone()),
        plateau=plateau,
    )


def test_best_is_a_copy_and_comes_back_when_a_round_ends():
    weights = {"w": torch.zeros(2)}
    loop = _loop(weights)
    loop.start(0.0)
    weights["w"] += 1  # trained in place: the snapshot must not follow
    assert loop.end_epoch(0.5) == (True, "continue")
    weights["w"] += 1
    assert loop.end_epoch(0.4) == (False, "continue")
    weights["w"] += 1
    assert loop.end_epoch(0.3) == (False, "restore")  # patience 1: the round ends after two flat epochs
    assert torch.equal(weights["w"], torch.ones(2))
    assert not loop.finished


def test_a_stop_by_max_epochs_alone_keeps_the_last_weights_until_finish():
    weights = {"w": torch.zeros(1)}
    loop = _loop(weights, patience=5, max_epochs=2)
    loop.start(0.0)
    weights["w"] += 1
    loop.end_epoch(0.5)
    weights["w"] += 1
    assert loop.end_epoch(0.1) == (False, "stop")
    assert loop.finished and weights["w"].item() == 2.0  # a longer continued run goes on from here
    loop.finish()
    assert weights["w"].item() == 1.0


def test_plateau_sees_a_diverged_score_as_the_worst_and_state_round_trips():
    param = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([param], lr=1.0)
    plateau = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, mode="max", patience=0, factor=0.5)
    weights = {"w": torch.zeros(1)}
    loop = _loop(weights, plateau=plateau)
    loop.start(0.0)
    loop.end_epoch(1.0)
    improved, decision = loop.end_epoch(math.nan)
    assert (improved, decision) == (False, "stop")
    assert opt.param_groups[0]["lr"] == 0.5  # -inf is no improvement on 1.0
    again = _loop({"w": torch.zeros(1)})
    again.load_state_dict(loop.state_dict())
    assert again.finished and again.stopper.best_score == 1.0 and torch.equal(again.best["w"], loop.best["w"])
