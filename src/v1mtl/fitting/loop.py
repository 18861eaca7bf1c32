"""The bookkeeping every fit shares between its epochs: plateau schedule, early stopping, restore-best rounds.

The V1 model fit (``v1mtl.neural_model.fit``) and the co-training run (``v1mtl.training.trainer``) train
differently inside an epoch but end each epoch the same way, as the reference's trainers do
(sinzlab/neural_cotraining ``trainer/trainer.py`` with ``trainer/early_stopping.py``): step
ReduceLROnPlateau on the validation score, account for the score in early stopping, keep a copy of the
weights when the score improved, and put the best weights back when a round of patience ends. Both resume
from a checkpoint that holds this loop's state.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable
from typing import Any

import torch

from v1mtl.fitting.early_stopping import Decision, EarlyStopping

Snapshot = dict[str, Any]


class RestoreBestLoop:
    """Early stopping with restore-best rounds over the state ``snapshot`` returns.

    Args:
        stopper: the early-stopping state machine (its settings are the fit's).
        snapshot: returns the state to keep as "best" (network weights, learned loss weights, ...); it is
            deep-copied, so it may return live ``state_dict()`` views.
        restore: puts a snapshot back.
        plateau: a ReduceLROnPlateau stepped on each epoch's score before early stopping sees it, or None
            when the learning rate follows another schedule.
    """

    def __init__(
        self,
        stopper: EarlyStopping,
        snapshot: Callable[[], Snapshot],
        restore: Callable[[Snapshot], None],
        plateau: torch.optim.lr_scheduler.ReduceLROnPlateau | None = None,
    ):
        self.stopper = stopper
        self.plateau = plateau
        self._snapshot = snapshot
        self._restore = restore
        self.best: Snapshot = {}

    @property
    def finished(self) -> bool:
        return self.stopper.finished

    def start(self, initial_score: float) -> None:
        """Before the first epoch: the untrained network's score and weights are the first best."""
        self.stopper.start(initial_score)
        self.best = copy.deepcopy(self._snapshot())

    def end_epoch(self, score: float) -> tuple[bool, Decision]:
        """Account for the validation score of the epoch just trained; returns ``(improved, decision)``."""
        if self.plateau is not None:
            # a diverged run (NaN score) must not look like a plateau of a good one
            self.plateau.step(score if math.isfinite(score) else -math.inf)
        round_before = self.stopper.round
        improved, decision = self.stopper.update(score)
        if improved:
            self.best = copy.deepcopy(self._snapshot())
        if self.stopper.round > round_before:
            # A round ended: go on from the best weights. Not on a stop by max_epochs alone, so that a run
            # continued with a larger max_epochs matches an uninterrupted one; ``finish`` restores then.
            self._restore(self.best)
        return improved, decision

    def finish(self) -> None:
        """After the last epoch: the best weights are the result."""
        self._restore(self.best)

    def state_dict(self) -> dict[str, Any]:
        return {"stopper": self.stopper.state_dict(), "best": self.best}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.stopper.load_state_dict(state["stopper"])
        self.best = state["best"]
