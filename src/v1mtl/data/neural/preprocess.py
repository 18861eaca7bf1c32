"""Turn a V1 dataset's stimuli into network input: crop, subsample, rescale, z-score.

Reference (sinzlab/nnvision ``nnvision/datasets/utility.py``: ``Crop``, ``Rescale``, ``ImageCache``; see
docs/reference-implementation.md, 'V1 recordings'):

- ``Crop(crop, subsample)`` keeps ``image[top:h-bottom:subsample, left:w-right:subsample]``; an int crop
  removes that many pixels from every side. (As in the reference code, the first pair of a per-side crop
  applies to rows, the second to columns.)
- ``Rescale(scale)``: ``skimage.transform.rescale(x, scale, mode='reflect', anti_aliasing=False,
  preserve_range=True).astype(x.dtype)``; the cast back truncates uint8 images, and is kept for fidelity.
- ``ToTensor`` divides uint8 images by 255; then ``Normalize(mean, std)`` with scalar statistics, either
  given (e.g. TinyImageNet gray 0.4519 / 0.2221 for the MTL datasets) or computed as the mean and standard
  deviation of all images, divided by 255 (``ImageCache.zscore_images``).

Here the statistics are computed on the images after crop/subsample/rescale, in the units the network sees:
[0, 1]. uint8 stimuli are divided by 255; float stimuli must already be in [0, 1] (``check_unit_range``, which
fit-neural and the predictivity stage apply), because a trained network's input statistics are in those units.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from tqdm import tqdm

from v1mtl.common.errors import InputError

Crop = int | tuple[tuple[int, int], tuple[int, int]]


@dataclass(frozen=True)
class ImageStats:
    """Scalar z-scoring statistics, in network-input units ([0, 1] for uint8 stimuli)."""

    mean: float
    std: float

    def to_dict(self) -> dict[str, float]:
        return {"mean": self.mean, "std": self.std}


def crop_subsample(images: np.ndarray, crop: Crop = 0, subsample: int = 1) -> np.ndarray:
    """``(n, h, w)`` -> ``(n, h', w')``: drop ``crop`` pixels per side, then keep every ``subsample``-th."""
    (top, bottom), (left, right) = ((crop, crop), (crop, crop)) if isinstance(crop, int) else crop
    if min(top, bottom, left, right) < 0 or subsample < 1:
        raise InputError(f"crop must be >= 0 and subsample >= 1, got {crop}, {subsample}", field="crop")
    h, w = images.shape[1:3]
    if top + bottom >= h or left + right >= w:
        raise InputError(f"crop {crop} leaves nothing of a {h}x{w} image", field="crop")
    return images[:, top : h - bottom : subsample, left : w - right : subsample]


def rescale_images(images: np.ndarray, scale: float) -> np.ndarray:
    """``(n, h, w)`` -> ``(n, round(h*scale), round(w*scale))`` with the reference's skimage settings."""
    if scale == 1:
        return images
    if scale <= 0:
        raise InputError(f"must be positive, got {scale}", field="scale")
    from skimage.transform import rescale

    out = [
        rescale(img, scale, mode="reflect", anti_aliasing=False, preserve_range=True).astype(images.dtype)
        for img in tqdm(
            images, desc="rescale", unit="img", leave=False, disable=True if len(images) < 500 else None
        )
    ]
    return np.stack(out)


def to_unit_range(images: np.ndarray) -> np.ndarray:
    """float32 copy; uint8 images are divided by 255 (``ToTensor``), float images keep their values."""
    if images.dtype == np.uint8:
        return images.astype(np.float32) / np.float32(255.0)
    return images.astype(np.float32)


def check_unit_range(images: np.ndarray, path) -> None:
    """Refuse float (or non-uint8 integer) stimuli ``(n, h, w)`` outside [0, 1]: they would be z-scored
    with statistics in [0, 1] units and reach the network hundreds of times too large."""
    if images.dtype == np.uint8 or images.size == 0:
        return
    low, high = float(np.min(images)), float(np.max(images))
    if low < 0 or high > 1:
        raise InputError(
            f"float stimuli must lie in [0, 1] (uint8 ones in [0, 255]), got {low:g} to {high:g}",
            path=path,
            field="images",
        )


def compute_stats(images: np.ndarray) -> ImageStats:
    """Mean and (population) standard deviation over every pixel of ``(n, h, w)`` network-unit images."""
    x = np.asarray(images, dtype=np.float64)
    return ImageStats(mean=float(x.mean()), std=float(x.std()))


def prepare_images(
    images: np.ndarray,
    crop: Crop = 0,
    subsample: int = 1,
    scale: float = 1.0,
    stats: ImageStats | None = None,
) -> tuple[np.ndarray, ImageStats]:
    """Stimuli ``(n, h, w)`` -> z-scored float32 network input ``(n, 1, h', w')`` and the statistics used.

    ``stats`` None computes them from these images (after crop, subsample and rescale).
    """
    x = to_unit_range(rescale_images(crop_subsample(np.asarray(images), crop, subsample), scale))
    if stats is None:
        stats = compute_stats(x)
    if not stats.std > 0:
        raise InputError(f"image standard deviation must be positive, got {stats.std}", field="std")
    x -= np.float32(stats.mean)
    x /= np.float32(stats.std)
    return x[:, None], stats
