"""Neural losses and the learned task weighting of the reference (neural_cotraining ``trainer/utils.py``).

Every neural loss takes ``pred`` and ``target`` ``(batch, neurons)`` and a boolean ``mask`` of the same
shape (True where the neuron was recorded on that trial; None = all recorded). Unrecorded entries add
nothing, whatever value the target holds there (loaders store them as 0).
"""

from __future__ import annotations

import math

import torch
from torch import nn

_LOG_EPS = 1e-12


def _mask_like(pred: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    if mask is None:
        return torch.ones_like(pred, dtype=torch.bool)
    if mask.shape != pred.shape:
        raise ValueError(f"mask shape {tuple(mask.shape)} differs from prediction shape {tuple(pred.shape)}")
    return mask.bool()


def poisson_loss(pred: torch.Tensor, target: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
    """Poisson negative log-likelihood without the ``log(y!)`` constant, summed over recorded entries.

    ``sum(pred - target * log(pred + 1e-12))``, as neuralpredictors' ``PoissonLoss(avg=False)``
    (``measures/modules.py`` @32098cc) with the target treated as a constant.
    """
    m = _mask_like(pred, mask)
    target = torch.where(m, target.detach(), torch.zeros_like(target))
    per_entry = pred - target * torch.log(pred + _LOG_EPS)
    return torch.where(m, per_entry, torch.zeros_like(per_entry)).sum()


def scaled_poisson_loss(
    pred: torch.Tensor, target: torch.Tensor, mask: torch.Tensor | None, n_train: int
) -> torch.Tensor:
    """``poisson_loss * sqrt(n_train / batch)``: the single-task V1 model's loss scaling (``scale_loss``).

    ``n_train`` is the number of training trials of the session and ``batch`` the size of this batch, so the
    summed batch loss is on the scale of the whole session's loss (up to the square root).
    """
    return poisson_loss(pred, target, mask) * math.sqrt(n_train / pred.shape[0])


def masked_mse(pred: torch.Tensor, target: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
    """Mean squared error over the recorded entries (``nn.MSELoss()`` when all are recorded); 0 if none are."""
    m = _mask_like(pred, mask)
    diff = torch.where(m, pred - target, torch.zeros_like(pred))
    return (diff**2).sum() / m.sum().clamp(min=1)


class LearnedLossWeight(nn.Module):
    """A learned task weight ``s = log_weight`` (init 0): the uncertainty weighting of Kendall, Gal & Cipolla
    2018 ("Multi-task learning using uncertainty to weigh losses", CVPR), in the reference's form
    (neural_cotraining ``trainer/utils.py`` XEntropyLossWrapper, MSELossWrapper, NBLossWrapper).

    ``s`` is a parameter of the optimizer like any other (the reference also weight-decays it).
    """

    def __init__(self) -> None:
        super().__init__()
        self.log_weight = nn.Parameter(torch.zeros(()))

    @property
    def weight(self) -> torch.Tensor:
        """``exp(s)``, the value the reference logs as ``loss_weight``."""
        return self.log_weight.detach().exp()

    def classification(self, cross_entropy: torch.Tensor) -> torch.Tensor:
        """``exp(-s) * CE + 0.5 * s``."""
        s = self.log_weight
        return torch.exp(-s) * cross_entropy + 0.5 * s

    def mse(self, mse: torch.Tensor) -> torch.Tensor:
        """``0.5 * exp(-s) * MSE + 0.5 * s`` (the Gaussian likelihood with variance ``exp(s)``)."""
        s = self.log_weight
        return 0.5 * torch.exp(-s) * mse + 0.5 * s

    def negative_binomial(
        self,
        pred: torch.Tensor,
        target: torch.Tensor,
        mask: torch.Tensor | None = None,
        reduction: str = "mean",
    ) -> torch.Tensor:
        """Negative-binomial NLL with mean ``pred`` and dispersion ``r = exp(s)``, over recorded entries.

        Per entry ``(y + r) log(pred + r) - y log(pred) - r s + lgamma(r) - lgamma(y + r) + lgamma(y + 1)``,
        the reference's NBLossWrapper without its constant ``+1e-5``. ``reduction`` is ``"mean"`` or ``"sum"``.
        """
        if reduction not in ("mean", "sum"):
            raise ValueError(f"reduction must be 'mean' or 'sum', got {reduction!r}")
        m = _mask_like(pred, mask)
        y = torch.where(m, target.detach(), torch.zeros_like(target))
        s = self.log_weight
        r = torch.exp(s)
        nll = (
            (y + r) * torch.log(pred + r)
            - y * torch.log(pred + _LOG_EPS)
            - r * s
            + torch.lgamma(r)
            - torch.lgamma(y + r)
            + torch.lgamma(y + 1)
        )
        total = torch.where(m, nll, torch.zeros_like(nll)).sum()
        return total / m.sum().clamp(min=1) if reduction == "mean" else total
