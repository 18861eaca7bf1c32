"""Weather corruptions (snow, frost, fog) on ``(B, 3, H, W)`` images in [0, 1].

Algorithms of hendrycks/robustness ``make_*_c.py`` and bethgelab/imagecorruptions ``corruptions.py``.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

import numpy as np
import torch
from PIL import Image

from v1mtl.corruptions import _ops
from v1mtl.corruptions._random import ImageRandom
from v1mtl.corruptions.presets import Preset

# The reference's six textures; frost3 is byte-identical to frost2 there, so one file serves both.
FROST_FILES = ("frost1.png", "frost2.png", "frost2.png", "frost4.jpg", "frost5.jpg", "frost6.jpg")


def snow(x: torch.Tensor, p: tuple, rng: ImageRandom, preset: Preset) -> torch.Tensor:
    """A thresholded, zoomed, motion-blurred Gaussian layer added twice (as drawn and rotated by 180°)
    onto the image lightened towards ``1.5·gray + 0.5``."""
    mean, std, zoom, threshold, radius, sigma, weight = p
    b, _, h, w = x.shape
    layer = rng.normal((1, h, w), mean=mean, std=std).to(x.dtype)
    layer = _ops.zoom(layer, float(zoom), preset.zoom_trim)
    layer = torch.where(layer < threshold, torch.zeros_like(layer), layer).clamp(0, 1)
    if preset.quantize_snow:
        layer = torch.floor(layer * 255) / 255  # hendrycks passes the layer to ImageMagick as an 8-bit PNG
    angle = rng.uniform((), -135.0, -45.0)
    layer = torch.round(_ops.motion_blur(layer, radius, sigma, angle) * 255) / 255
    lit = torch.maximum(x, _ops.cv2_gray(x) * 1.5 + 0.5)
    x = weight * x + (1 - weight) * lit
    return (x + layer + torch.rot90(layer, 2, dims=(-2, -1))).clamp(0, 1)


@lru_cache(maxsize=1)
def _frost_originals() -> tuple[np.ndarray, ...]:
    """The texture files as ``(H, W, 3)`` uint8 RGB."""
    out = []
    for name in FROST_FILES:
        with resources.as_file(resources.files("v1mtl") / "resources" / name) as path, Image.open(path) as im:
            out.append(np.array(im.convert("RGB")))
    return tuple(out)


def _resize_linear(t: torch.Tensor, out_h: int, out_w: int, scale: float) -> torch.Tensor:
    """``cv2.resize(fx=fy=scale, INTER_LINEAR)``: source ``(i + 0.5) / scale − 0.5``, clamped, no antialias."""
    for axis, n_out in ((-2, out_h), (-1, out_w)):
        n_in = t.shape[axis]
        pos = np.clip((np.arange(n_out) + 0.5) / scale - 0.5, 0, n_in - 1)
        lo = np.floor(pos).astype(int)
        hi = np.minimum(lo + 1, n_in - 1)
        shape = [1] * t.dim()
        shape[axis] = n_out
        frac = torch.as_tensor(pos - lo, dtype=t.dtype).view(shape)
        a = t.index_select(axis, torch.as_tensor(lo))
        t = a + (t.index_select(axis, torch.as_tensor(hi)) - a) * frac
    return t


def _fit_texture(tex: torch.Tensor, h: int, w: int) -> torch.Tensor:
    """imagecorruptions' rule: upscale (bicubic) until the texture covers the image, then by 1.1 more."""
    th, tw = tex.shape[-2:]
    factor = max(1.0, h / th, w / tw) * 1.1
    size = (int(np.ceil(th * factor)), int(np.ceil(tw * factor)))
    return torch.nn.functional.interpolate(tex[None], size=size, mode="bicubic", align_corners=False)[0]


