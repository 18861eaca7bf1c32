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

The ``similarity`` task of ``pixel-similarity`` takes the neural task's place in each of these, its loss (a
mean squared difference of similarities) weighted in the MSE's form.
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

from v1mtl.fitting.losses import LearnedLossWeight, masked_mse, poisson_loss
from v1mtl.models import MultiTaskNet
from v1mtl.training.pixel_similarity import similarity_matching_loss, similarity_matrix

Weighting = Literal["learned", "learned-neural", "fixed", "none"]
WEIGHTINGS: tuple[str, ...] = Weighting.__args__


def mean_poisson_loss(pred: torch.Tensor, target: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    """``poisson_loss`` divided by the number of recorded entries (a per-entry mean like ``masked_mse``)."""
    count = pred.numel() if mask is None else int(mask.sum().clamp(min=1))
    return poisson_loss(pred, target, mask) / count


class CoTrainingObjective(nn.Module):
    """``forward(x, target, task, session, mask) -> (weighted loss, raw loss, network output)``.

    Tasks: ``classification`` (``target``: labels ``(batch,)``; output: logits), ``neural`` (``target``:
    responses ``(batch, neurons)``; output: predictions) and ``similarity`` (``target``: the pixel similarities
    ``(batch, batch)`` of ``x``; output: the shared features' similarities ``(batch, batch)``,
    ``v1mtl.training.pixel_similarity``). Besides classification one auxiliary task is trained.

    Args:
        net: the multi-task network.
        weighting: ``learned``, ``learned-neural``, ``fixed`` or ``none``.
        neural_loss: ``mse`` or ``poisson``.
        fixed_weights: ``{"classification": w_c, "neural": w_n}`` for ``fixed``; ``w_n`` weighs the auxiliary
            task, whichever it is.
        auxiliary: ``neural`` or ``similarity``; its learned weight is ``loss_weights[auxiliary]``, and the
            similarity loss, a mean squared difference like the MSE, takes the MSE's (Gaussian) form.
    """

    def __init__(
        self,
        net: MultiTaskNet,
        weighting: Weighting = "none",
        neural_loss: str = "mse",
        fixed_weights: dict[str, float] | None = None,
        auxiliary: Literal["neural", "similarity"] = "neural",
    ):
        super().__init__()
        if neural_loss not in ("mse", "poisson"):
            raise ValueError(f"neural_loss must be 'mse' or 'poisson', got {neural_loss!r}")
        if weighting not in WEIGHTINGS:
            raise ValueError(f"weighting must be one of {list(WEIGHTINGS)}, got {weighting!r}")
        if auxiliary not in ("neural", "similarity"):
            raise ValueError(f"auxiliary must be 'neural' or 'similarity', got {auxiliary!r}")
        self.net = net
        self.weighting = weighting
        self.neural_loss = neural_loss
        self.auxiliary = auxiliary
        weights = dict(fixed_weights or {"classification": 1.0, "neural": 1.0})
        self.fixed_weights = {"classification": weights["classification"], auxiliary: weights["neural"]}
        self.loss_weights = nn.ModuleDict()
        if weighting == "learned":
            self.loss_weights["classification"] = LearnedLossWeight()
        if weighting in ("learned", "learned-neural"):
            self.loss_weights[auxiliary] = LearnedLossWeight()

    def forward(
        self,
        x: torch.Tensor,
        target: torch.Tensor,
        task: str,
        session: str | None = None,
        mask: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        if task == "classification":
            out = self.net(x, task=task).float()
            raw = F.cross_entropy(out, target)
            if self.weighting == "learned":
                return self.loss_weights["classification"].classification(raw), raw, out
        else:
            if task != self.auxiliary:
                raise ValueError(f"this objective trains '{self.auxiliary}', not '{task}'")
            squared_error = True
            if task == "similarity":
                out = similarity_matrix(self.net.shared_features(x))
                raw = similarity_matching_loss(out, target)
            else:
                out = self.net(x, task=task, session=session).float()
                if self.neural_loss == "mse":
                    raw = masked_mse(out, target, mask)
                else:
                    raw = mean_poisson_loss(out, target, mask)
                    squared_error = False
            if task in self.loss_weights:
                weight = self.loss_weights[task]
                return (weight.mse(raw) if squared_error else weight.classification(raw)), raw, out
        if self.weighting == "fixed":
            return self.fixed_weights[task] * raw, raw, out
        return raw, raw, out

    def weight_values(self) -> dict[str, float]:
        """``{task: s}`` of the learned weights (empty otherwise); the logged weight is ``exp(s)``."""
        return {task: float(w.log_weight.detach()) for task, w in self.loss_weights.items()}
