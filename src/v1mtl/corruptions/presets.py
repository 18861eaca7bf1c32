"""Per-resolution parameter tables of the 19 ImageNet-C corruptions.

Sources (values are facts carried over; severities 1..5 left to right):
- ``tiny-imagenet`` (64 px): hendrycks/robustness ``ImageNet-C/create_c/make_tinyimagenet_c.py``
  (commit 7a64e6a, 2019-01-09);
- ``imagenet`` (224 px): bethgelab/imagecorruptions ``imagecorruptions/corruptions.py``, numbers and
  algorithms (its numbers equal those of hendrycks ``make_imagenet_c.py`` except for elastic_transform);
- ``cifar`` (32 px): hendrycks/robustness ``ImageNet-C/create_c/make_cifar_c.py`` (commit ca36008).

Besides the numbers, the scripts differ in a few algorithmic choices; :class:`Preset` records them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

COMMON = (
    "gaussian_noise",
    "shot_noise",
    "impulse_noise",
    "defocus_blur",
    "glass_blur",
    "motion_blur",
    "zoom_blur",
    "snow",
    "frost",
    "fog",
    "brightness",
    "contrast",
    "elastic_transform",
    "pixelate",
    "jpeg_compression",
)
EXTRA = ("speckle_noise", "gaussian_blur", "spatter", "saturate")
ALL = COMMON + EXTRA


@dataclass(frozen=True)
class Preset:
    """One resolution's parameters plus the algorithm variants its reference script uses.

    ``size``: the image side the values were made for (``corrupt`` warns on other sizes).
    ``elastic``: ``"imagecorruptions"`` (Gaussian-smoothed uniform field, no affine) or ``"hendrycks"``
    (random affine, then a smoothed field; parameters are fractions of the image side).
    ``pixelate_up``: PIL filter of the upscale step (``"nearest"`` in imagecorruptions, ``"box"`` in the
    hendrycks 32/64 px scripts). ``zoom_trim``: where the zoomed crop is cut back to the image size
    (``"top_left"`` in imagecorruptions, ``"center"`` in hendrycks). ``frost_textures``: how many of the
    six textures are drawn from (hendrycks draws ``randint(5)``). ``frost_scale``: fixed texture rescale
    factor (hendrycks) or ``None`` for imagecorruptions' fit-to-image rule. ``quantize_snow``: the
    hendrycks scripts motion-blur the snow layer as an 8-bit image (ImageMagick via a PNG).
    """

    name: str
    size: int
    params: dict[str, tuple[Any, ...]]
    elastic: str
    pixelate_up: str
    zoom_trim: str
    frost_textures: int
    frost_scale: float | None
    quantize_snow: bool


def _zoom(stops: tuple[float, ...], steps: tuple[float, ...]) -> tuple[tuple[float, float, float], ...]:
    return tuple((1.0, stop, step) for stop, step in zip(stops, steps, strict=True))


_IMAGENET = {
    "gaussian_noise": (0.08, 0.12, 0.18, 0.26, 0.38),
    "shot_noise": (60, 25, 12, 5, 3),
    "impulse_noise": (0.03, 0.06, 0.09, 0.17, 0.27),
    "speckle_noise": (0.15, 0.2, 0.35, 0.45, 0.6),
    "gaussian_blur": (1, 2, 3, 4, 6),
    # (sigma, max displacement, iterations)
    "glass_blur": ((0.7, 1, 2), (0.9, 2, 1), (1, 2, 3), (1.1, 3, 2), (1.5, 4, 2)),
    # (disk radius, anti-alias sigma)
    "defocus_blur": ((3, 0.1), (4, 0.5), (6, 0.5), (8, 0.5), (10, 0.5)),
    # (radius, sigma)
    "motion_blur": ((10, 3), (15, 5), (15, 8), (15, 12), (20, 15)),
    "zoom_blur": _zoom((1.11, 1.16, 1.21, 1.26, 1.31), (0.01, 0.01, 0.02, 0.02, 0.03)),
    # (mean, std, zoom, threshold, motion radius, motion sigma, weight of the image)
    "snow": (
        (0.1, 0.3, 3, 0.5, 10, 4, 0.8),
        (0.2, 0.3, 2, 0.5, 12, 4, 0.7),
        (0.55, 0.3, 4, 0.9, 12, 8, 0.7),
        (0.55, 0.3, 4.5, 0.85, 12, 8, 0.65),
        (0.55, 0.3, 2.5, 0.85, 12, 12, 0.55),
    ),
    # (weight of the image, weight of the frost texture)
    "frost": ((1, 0.4), (0.8, 0.6), (0.7, 0.7), (0.65, 0.7), (0.6, 0.75)),
    # (fog strength, plasma wibble decay)
    "fog": ((1.5, 2), (2.0, 2), (2.5, 1.7), (2.5, 1.5), (3.0, 1.4)),
    "brightness": (0.1, 0.2, 0.3, 0.4, 0.5),
    "contrast": (0.4, 0.3, 0.2, 0.1, 0.05),
    # imagecorruptions: (alpha, sigma as a fraction of the side, max uniform displacement as a fraction)
    "elastic_transform": tuple((250 * a, 0.01, 0.005) for a in (0.05, 0.065, 0.085, 0.1, 0.12)),
    "pixelate": (0.6, 0.5, 0.4, 0.3, 0.25),
    "jpeg_compression": (25, 18, 15, 10, 7),
    # (mean, std, blur sigma, threshold, intensity (water) or mask sigma (mud), 0 = water / 1 = mud)
    "spatter": (
        (0.65, 0.3, 4, 0.69, 0.6, 0),
        (0.65, 0.3, 3, 0.68, 0.6, 0),
        (0.65, 0.3, 2, 0.68, 0.5, 0),
        (0.65, 0.3, 1, 0.65, 1.5, 1),
        (0.67, 0.4, 1, 0.65, 1.5, 1),
    ),
    # (multiplier, offset) of HSV saturation
    "saturate": ((0.3, 0), (0.1, 0), (2, 0), (5, 0.1), (20, 0.2)),
}

_TINY = {
    "gaussian_noise": (0.04, 0.08, 0.12, 0.15, 0.18),
    "shot_noise": (250, 100, 50, 30, 15),
    "impulse_noise": (0.01, 0.02, 0.05, 0.08, 0.14),
    "speckle_noise": (0.15, 0.2, 0.25, 0.3, 0.35),
    "gaussian_blur": (0.5, 0.75, 1, 1.25, 1.5),
    "glass_blur": ((0.1, 1, 1), (0.5, 1, 1), (0.6, 1, 2), (0.7, 2, 1), (0.9, 2, 2)),
    "defocus_blur": ((0.5, 0.6), (1, 0.1), (1.5, 0.1), (2.5, 0.01), (3, 0.1)),
    "motion_blur": ((10, 1), (10, 1.5), (10, 2), (10, 2.5), (12, 3)),
    "zoom_blur": _zoom((1.06, 1.11, 1.16, 1.21, 1.26), (0.01,) * 5),
    "snow": (
        (0.1, 0.2, 1, 0.6, 8, 3, 0.8),
        (0.1, 0.2, 1, 0.5, 10, 4, 0.8),
        (0.15, 0.3, 1.75, 0.55, 10, 4, 0.7),
        (0.25, 0.3, 2.25, 0.6, 12, 6, 0.65),
        (0.3, 0.3, 1.25, 0.65, 14, 12, 0.6),
    ),
    "frost": ((1, 0.3), (0.9, 0.4), (0.8, 0.45), (0.75, 0.5), (0.7, 0.55)),
    "fog": ((0.4, 3), (0.7, 3), (1.0, 2.5), (1.5, 2), (2.0, 1.75)),
    "brightness": (0.1, 0.2, 0.3, 0.4, 0.5),
    "contrast": (0.4, 0.3, 0.2, 0.1, 0.05),
    # hendrycks: (alpha, sigma, affine jitter), each a fraction of the image side (the script's IMSIZE * c)
    "elastic_transform": (
        (0, 0, 0.08),
        (0.05, 0.3, 0.06),
        (0.1, 0.08, 0.06),
        (0.1, 0.03, 0.03),
        (0.16, 0.03, 0.02),
    ),
    "pixelate": (0.9, 0.8, 0.7, 0.6, 0.5),
    "jpeg_compression": (65, 58, 50, 40, 25),
    "spatter": (
        (0.62, 0.1, 0.7, 0.7, 0.6, 0),
        (0.65, 0.1, 0.8, 0.7, 0.6, 0),
        (0.65, 0.3, 1, 0.69, 0.6, 0),
        (0.65, 0.1, 0.7, 0.68, 0.6, 1),
        (0.65, 0.1, 0.5, 0.67, 0.6, 1),
    ),
    "saturate": ((0.3, 0), (0.1, 0), (2, 0), (5, 0.1), (30, 0.2)),
}

_CIFAR = {
    "gaussian_noise": (0.04, 0.06, 0.08, 0.09, 0.10),
    "shot_noise": (500, 250, 100, 75, 50),
    "impulse_noise": (0.01, 0.02, 0.03, 0.05, 0.07),
    "speckle_noise": (0.06, 0.1, 0.12, 0.16, 0.2),
    "gaussian_blur": (0.4, 0.6, 0.7, 0.8, 1),
    "glass_blur": ((0.05, 1, 1), (0.25, 1, 1), (0.4, 1, 1), (0.25, 1, 2), (0.4, 1, 2)),
    "defocus_blur": ((0.3, 0.4), (0.4, 0.5), (0.5, 0.6), (1, 0.2), (1.5, 0.1)),
    "motion_blur": ((6, 1), (6, 1.5), (6, 2), (8, 2), (9, 2.5)),
    "zoom_blur": _zoom((1.06, 1.11, 1.16, 1.21, 1.26), (0.01,) * 5),
    "snow": (
        (0.1, 0.2, 1, 0.6, 8, 3, 0.95),
        (0.1, 0.2, 1, 0.5, 10, 4, 0.9),
        (0.15, 0.3, 1.75, 0.55, 10, 4, 0.9),
        (0.25, 0.3, 2.25, 0.6, 12, 6, 0.85),
        (0.3, 0.3, 1.25, 0.65, 14, 12, 0.8),
    ),
    "frost": ((1, 0.2), (1, 0.3), (0.9, 0.4), (0.85, 0.4), (0.75, 0.45)),
    "fog": ((0.2, 3), (0.5, 3), (0.75, 2.5), (1, 2), (1.5, 1.75)),
    "brightness": (0.05, 0.1, 0.15, 0.2, 0.3),
    "contrast": (0.75, 0.5, 0.4, 0.3, 0.15),
    "elastic_transform": (
        (0, 0, 0.08),
        (0.05, 0.2, 0.07),
        (0.08, 0.06, 0.06),
        (0.1, 0.04, 0.05),
        (0.1, 0.03, 0.03),
    ),
    "pixelate": (0.95, 0.9, 0.85, 0.75, 0.65),
    "jpeg_compression": (80, 65, 58, 50, 40),
    "spatter": (
        (0.62, 0.1, 0.7, 0.7, 0.5, 0),
        (0.65, 0.1, 0.8, 0.7, 0.5, 0),
        (0.65, 0.3, 1, 0.69, 0.5, 0),
        (0.65, 0.1, 0.7, 0.69, 0.6, 1),
        (0.65, 0.1, 0.5, 0.68, 0.6, 1),
    ),
    "saturate": ((0.3, 0), (0.1, 0), (1.5, 0), (2, 0.1), (2.5, 0.2)),
}

PRESETS: dict[str, Preset] = {
    "tiny-imagenet": Preset("tiny-imagenet", 64, _TINY, "hendrycks", "box", "center", 5, 0.3, True),
    "imagenet": Preset("imagenet", 224, _IMAGENET, "imagecorruptions", "nearest", "top_left", 6, None, False),
    "cifar": Preset("cifar", 32, _CIFAR, "hendrycks", "box", "center", 5, 0.2, True),
}
