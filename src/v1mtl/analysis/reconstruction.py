"""Norm-constrained reconstruction: the image of a fixed L2 norm whose activations best match a target's.

The protocol follows sinzlab/reconstruction @01d0586 with sinzlab/mei @ab9cc64:
- objective: minimize ``mean((f(x) - f(x0))**2)`` over the activations of one layer (the reference
  maximizes its negative, ``gauss_loss`` with ``mean=True``);
- optimizer: plain gradient descent, ``torch.optim.SGD`` without momentum, reference ``lr=5000``;
- preconditioning: the gradient is blurred with a Gaussian, reference ``sigma=1`` (truncated at 4 sigma,
  reflected at the border, as ``mei.legacy.ops.GaussianBlur``);
- constraint: after every step the image is rescaled to the L2 norm ``budget`` over its whole tensor
  (``mei.legacy.ops.ChangeNorm``, a projection onto a sphere); ``constraint="ball"`` instead rescales only
  images above the budget (``ChangeNormConditional``);
- initialization: standard normal noise, reference seed 1000; the reference runs 5000 iterations.

Images are in the network's normalized input units (``(pixel - mean) / std``), so the budget is a contrast
budget in those units. Every image of a batch is optimized independently: its loss is its own mean over
activation elements and the batch loss is the sum, so batching changes nothing but speed.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from v1mtl.analysis.settings import ReconstructionSettings
from v1mtl.common.progress import bar_disabled

FeatureFn = Callable[[torch.Tensor], torch.Tensor]


@dataclass
class ReconstructionResult:
    """Reconstructions of a batch of targets.

    Attributes:
        images: ``(batch, channels, H, W)`` the reconstructions, in normalized input units.
        initial_loss: ``(batch,)`` activation MSE of the (projected) random start.
        final_loss: ``(batch,)`` activation MSE of the reconstruction.
        loss_history: ``(n_logged, batch)`` activation MSE every ``log_every`` steps.
    """

    images: np.ndarray
    initial_loss: np.ndarray
    final_loss: np.ndarray
    loss_history: np.ndarray


def gaussian_kernel1d(sigma: float, truncate: float = 4.0) -> torch.Tensor:
    """Normalized 1-D Gaussian of ``2 * round(truncate * sigma) + 1`` taps."""
    radius = max(1, int(round(truncate * sigma)))
    x = torch.arange(-radius, radius + 1, dtype=torch.float32)
    k = torch.exp(-0.5 * (x / sigma) ** 2)
    return k / k.sum()


def gaussian_blur(x: torch.Tensor, sigma: float, truncate: float = 4.0) -> torch.Tensor:
    """Separable Gaussian blur of ``(batch, channels, H, W)``, each channel alone, reflected at the border.

    ``sigma == 0`` returns ``x`` unchanged. Images too small to reflect the kernel's radius are padded by
    replicating the edge.
    """
    if sigma == 0:
        return x
    k = gaussian_kernel1d(sigma, truncate).to(dtype=x.dtype, device=x.device)
    r = (k.numel() - 1) // 2
    c = x.shape[1]
    mode = "reflect" if r < min(x.shape[-2:]) else "replicate"
    out = F.pad(x, (r, r, r, r), mode=mode)
    out = F.conv2d(out, k.view(1, 1, 1, -1).expand(c, 1, 1, -1), groups=c)
    return F.conv2d(out, k.view(1, 1, -1, 1).expand(c, 1, -1, 1), groups=c)


def project_norm(x: torch.Tensor, budget: float, constraint: str = "sphere") -> torch.Tensor:
    """Rescale every image of ``(batch, ...)`` to L2 norm ``budget`` (sphere) or at most ``budget`` (ball)."""
    norms = x.flatten(1).norm(dim=1).clamp_min(1e-12)
    scale = budget / norms
    if constraint == "ball":
        scale = scale.clamp(max=1.0)
    return x * scale.view(-1, *([1] * (x.dim() - 1)))


def random_start(shape: tuple[int, ...], seed: int) -> torch.Tensor:
    """``(batch, C, H, W)`` standard normal images; image ``i`` is drawn from its own seed ``seed + i``."""
    rows = [
        torch.randn(shape[1:], generator=torch.Generator().manual_seed(seed + i)) for i in range(shape[0])
    ]
    return torch.stack(rows)


def activation_mse(extractor: FeatureFn, x: torch.Tensor, target_acts: torch.Tensor) -> torch.Tensor:
    """Per-image mean squared activation error ``(batch,)``."""
    diff = extractor(x) - target_acts
    return diff.pow(2).flatten(1).mean(dim=1)


def reconstruct(
    extractor: FeatureFn,
    targets: torch.Tensor,
    budget: float,
    cfg: ReconstructionSettings | None = None,
    *,
    progress: bool = False,
    desc: str = "reconstruct",
) -> ReconstructionResult:
    """Reconstruct ``targets`` ``(batch, C, H, W)`` from ``extractor``'s activations under an L2 budget.

    ``extractor`` must be deterministic (networks in eval mode) and is never updated; the reconstructions
    have the targets' shape and live in the same units.
    """
    cfg = (cfg or ReconstructionSettings()).validate()
    if budget <= 0:
        raise ValueError(f"budget must be positive, got {budget}")
    targets = targets.detach()
    with torch.no_grad():
        target_acts = extractor(targets).detach()
        x = project_norm(random_start(tuple(targets.shape), cfg.seed), budget, cfg.constraint)
        x = x.to(dtype=targets.dtype, device=targets.device)
        initial = activation_mse(extractor, x, target_acts)
    history = []
    for step in tqdm(range(cfg.steps), desc=desc, disable=bar_disabled(progress), leave=False):
        x.requires_grad_(True)
        losses = activation_mse(extractor, x, target_acts)
        (grad,) = torch.autograd.grad(losses.sum(), x)
        with torch.no_grad():
            if step % cfg.log_every == 0:
                history.append(losses.detach().cpu().numpy())
            x = project_norm(
                x.detach() - cfg.lr * gaussian_blur(grad, cfg.blur_sigma), budget, cfg.constraint
            )
    with torch.no_grad():
        final = activation_mse(extractor, x, target_acts)
    return ReconstructionResult(
        images=x.cpu().numpy(),
        initial_loss=initial.cpu().numpy(),
        final_loss=final.cpu().numpy(),
        loss_history=np.stack(history),
    )


def sphere_norm_for_budget(budget: float, channels: int, reference_channels: int = 3) -> float:
    """The L2 norm a ``channels``-channel image needs so that its copy in ``reference_channels`` has ``budget``.

    The reference budgets are norms of 3-channel tensors; a gray image that the network repeats to 3
    channels has sqrt(3) times its own norm there.
    """
    return budget * math.sqrt(channels / reference_channels)
