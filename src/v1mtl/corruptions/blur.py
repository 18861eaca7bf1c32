"""Blur corruptions on ``(B, 3, H, W)`` images in [0, 1].

Algorithms of hendrycks/robustness ``make_*_c.py`` and bethgelab/imagecorruptions ``corruptions.py``.
"""

from __future__ import annotations

import numpy as np
import torch

from v1mtl.corruptions import _ops
from v1mtl.corruptions._random import ImageRandom
from v1mtl.corruptions.presets import Preset


def gaussian_blur(x: torch.Tensor, sigma: float, rng: ImageRandom, preset: Preset) -> torch.Tensor:
    """``skimage.filters.gaussian(sigma)``: edge-replicated border, kernel truncated at 4σ."""
    return _ops.gaussian_filter(x, sigma).clamp(0, 1)


def defocus_blur(x: torch.Tensor, p: tuple, rng: ImageRandom, preset: Preset) -> torch.Tensor:
    """Correlation with the anti-aliased disk of the reference (``cv2.filter2D``, BORDER_REFLECT_101),
    computed through the FFT (as OpenCV also does for kernels of 11 × 11 and more)."""
    radius, alias_blur = p
    return _ops.filter2d_fft(x, _ops.disk_kernel(radius, alias_blur), "mirror").clamp(0, 1)


def motion_blur(x: torch.Tensor, p: tuple, rng: ImageRandom, preset: Preset) -> torch.Tensor:
    """A line blur at an angle drawn per image from U(−45°, 45°) (see ``_ops.motion_blur``)."""
    radius, sigma = p
    angle = rng.uniform((), -45.0, 45.0)
    return _ops.motion_blur(x, radius, sigma, angle).clamp(0, 1)


def zoom_blur(x: torch.Tensor, p: tuple, rng: ImageRandom, preset: Preset) -> torch.Tensor:
    """Mean of the image and its centre zooms by each factor of ``np.arange(*p)``."""
    factors = tuple(float(f) for f in np.arange(*p))
    return (_ops.zoom_sum(x, factors, preset.zoom_trim) / (len(factors) + 1)).clamp(0, 1)


def _glass_shuffle(x: torch.Tensor, delta: int, rng: ImageRandom) -> torch.Tensor:
    """One pass of the reference's local pixel "swap", reproduced exactly up to the random numbers.

    The reference visits pixels (h, w) with ``δ < h ≤ H − δ``, ``δ < w ≤ W − δ`` in descending raster
    order and draws offsets from ``randint(−δ, δ)`` (so in [−δ, δ − 1]). On an H × W × 3 array its
    tuple-assignment "swap" of two views copies the source pixel onto (h, w) and leaves the source as it is.
    Each visited pixel therefore ends up with the *current* value of its source: the original value unless
    the source was visited earlier, in which case it is that pixel's final value. Those chains are resolved
    here by pointer jumping, batched over all pixels.
    """
    b, c, h, w = x.shape
    n = h * w
    hs = torch.arange(delta + 1, h - delta + 1, device=x.device)
    ws = torch.arange(delta + 1, w - delta + 1, device=x.device)
    if hs.numel() == 0 or ws.numel() == 0:
        return x
    grid_h, grid_w = torch.meshgrid(hs, ws, indexing="ij")
    visited = (grid_h * w + grid_w).reshape(-1)
    offsets = rng.randint(-delta, delta, (visited.numel(), 2))  # (B, P, 2): dx, dy as in the reference
    src_h = grid_h.reshape(1, -1) + offsets[..., 1]
    src_w = grid_w.reshape(1, -1) + offsets[..., 0]
    source = torch.arange(n, device=x.device).repeat(b, 1)
    source[:, visited] = src_h * w + src_w
    is_visited = torch.zeros(n, dtype=torch.bool, device=x.device)
    is_visited[visited] = True
    own = torch.arange(n, device=x.device)
    # A source visited before the pixel itself (higher raster index) already holds its own final value.
    follow = is_visited[source] & (source > own)
    follow[:, ~is_visited] = False
    target = source
    while bool(follow.any()):
        target, follow = (
            torch.where(follow, target.gather(1, target), target),
            follow & follow.gather(1, target),
        )
    idx = target.unsqueeze(1).expand(b, c, n)
    return x.reshape(b, c, n).gather(2, idx).reshape(b, c, h, w)


def glass_blur(x: torch.Tensor, p: tuple, rng: ImageRandom, preset: Preset) -> torch.Tensor:
    """Gaussian blur, 8-bit truncation, ``iterations`` local shuffles, Gaussian blur again."""
    sigma, delta, iterations = p
    x = torch.floor(_ops.gaussian_filter(x, sigma) * 255) / 255
    for _ in range(iterations):
        x = _glass_shuffle(x, int(delta), rng)
    return _ops.gaussian_filter(x, sigma).clamp(0, 1)
