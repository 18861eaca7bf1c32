"""The spatter corruption (water drops or mud) on ``(B, 3, H, W)`` images in [0, 1].

Algorithm of hendrycks/robustness ``make_*_c.py`` / imagecorruptions ``spatter``: a blurred, thresholded
Gaussian "liquid" layer. Water: an embossed texture is derived from the layer through OpenCV's Canny edge
detector (thresholds 50/150), a 5 × 5 chamfer distance transform truncated at 20, a 3 × 3 box blur,
histogram equalisation, a 3 × 3 emboss filter and another box blur; the layer times that texture, scaled
to its maximum, adds pale turquoise (175, 238, 238). Mud: the blurred binary mask (kept where ≥ 0.8)
blends the image towards brown (63, 42, 20). The OpenCV steps are re-implemented here on batches.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from v1mtl.corruptions import _ops
from v1mtl.corruptions._random import ImageRandom
from v1mtl.corruptions.presets import Preset

_SOBEL_X = ((-1.0, 0.0, 1.0), (-2.0, 0.0, 2.0), (-1.0, 0.0, 1.0))
_EMBOSS = ((-2.0, -1.0, 0.0), (-1.0, 1.0, 1.0), (0.0, 1.0, 2.0))
# OpenCV's 5 × 5 chamfer weights for DIST_L2 (Borgefors 1986): axial 1, diagonal 1.4, knight 2.1969.
_CHAMFER = [(dy, dx, 1.0) for dy, dx in ((0, 1), (0, -1), (1, 0), (-1, 0))]
_CHAMFER += [(dy, dx, 1.4) for dy in (-1, 1) for dx in (-1, 1)]
_CHAMFER += [
    (dy, dx, 2.1969) for dy, dx in ((1, 2), (2, 1), (-1, 2), (-2, 1), (1, -2), (2, -1), (-1, -2), (-2, -1))
]


def _shift(x: torch.Tensor, dy: int, dx: int, fill: float) -> torch.Tensor:
    """``out[i, j] = x[i + dy, j + dx]``, ``fill`` outside the image."""
    h, w = x.shape[-2:]
    padded = F.pad(x, (2, 2, 2, 2), value=fill)
    return padded[..., 2 + dy : 2 + dy + h, 2 + dx : 2 + dx + w]


def canny(img: torch.Tensor, low: float, high: float) -> torch.Tensor:
    """``cv2.Canny(img, low, high)`` (aperture 3, L1 gradient) on ``(B, 1, H, W)`` 8-bit values -> bool.

    Sobel with replicated border, non-maximum suppression along the quantised gradient direction
    (tan 22.5° sectors and OpenCV's tie rules), hysteresis by 8-connected growth from pixels above
    ``high`` through pixels above ``low``.
    """
    kx = torch.tensor(_SOBEL_X, dtype=img.dtype, device=img.device)
    padded = _ops.pad(img, 1, 1, 1, 1, "nearest")
    gx = F.conv2d(padded, kx[None, None])
    gy = F.conv2d(padded, kx.T.contiguous()[None, None])
    mag = gx.abs() + gy.abs()
    ax, ay = gx.abs(), gy.abs()
    tan22 = 0.4142135623730950
    horizontal = ay < ax * tan22
    vertical = ay > ax * (tan22 + 2)
    sign = torch.where((gx * gy) < 0, -1, 1)

    def nb(dy: int, dx: int) -> torch.Tensor:
        return _shift(mag, dy, dx, 0.0)

    keep_h = (mag > nb(0, -1)) & (mag >= nb(0, 1))
    keep_v = (mag > nb(-1, 0)) & (mag >= nb(1, 0))
    # OpenCV is strict on both sides along diagonals, and strict on one side only along the axes.
    keep_d = torch.where(
        sign > 0, (mag > nb(-1, -1)) & (mag > nb(1, 1)), (mag > nb(-1, 1)) & (mag > nb(1, -1))
    )
    nms = torch.where(horizontal, keep_h, torch.where(vertical, keep_v, keep_d))
    candidate = (mag > low) & nms
    edges = candidate & (mag > high)
    while True:
        grown = candidate & (F.max_pool2d(edges.to(img.dtype), 3, 1, 1) > 0)
        if torch.equal(grown, edges):
            return edges
        edges = grown


def chamfer_distance(zero: torch.Tensor, cap: float) -> torch.Tensor:
    """``min(cv2.distanceTransform(·, DIST_L2, 5), cap)``: distance to the nearest ``zero`` pixel."""
    big = cap + 10.0
    d = torch.where(
        zero, torch.zeros_like(zero, dtype=torch.float32), torch.full_like(zero, big, dtype=torch.float32)
    )
    while True:
        best = d
        for dy, dx, cost in _CHAMFER:
            best = torch.minimum(best, _shift(d, dy, dx, big) + cost)
        if torch.equal(best, d):
            return d.clamp(max=cap)
        d = best


def equalize_hist(img: torch.Tensor) -> torch.Tensor:
    """``cv2.equalizeHist`` per image on ``(B, 1, H, W)`` integer-valued 0..255."""
    b = img.shape[0]
    flat = img.reshape(b, -1).long()
    total = flat.shape[1]
    hist = torch.zeros((b, 256), dtype=torch.long, device=img.device).scatter_add_(
        1, flat, torch.ones_like(flat)
    )
    first = (hist > 0).long().argmax(1, keepdim=True)
    cdf = hist.cumsum(1) - hist.gather(1, first)
    denom = (total - hist.gather(1, first)).clamp(min=1)
    lut = torch.round(cdf.to(torch.float64) * (255.0 / denom)).clamp(0, 255)
    lut = torch.where(torch.arange(256, device=img.device)[None] <= first, torch.zeros_like(lut), lut)
    single = hist.gather(1, first) == total
    lut = torch.where(single, first.to(lut.dtype).expand(-1, 256), lut)
    return lut.gather(1, flat).reshape(img.shape).to(img.dtype)


def _box3(x: torch.Tensor) -> torch.Tensor:
    return _ops.filter2d(x, np.full((3, 3), 1 / 9), "mirror")


def _water_texture(liquid8: torch.Tensor) -> torch.Tensor:
    edges = canny(liquid8, 50, 150)
    dist = chamfer_distance(edges, 20.0).to(liquid8.dtype)
    dist = torch.floor(_box3(dist))
    dist = equalize_hist(dist)
    dist = _ops.filter2d(dist, np.asarray(_EMBOSS), "mirror").round().clamp(0, 255)
    return torch.round(_box3(dist))


def spatter(x: torch.Tensor, p: tuple, rng: ImageRandom, preset: Preset) -> torch.Tensor:
    mean, std, sigma, threshold, intensity, mud = p
    h, w = x.shape[-2:]
    liquid = rng.normal((1, h, w), mean=mean, std=std).to(torch.float32)
    liquid = _ops.gaussian_filter(liquid, sigma)
    liquid = torch.where(liquid < threshold, torch.zeros_like(liquid), liquid)
    if mud == 0:
        liquid8 = torch.floor(liquid * 255).clamp(0, 255)
        m = liquid8 * _water_texture(liquid8)
        m = m / m.amax((2, 3), keepdim=True).clamp(min=1e-12) * intensity
        colour = torch.tensor((175.0, 238.0, 238.0), device=x.device).view(1, 3, 1, 1) / 255
        return (x + m.to(x.dtype) * colour.to(x.dtype)).clamp(0, 1)
    mask = _ops.gaussian_filter((liquid > threshold).to(torch.float32), intensity)
    mask = torch.where(mask < 0.8, torch.zeros_like(mask), mask).to(x.dtype)
    colour = torch.tensor((63.0, 42.0, 20.0), device=x.device).view(1, 3, 1, 1).to(x.dtype) / 255
    return (x * (1 - mask) + colour * mask).clamp(0, 1)
