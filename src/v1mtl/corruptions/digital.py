"""Digital and colour corruptions on ``(B, 3, H, W)`` images in [0, 1]: brightness, contrast, saturate,
pixelate, JPEG and elastic transform.

Algorithms of hendrycks/robustness ``make_*_c.py`` and bethgelab/imagecorruptions ``corruptions.py``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from v1mtl.corruptions import _ops
from v1mtl.corruptions._jpeg import jpeg_roundtrip
from v1mtl.corruptions._random import ImageRandom
from v1mtl.corruptions.presets import Preset


def brightness(x: torch.Tensor, delta: float, rng: ImageRandom, preset: Preset) -> torch.Tensor:
    """HSV value ``clip(v + delta)`` (``skimage.color`` conversions).

    With hue and saturation fixed every RGB channel is proportional to v, so the HSV round trip reduces to
    scaling by ``v' / v`` (and ``v'`` for black, whose saturation is 0).
    """
    v = x.amax(1, keepdim=True)
    v_new = (v + delta).clamp(0, 1)
    return torch.where(v > 0, x * (v_new / v.clamp(min=1e-12)), v_new).clamp(0, 1)


def saturate(x: torch.Tensor, p: tuple, rng: ImageRandom, preset: Preset) -> torch.Tensor:
    """HSV saturation ``clip(s · a + b)``; gray pixels have hue 0, so ``b > 0`` tints them red."""
    a, b = p
    hsv = _ops.rgb_to_hsv(x)
    hsv = torch.stack((hsv[:, 0], (hsv[:, 1] * a + b).clamp(0, 1), hsv[:, 2]), 1)
    return _ops.hsv_to_rgb(hsv).clamp(0, 1)


def contrast(x: torch.Tensor, factor: float, rng: ImageRandom, preset: Preset) -> torch.Tensor:
    """Scale about each image's per-channel mean."""
    mean = x.mean((2, 3), keepdim=True)
    return ((x - mean) * factor + mean).clamp(0, 1)


def pixelate(x: torch.Tensor, factor: float, rng: ImageRandom, preset: Preset) -> torch.Tensor:
    """PIL BOX downscale to ``int(side · factor)``, then back up (NEAREST or BOX, by preset)."""
    h, w = x.shape[-2:]
    sh, sw = int(h * factor), int(w * factor)
    up = preset.pixelate_up
    # Down- then upsampling along one axis is one (side, side) matrix.
    rows = _ops.pil_resize_matrix(sh, h, up) @ _ops.pil_resize_matrix(h, sh, "box")
    cols = _ops.pil_resize_matrix(sw, w, up) @ _ops.pil_resize_matrix(w, sw, "box")
    return _ops.apply_separable(x, rows, cols)


def jpeg_compression(x: torch.Tensor, quality: int, rng: ImageRandom, preset: Preset) -> torch.Tensor:
    return jpeg_roundtrip(x, int(quality))


def _pixel_grid(
    h: int, w: int, device: torch.device, dtype: torch.dtype
) -> tuple[torch.Tensor, torch.Tensor]:
    ys, xs = torch.meshgrid(
        torch.arange(h, device=device, dtype=dtype),
        torch.arange(w, device=device, dtype=dtype),
        indexing="ij",
    )
    return ys, xs


def _sample(x: torch.Tensor, ys: torch.Tensor, xs: torch.Tensor, align_corners: bool) -> torch.Tensor:
    """Bilinear sampling at pixel coordinates ``(B, H, W)`` with reflection at the border.

    ``align_corners=False`` reflects about the outer pixel edges (SciPy ``mode="reflect"``), ``True``
    about the outer pixel centres (OpenCV BORDER_REFLECT_101).
    """
    h, w = x.shape[-2:]
    if align_corners:
        gx, gy = 2 * xs / max(w - 1, 1) - 1, 2 * ys / max(h - 1, 1) - 1
    else:
        gx, gy = (2 * xs + 1) / w - 1, (2 * ys + 1) / h - 1
    grid = torch.stack((gx, gy), -1).to(x.dtype)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="reflection", align_corners=align_corners)


def _smoothed_field(
    rng: ImageRandom, h: int, w: int, bound: float, sigma: tuple[float, float]
) -> torch.Tensor:
    """``skimage.filters.gaussian(U(−bound, bound), sigma, mode="reflect", truncate=3)`` per image."""
    field = rng.uniform((1, h, w), -bound, bound)
    rows = _ops.filter_matrix(h, _ops.gaussian_taps(sigma[0], 3.0), "reflect")
    cols = _ops.filter_matrix(w, _ops.gaussian_taps(sigma[1], 3.0), "reflect")
    return _ops.apply_separable(field, rows, cols)[:, 0]


def _random_affine(x: torch.Tensor, jitter: float, rng: ImageRandom) -> torch.Tensor:
    """hendrycks' ``cv2.warpAffine`` with the affine map that moves three fixed points by U(−jitter, jitter)."""
    b, _, h, w = x.shape
    cy, cx = h // 2, w // 2
    s = min(h, w) // 3
    # The reference builds its points from (rows, cols) and hands them to OpenCV as (x, y); kept as is.
    src = torch.tensor(
        ((cy + s, cx + s), (cy + s, cx - s), (cy - s, cx - s)), dtype=torch.float64, device=x.device
    ).expand(b, 3, 2)
    dst = src + rng.uniform((3, 2), -jitter, jitter).to(torch.float32).to(torch.float64)
    ones = torch.ones((b, 3, 1), dtype=torch.float64, device=x.device)
    forward = torch.linalg.solve(torch.cat((src, ones), 2), dst).transpose(1, 2)  # (B, 2, 3): dst = M [p; 1]
    full = torch.cat(
        (forward, torch.tensor((0.0, 0.0, 1.0), dtype=torch.float64, device=x.device).expand(b, 1, 3)), 1
    )
    inverse = torch.linalg.inv(full)
    ys, xs = _pixel_grid(h, w, x.device, torch.float64)
    pts = torch.stack((xs.flatten(), ys.flatten(), torch.ones_like(xs.flatten())), 0)  # (3, HW)
    mapped = inverse[:, :2] @ pts  # (B, 2, HW)
    return _sample(x, mapped[:, 1].view(b, h, w), mapped[:, 0].view(b, h, w), align_corners=True)


def elastic_transform(x: torch.Tensor, p: tuple, rng: ImageRandom, preset: Preset) -> torch.Tensor:
    """Resample at ``(y + dy, x + dx)`` with smoothed random displacement fields (``map_coordinates``,
    order 1, ``mode="reflect"``).

    ``imagecorruptions`` variant: fields U(−0.005·H, 0.005·H) smoothed with σ = 1 % of each side,
    times α. ``hendrycks`` variant: a random affine warp first, then fields U(−1, 1) smoothed with σ and
    scaled by α, where α, σ and the affine jitter are fractions of the image side.
    """
    b, _, h, w = x.shape
    if preset.elastic == "imagecorruptions":
        alpha, sigma_frac, bound_frac = p
        sigma = (h * sigma_frac, w * sigma_frac)
        bound = h * bound_frac
    else:
        side = min(h, w)
        alpha, sigma_px, jitter = (side * v for v in p)
        x = _random_affine(x, jitter, rng)
        sigma = (sigma_px, sigma_px)
        bound = 1.0
    dx = _smoothed_field(rng, h, w, bound, sigma) * alpha
    dy = _smoothed_field(rng, h, w, bound, sigma) * alpha
    ys, xs = _pixel_grid(h, w, x.device, torch.float64)
    return _sample(x, ys + dy, xs + dx, align_corners=False).clamp(0, 1)
