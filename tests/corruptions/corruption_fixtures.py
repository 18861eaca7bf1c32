"""Helpers for the corruption tests: real RGB photograph crops from installed packages."""

from __future__ import annotations

import numpy as np
import torch


def _rgb_photos() -> list[np.ndarray]:
    import skimage.data
    from sklearn.datasets import load_sample_images

    photos = [skimage.data.astronaut(), skimage.data.chelsea(), skimage.data.coffee(), skimage.data.rocket()]
    photos += list(load_sample_images().images)
    return photos


def photo_crops(count: int, size: int, seed: int = 0) -> np.ndarray:
    """``(count, size, size, 3)`` uint8 random crops of six RGB photographs."""
    photos = _rgb_photos()
    rs = np.random.RandomState(seed)
    out = []
    for i in range(count):
        img = photos[i % len(photos)]
        top, left = rs.randint(0, img.shape[0] - size), rs.randint(0, img.shape[1] - size)
        out.append(img[top : top + size, left : left + size])
    return np.stack(out)


def to_tensor(crops: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(crops).permute(0, 3, 1, 2).float() / 255


def from_tensor(images: torch.Tensor) -> np.ndarray:
    from v1mtl.corruptions import to_uint8

    return to_uint8(images).permute(0, 2, 3, 1).numpy()


def psnr(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Per-image PSNR (dB) of uint8 ``(N, H, W, 3)`` arrays."""
    mse = ((a.astype(np.float64) - b.astype(np.float64)) ** 2).mean(axis=(1, 2, 3))
    return 10 * np.log10(255.0**2 / np.maximum(mse, 1e-10))
