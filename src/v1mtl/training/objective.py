"""The network plus its task losses in one module, so DDP averages the loss-weight gradients too.

Classification loss: cross-entropy (mean). Neural loss: ``masked_mse`` (the MTL recipe, mean over recorded
entries) or the Poisson negative log-likelihood averaged over recorded entries. Weighting
(docs/reference-implementation.md, 'Losses and task weighting'):

- ``learned`` (MTL conditions): Kendall et al. 2018 as in the reference, ``exp(-s_c) CE + s_c / 2`` and
  ``0.5 exp(-s_n) MSE + s_n / 2``; with the Poisson loss, which is a likelihood like CE, the CE form
  ``exp(-s_n) Poisson + s_n / 2``. ``s`` starts at 0 and is trained (and weight-decayed) by the optimizer.
- ``learned-neural``: the neural term as in ``learned``, the classification term plain CE (weight 1).
  At a minimum of ``0.5 exp(-s) MSE + s / 2`` ``exp(s)`` equals the MSE, so the learned form weighs the
  neural loss by about ``0.5 / MSE`` and the classification loss by ``1 / CE``: early in training, when CE
  is large, the classification branch runs at a fraction of the optimizer's learning rate (docs/training.md).
- ``fixed``: ``w_c CE`` and ``w_n neural``.
- ``none`` (classification-only conditions): plain CE, as the Baseline recipe.
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

from v1mtl.fitting.losses import LearnedLossWeight, masked_mse, poisson_loss
from v1mtl.models import MultiTaskNet

Weighting = Literal["learned", "learned-neural", "fixed", "none"]
WEIGHTINGS: tuple[str, ...] = Weighting.__args__


def mean_poisson_loss(pred: torch.Tensor, target: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    """``poisson_loss`` divided by the number of recorded entries (a per-entry mean like ``masked_mse``)."""
    count = pred.numel() if mask is None else int(mask.sum().clamp(min=1))
    return poisson_loss(pred, target, mask) / count


class CoTrainingObjective(nn.Module):
    """``forward(x, target, task, session, mask) -> (weighted loss, raw loss, network output)``.

    Args:
        net: the multi-task network.
        weighting: ``learned``, ``learned-neural``, ``fixed`` or ``none``.
        neural_loss: ``mse`` or ``poisson``.
        fixed_weights: ``{"classification": w_c, "neural": w_n}`` for ``fixed``.
    """

    def __init__(
        self,
        net: MultiTaskNet,
        weighting: Weighting = "none",
        neural_loss: str = "mse",
        fixed_weights: dict[str, float] | None = None,
    ):
        super().__init__()
        if neural_loss not in ("mse", "poisson"):
            raise ValueError(f"neural_loss must be 'mse' or 'poisson', got {neural_loss!r}")
        if weighting not in WEIGHTINGS:
            raise ValueError(f"weighting must be one of {list(WEIGHTINGS)}, got {weighting!r}")
        self.net = net
        self.weighting = weighting
        self.neural_loss = neural_loss
        self.fixed_weights = dict(fixed_weights or {"classification": 1.0, "neural": 1.0})
        self.loss_weights = nn.ModuleDict()
        if weighting == "learned":
            self.loss_weights["classification"] = LearnedLossWeight()
        if weighting in ("learned", "learned-neural"):
            self.loss_weights["neural"] = LearnedLossWeight()

    def forward(
        self,
        x: torch.Tensor,
        target: torch.Tensor,
        task: str,
        session: str | None = None,
        mask: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        out = self.net(x, task=task, session=session).float()
        if task == "classification":
            raw = F.cross_entropy(out, target)
            if self.weighting == "learned":
                return self.loss_weights["classification"].classification(raw), raw, out
        else:
            learned = "neural" in self.loss_weights
            if self.neural_loss == "mse":
                raw = masked_mse(out, target, mask)
                if learned:
                    return self.loss_weights["neural"].mse(raw), raw, out
            else:
                raw = mean_poisson_loss(out, target, mask)
                if learned:
                    return self.loss_weights["neural"].classification(raw), raw, out
        if self.weighting == "fixed":
            return self.fixed_weights[task] * raw, raw, out
        return raw, raw, out

    def weight_values(self) -> dict[str, float]:
        """``{task: s}`` of the learned weights (empty otherwise); the logged weight is ``exp(s)``."""
        return {task: float(w.log_weight.detach()) for task, w in self.loss_weights.items()}
