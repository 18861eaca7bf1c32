"""Early stopping with restore-best rounds, as a resumable state machine.

Semantics of the reference (sinzlab/neural_cotraining ``trainer/early_stopping.py`` with
``lr_decay_steps`` rounds, ``restore_best=True``):

- the score is evaluated once before training; it and the initial weights are the first "best";
- an epoch improves when ``score > best + threshold`` (absolute threshold, maximized score);
- the patience counter starts each round at 0, is set to -1 on an improvement and grows by 1 on every other
  epoch; the round ends when it reaches ``patience``, i.e. after ``patience + 1`` non-improving epochs
  following an improvement (``patience`` if the round never improved);
- at the end of a round the best weights are restored (weights only: optimizer, LR schedule and loss
  weights go on) and the next round starts; after ``rounds`` rounds, or at ``max_epochs``, training ends
  and the best weights are restored.

The learning rate is not changed here: ReduceLROnPlateau, stepped on the same score just before, owns it.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Literal

Decision = Literal["continue", "restore", "stop"]


@dataclass
class EarlyStopping:
    """State of early stopping; ``update`` once per epoch after validation.

    Attributes:
        patience, threshold, rounds, max_epochs: the settings.
        best_score: the best score so far (the score before training at first).
        best_epoch: epoch of ``best_score`` (0 = before training).
        counter: the patience counter of the current round.
        round: the current round, 0-based.
        epoch: epochs seen.
        finished: True once training should end.
        initial_score: the score before training (None until ``start``).
    """

    patience: int
    threshold: float
    rounds: int
    max_epochs: int
    best_score: float = -math.inf
    best_epoch: int = 0
    counter: int = 0
    round: int = 0
    epoch: int = 0
    finished: bool = False
    initial_score: float | None = None

    def start(self, initial_score: float) -> None:
        """Record the score of the untrained network (epoch 0)."""
        self.best_score = float(initial_score)
        self.best_epoch = 0
        self.initial_score = float(initial_score)

    def update(self, score: float) -> tuple[bool, Decision]:
        """Account for the score of the epoch just trained.

        Returns ``(improved, decision)``: ``improved`` means the caller saves these weights as the best;
        ``"restore"`` means load the best weights and go on (a round ended); ``"stop"`` means load the best
        weights and end training.
        """
        if self.finished:
            raise RuntimeError("early stopping already finished")
        self.epoch += 1
        if not math.isfinite(score):
            self.finished = True
            return False, "stop"
        improved = score > self.best_score + self.threshold
        if improved:
            self.best_score = float(score)
            self.best_epoch = self.epoch
            self.counter = -1
        else:
            self.counter += 1
        decision: Decision = "continue"
        if self.counter >= self.patience:
            self.round += 1
            self.counter = 0
            decision = "restore"
            if self.round >= self.rounds:
                decision = "stop"
        if self.epoch >= self.max_epochs:
            decision = "stop"
        self.finished = decision == "stop"
        return improved, decision

    def state_dict(self) -> dict:
        return asdict(self)

    def load_state_dict(self, state: dict) -> None:
        for key, value in state.items():
            setattr(self, key, value)