@lru_cache(maxsize=16)
def frost_textures(scale: float | None, count: int, h: int, w: int) -> tuple[torch.Tensor, ...]:
    """The textures as the preset uses them for ``h × w`` images: ``(3, th, tw)`` float in [0, 1].

    hendrycks rescales by a fixed factor (0.3 at 64 px, 0.2 at 32 px, ``cv2.INTER_LINEAR``); where that
    leaves a texture no larger than the image, and for the imagenet preset, imagecorruptions' fit rule is
    used. Values are rounded to 8 bits, as OpenCV's resize of a uint8 image does.
    """
    out = []
    for arr in _frost_originals()[:count]:
        tex = torch.from_numpy(arr).permute(2, 0, 1).to(torch.float64)
        if scale is not None:
            th, tw = (int(np.round(n * scale)) for n in arr.shape[:2])
            tex = _resize_linear(tex, th, tw, scale)
        if scale is None or tex.shape[-2] <= h or tex.shape[-1] <= w:
            tex = _fit_texture(torch.from_numpy(arr).permute(2, 0, 1).to(torch.float64), h, w)
        out.append((tex.round().clamp(0, 255) / 255).to(torch.float32))
    return tuple(out)


def frost(x: torch.Tensor, p: tuple, rng: ImageRandom, preset: Preset) -> torch.Tensor:
    """``clip(a·x + b·frost)`` with a random texture and a random crop of it per image."""
    a, weight = p
    b, _, h, w = x.shape
    textures = frost_textures(preset.frost_scale, preset.frost_textures, h, w)
    choice = rng.randint(0, len(textures)).to(x.device)
    corner = rng.uniform((2,)).to(x.device)
    layer = torch.empty_like(x)
    rows = torch.arange(h, device=x.device)
    cols = torch.arange(w, device=x.device)
    for k, tex in enumerate(textures):
        sel = (choice == k).nonzero().flatten()
        if sel.numel() == 0:
            continue
        tex = tex.to(device=x.device, dtype=x.dtype)
        top = torch.floor(corner[sel, 0] * (tex.shape[-2] - h)).long()
        left = torch.floor(corner[sel, 1] * (tex.shape[-1] - w)).long()
        r = (top[:, None] + rows)[:, :, None]
        c = (left[:, None] + cols)[:, None, :]
        layer[sel] = tex[:, r, c].permute(1, 0, 2, 3)
    return (a * x + weight * layer).clamp(0, 1)


def plasma_fractal(rng: ImageRandom, mapsize: int, decay: float) -> torch.Tensor:
    """Diamond-square height maps, one per image, ``(B, mapsize, mapsize)`` in [0, 1].

    The reference's ``plasma_fractal`` (a modification of FLHerne/mapgen ``diamondsquare.py``): every new
    point is the mean of its four neighbours (with wrap-around) plus ``wibble · U(−wibble, wibble)``;
    ``wibble`` starts at 100 and is divided by ``decay`` at each halving of the step.
    """
    b = len(rng)
    m = torch.zeros((b, mapsize, mapsize), dtype=torch.float64, device=rng.device)
    step = mapsize
    wibble = 100.0
    while step >= 2:
        half = step // 2
        corners = m[:, ::step, ::step]
        acc = corners + torch.roll(corners, -1, 1)
        acc = acc + torch.roll(acc, -1, 2)
        m[:, half::step, half::step] = acc / 4 + wibble * rng.uniform(acc.shape[1:], -wibble, wibble)
        dr = m[:, half::step, half::step]
        ul = m[:, ::step, ::step]
        left = dr + torch.roll(dr, 1, 1) + ul + torch.roll(ul, -1, 2)
        m[:, ::step, half::step] = left / 4 + wibble * rng.uniform(left.shape[1:], -wibble, wibble)
        top = dr + torch.roll(dr, 1, 2) + ul + torch.roll(ul, -1, 1)
        m[:, half::step, ::step] = top / 4 + wibble * rng.uniform(top.shape[1:], -wibble, wibble)
        step //= 2
        wibble /= decay
    m = m - m.amin((1, 2), keepdim=True)
    return m / m.amax((1, 2), keepdim=True)


def fog(x: torch.Tensor, p: tuple, rng: ImageRandom, preset: Preset) -> torch.Tensor:
    """Add ``strength ×`` a plasma fractal (map side: next power of two of the image side), then rescale
    by ``max / (max + strength)``."""
    strength, decay = p
    h, w = x.shape[-2:]
    plasma = plasma_fractal(rng, _ops.next_power_of_2(max(h, w)), decay)[:, None, :h, :w].to(x.dtype)
    peak = x.amax((1, 2, 3), keepdim=True)
    return ((x + strength * plasma) * peak / (peak + strength)).clamp(0, 1)
