"""The optimizer and learning-rate schedule of a co-training run, from its config.

``plateau`` (the reference, sinzlab/neural_cotraining ``trainer.py prepare_lr_schedule``; docs/training.md):
ReduceLROnPlateau on the validation accuracy, stepped once per epoch, with early stopping in restore-best
rounds. ``onecycle``: ``OneCycleLR`` over all steps of ``max_epochs`` epochs, stepped after every optimizer
step; early stopping then only keeps the best validation epoch (it never ends a run early).
"""

from __future__ import annotations

from collections.abc import Iterable

import torch

from v1mtl.fitting import EarlyStopping
from v1mtl.training.config import TrainConfig


def build_optimizer(params: Iterable[torch.nn.Parameter], cfg: TrainConfig) -> torch.optim.Optimizer:
    """SGD with momentum (the reference) or AdamW, over ``params`` (network and learned loss weights)."""
    o = cfg.optimizer
    if o.name == "adamw":
        return torch.optim.AdamW(params, lr=o.lr, weight_decay=o.weight_decay)
    return torch.optim.SGD(params, lr=o.lr, momentum=o.momentum, weight_decay=o.weight_decay)


def build_scheduler(
    optimizer: torch.optim.Optimizer, cfg: TrainConfig, steps_per_epoch: int
) -> torch.optim.lr_scheduler.LRScheduler | torch.optim.lr_scheduler.ReduceLROnPlateau:
    """The run's LR schedule; ``steps_per_epoch`` sizes the one-cycle schedule."""
    s = cfg.schedule
    if s.kind == "onecycle":
        # OneCycleLR overwrites momentum/betas unless told not to; the optimizer's own stay in force.
        return torch.optim.lr_scheduler.OneCycleLR(
            optimizer,
            max_lr=cfg.optimizer.lr,
            total_steps=max(1, steps_per_epoch * s.max_epochs),
            pct_start=s.warmup_fraction,
            anneal_strategy="cos",
            cycle_momentum=False,
        )
    return torch.optim.lr_scheduler.ReduceLROnPlateau(
        optimizer,
        mode="max",
        factor=cfg.lr_factor(),
        patience=s.lr_patience,
        threshold=s.lr_threshold,
        threshold_mode="rel",
        min_lr=s.min_lr,
    )


def steps_per_batch(cfg: TrainConfig) -> bool:
    """Whether the schedule steps after every optimizer step (one-cycle) rather than once per epoch."""
    return cfg.schedule.kind == "onecycle"


def build_early_stopping(cfg: TrainConfig) -> EarlyStopping:
    """The reference's restore-best rounds under ``plateau``; under ``onecycle`` a tracker of the best epoch
    that runs all ``max_epochs`` (its patience exceeds the run)."""
    s = cfg.schedule
    if s.kind == "onecycle":
        return EarlyStopping(
            patience=s.max_epochs + 1, threshold=s.threshold, rounds=1, max_epochs=s.max_epochs
        )
    return EarlyStopping(
        patience=s.patience, threshold=s.threshold, rounds=s.restore_rounds, max_epochs=s.max_epochs
    )
