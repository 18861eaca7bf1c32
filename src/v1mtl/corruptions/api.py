"""The corruption API behind ``v1mtl.corruptions`` (imported on first use; see the package docstring)."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence

import torch

from v1mtl.common.errors import InputError
from v1mtl.corruptions import blur, digital, noise, spatter, weather
from v1mtl.corruptions._jpeg import jpeg_roundtrip
from v1mtl.corruptions._random import ImageRandom
from v1mtl.corruptions.presets import ALL, COMMON, EXTRA, PRESETS, Preset
from v1mtl.data.images.gray import rgb_to_gray_torch

__all__ = ["corrupt", "names", "to_uint8", "PRESETS", "RELEASED_JPEG_QUALITY"]

# Tiny-ImageNet-C was saved by PIL at this quality (make_tinyimagenet_c.py).
RELEASED_JPEG_QUALITY = 85

_FUNCTIONS: dict[str, Callable[..., torch.Tensor]] = {
    "gaussian_noise": noise.gaussian_noise,
    "shot_noise": noise.shot_noise,
    "impulse_noise": noise.impulse_noise,
    "speckle_noise": noise.speckle_noise,
    "defocus_blur": blur.defocus_blur,
    "glass_blur": blur.glass_blur,
    "motion_blur": blur.motion_blur,
    "zoom_blur": blur.zoom_blur,
    "gaussian_blur": blur.gaussian_blur,
    "snow": weather.snow,
    "frost": weather.frost,
    "fog": weather.fog,
    "spatter": spatter.spatter,
    "brightness": digital.brightness,
    "contrast": digital.contrast,
    "elastic_transform": digital.elastic_transform,
    "pixelate": digital.pixelate,
    "jpeg_compression": digital.jpeg_compression,
    "saturate": digital.saturate,
}

# On the CPU a batch is corrupted in chunks of about this many bytes (float32 RGB), so the dozen or so
# passes each corruption makes over its images stay in cache. Results do not depend on it (per-image
# seeding); a GPU gets the whole batch at once.
CPU_CHUNK_BYTES = 3 * 2**20

# The smallest side accepted for every corruption. It covers the largest glass-blur shuffle window
# (2·4 + 2 px) and pixelate's coarsest grid at every preset; imagecorruptions itself refuses < 32 px.
MIN_SIDE = 16


def names(subset: str = "common") -> list[str]:
    """Corruption names: ``"common"`` (the 15 benchmark ones), ``"extra"`` (the 4 validation ones) or ``"all"``."""
    table = {"common": COMMON, "extra": EXTRA, "all": ALL}
    if subset not in table:
        raise InputError(f"unknown subset {subset!r}; valid: {', '.join(table)}", field="subset")
    return list(table[subset])


def _validate(images: torch.Tensor, name: str, severity: int, preset: str) -> Preset:
    if name not in _FUNCTIONS:
        raise InputError(f"unknown corruption {name!r}; valid: {', '.join(ALL)}", field="name")
    if preset not in PRESETS:
        raise InputError(f"unknown preset {preset!r}; valid: {', '.join(PRESETS)}", field="preset")
    if isinstance(severity, bool) or not isinstance(severity, int) or not 1 <= severity <= 5:
        raise InputError(f"severity must be an integer from 1 to 5, got {severity!r}", field="severity")
    if not isinstance(images, torch.Tensor) or not images.is_floating_point():
        raise InputError("must be a floating-point torch.Tensor", field="images")
    if images.dim() != 4 or images.shape[1] not in (1, 3):
        raise InputError(
            f"must have shape (B, C, H, W) with C = 1 or 3, got {tuple(images.shape)}", field="images"
        )
    if min(images.shape[-2:]) < MIN_SIDE:
        raise InputError(
            f"{name} needs images of at least {MIN_SIDE}x{MIN_SIDE} pixels, got {images.shape[-2]}x{images.shape[-1]}",
            field="images",
        )
    if images.numel():
        lo, hi = (float(v) for v in torch.aminmax(images))
        if not (lo >= 0.0 and hi <= 1.0):
            raise InputError(f"values must lie in [0, 1], got min {lo:g}, max {hi:g}", field="images")
    return PRESETS[preset]


def corrupt(
    images: torch.Tensor,
    name: str,
    severity: int,
    *,
    preset: str = "tiny-imagenet",
    seed: int = 0,
    indices: Sequence[int] | torch.Tensor | None = None,
    jpeg_roundtrip_quality: int | None = None,
) -> torch.Tensor:
    """Corrupt a batch ``(B, C, H, W)`` in [0, 1] -> same shape, dtype and device, in [0, 1].

    ``indices``: one integer per image for seeding (default ``0..B-1``). ``jpeg_roundtrip_quality``:
    finish with a JPEG round trip at this quality, e.g. ``RELEASED_JPEG_QUALITY`` (85) to match the released
    Tiny-ImageNet-C files, which were saved as JPEG.
    """
    resolved = _validate(images, name, severity, preset)
    b, c, h, w = images.shape
    if (h, w) != (resolved.size, resolved.size):
        warnings.warn(
            f"preset {preset!r} is calibrated for {resolved.size} px images, got {h}x{w}; severities may not "
            "compare with the published benchmark",
            UserWarning,
            stacklevel=2,
        )
    if b == 0:
        return images.clone()
    if indices is None:
        indices = range(b)
    elif len(indices) != b:
        raise InputError(f"needs one index per image: {len(indices)} indices for {b} images", field="indices")
    indices = [int(i) for i in indices]
    chunk = b if images.device.type != "cpu" else max(1, CPU_CHUNK_BYTES // (3 * h * w * 4))
    out = torch.empty_like(images)
    for i in range(0, b, chunk):
        part = _corrupt_chunk(
            images[i : i + chunk],
            indices[i : i + chunk],
            name,
            severity,
            seed,
            resolved,
            jpeg_roundtrip_quality,
        )
        if part.dtype == images.dtype:
            torch.clamp(part, 0, 1, out=out[i : i + chunk])  # one pass clamps and stores
        else:
            out[i : i + chunk] = part.clamp(0, 1)
    return out


def _corrupt_chunk(
    images: torch.Tensor,
    indices: list[int],
    name: str,
    severity: int,
    seed: int,
    preset: Preset,
    jpeg_roundtrip_quality: int | None,
) -> torch.Tensor:
    """The corrupted chunk in the working precision (float32 or float64), not yet clamped."""
    b, c, h, w = images.shape
    work = torch.float64 if images.dtype == torch.float64 else torch.float32
    x = images.to(work)
    if c == 1:
        x = x.expand(b, 3, h, w)
    x = x.contiguous()
    rng = ImageRandom(seed, indices, name, severity, images.device)
    out = _FUNCTIONS[name](x, preset.params[name][severity - 1], rng, preset)
    if jpeg_roundtrip_quality is not None:
        out = jpeg_roundtrip(out, jpeg_roundtrip_quality)
    if c == 1:
        out = rgb_to_gray_torch(out)
    return out


def to_uint8(images: torch.Tensor) -> torch.Tensor:
    """Quantise like the reference scripts (``np.uint8(x * 255)``: truncation), absorbing float error."""
    return torch.floor(images * 255 + 1e-3).clamp(0, 255).to(torch.uint8)
