"""The 19 ImageNet-C corruptions as batched tensor operations, with per-resolution presets.

``corrupt(images, name, severity, preset=..., seed=...)`` takes ``(B, C, H, W)`` float images in [0, 1]
(C = 1 or 3, CPU or GPU) and returns the same shape, dtype and device. See ``docs/corruptions.md`` for the
algorithms, the presets, the seeding rule and every deliberate deviation from the reference scripts
(hendrycks/robustness ``ImageNet-C/create_c``; bethgelab/imagecorruptions).

Colour rule: the references corrupt 8-bit RGB. A gray image (C = 1) is corrupted as the RGB image with
R = G = B and converted back to gray with the PIL/ITU-R 601 luma weights, which is what corrupting RGB
and then converting to gray (the paper's order) gives.

Seeding rule: image ``i`` of a batch draws all its random numbers from a generator seeded by
``(seed, indices[i], name, severity)``; ``indices`` defaults to ``0..B-1``. Pass dataset indices to make
a corrupted set independent of batching.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__all__ = ["corrupt", "names", "to_uint8", "PRESETS", "RELEASED_JPEG_QUALITY"]


def __getattr__(name: str) -> Any:
    # The API imports torch; resolving it on first use keeps the parameter tables (``presets``) and the
    # command line's start-up free of that cost.
    if name in __all__ or name in ("MIN_SIDE",):
        return getattr(import_module("v1mtl.corruptions.api"), name)
    raise AttributeError(f"module 'v1mtl.corruptions' has no attribute {name!r}")
