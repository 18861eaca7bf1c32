"""The Gaussian-noise mixture that trains the noise-augmented network (the Oracle).

Reference (sinzlab/neural_cotraining ``dataset/img_classification_loader.py`` and
``trainer/main_loop_modules/noise_augmentation.py``): every training image independently
draws one noise level, std 0.08, 0.12, 0.18, 0.26 or 0.38 with probability 0.1 each or clean with
probability 0.5; i.i.d. N(0, std^2) noise is added per RGB pixel in [0, 1] space, the image is clamped to
[0, 1], converted to gray, then normalized.

Our images are gray. ``space="rgb"`` reproduces the reference for a gray image exactly: the image is taken
as three equal RGB channels, each gets its own noise and clamp, and the BT.601 luma weights mix them back,
so the noise that reaches the network has std ``std * sqrt(0.299^2 + 0.587^2 + 0.114^2) ~ 0.669 std``
(before clamping). ``space="gray"`` adds ``std`` to the gray image itself.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch

from v1mtl.data.images.gray import LUMA_WEIGHTS

GRAY_NOISE_FACTOR = math.sqrt(sum(w * w for w in LUMA_WEIGHTS))


def draw_levels(n: int, probs: Sequence[float], generator: torch.Generator) -> torch.Tensor:
    """Noise level index per image: ``(n,)`` int64, ``i`` with probability ``probs[i]``, ``-1`` (clean) with
    probability ``1 - sum(probs)``."""
    p = torch.tensor([*probs, max(0.0, 1.0 - sum(probs))], dtype=torch.float64)
    draws = torch.multinomial(p, n, replacement=True, generator=generator)
    return torch.where(draws == len(probs), torch.full_like(draws, -1), draws)


def add_noise_mixture(
    x: torch.Tensor,
    stds: Sequence[float],
    probs: Sequence[float],
    generator: torch.Generator,
    *,
    space: str = "rgb",
) -> tuple[torch.Tensor, torch.Tensor]:
    """Add the noise mixture to a batch of gray images in [0, 1].

    Args:
        x: ``(batch, 1, height, width)`` float images in [0, 1].
        stds, probs: noise levels and their probabilities (the rest is clean).
        generator: a CPU generator; all random numbers come from it, so the result does not depend on the
            device.
        space: ``"rgb"`` (the reference's noise-then-grayscale) or ``"gray"``.

    Returns:
        ``(noisy, levels)``: ``(batch, 1, height, width)`` images in [0, 1] and the ``(batch,)`` level
        index of each image (-1 = clean).
    """
    if x.ndim != 4 or x.shape[1] != 1:
        raise ValueError(f"expected (batch, 1, height, width) gray images, got shape {tuple(x.shape)}")
    if space not in ("rgb", "gray"):
        raise ValueError(f"space must be 'rgb' or 'gray', got {space!r}")
    b, _, h, w = x.shape
    levels = draw_levels(b, probs, generator)
    std_table = torch.tensor([0.0, *stds], dtype=torch.float32)
    sigma = std_table[levels + 1].view(b, 1, 1, 1).to(device=x.device, dtype=x.dtype)
    channels = 3 if space == "rgb" else 1
    eps = torch.randn((b, channels, h, w), generator=generator, dtype=torch.float32).to(x.device, x.dtype)
    noisy = (x + sigma * eps).clamp_(0.0, 1.0)
    if space == "rgb":
        weights = torch.tensor(LUMA_WEIGHTS, dtype=x.dtype, device=x.device).view(1, 3, 1, 1)
        noisy = (noisy * weights).sum(dim=1, keepdim=True)
    # A clean image stays bit-identical (no clamp round trip, no luma re-weighting round-off).
    clean = (levels < 0).to(x.device).view(b, 1, 1, 1)
    return torch.where(clean, x, noisy), levels


def add_noise_normalized(
    x: torch.Tensor,
    mean: float,
    std: float,
    stds: Sequence[float],
    probs: Sequence[float],
    generator: torch.Generator,
    *,
    space: str = "rgb",
) -> torch.Tensor:
    """``add_noise_mixture`` for a batch already normalized as ``(x01 - mean) / std``: the noise is added in
    [0, 1] space, before normalization, as in the reference."""
    noisy, _ = add_noise_mixture(x * std + mean, stds, probs, generator, space=space)
    return (noisy - mean) / std
