"""Small fixtures shared by the robustness tests: a brightness classifier with known behaviour."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from v1mtl.data.images import ImageSplit


class BrightnessClassifier(nn.Module):
    """Two classes: 1 when an image's mean intensity exceeds ``threshold``. Logits ``[t - m, m - t]``.

    Counts its forward calls, so tests can tell whether a condition was computed.
    """

    def __init__(self, threshold: float = 0.5):
        super().__init__()
        self.threshold = threshold
        self.calls = 0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.calls += 1
        m = x.mean(dim=(1, 2, 3))
        return torch.stack([self.threshold - m, m - self.threshold], dim=1)


def brightness_split(n: int = 40, size: int = 8, seed: int = 0, color: bool = False) -> ImageSplit:
    """Images of random levels plus texture; labels are the level's side of 0.5, a quarter flipped.

    Levels stay 0.05 away from 0.5, so rounding to uint8 never moves an image across the threshold.
    """
    rng = np.random.default_rng(seed)
    levels = np.where(rng.random(n) < 0.5, rng.uniform(0.1, 0.45, n), rng.uniform(0.55, 0.9, n))
    images = levels[:, None, None] + rng.normal(0, 0.05, (n, size, size))
    if color:
        images = images[..., None] + rng.normal(0, 0.05, (n, size, size, 3))
    labels = (levels > 0.5).astype(np.int64)
    flip = rng.permutation(n)[: n // 4]
    labels[flip] = 1 - labels[flip]
    return ImageSplit(np.clip(np.round(images * 255), 0, 255).astype(np.uint8), labels)


def direct_accuracy(gray: np.ndarray, labels: np.ndarray, threshold: float = 0.5) -> float:
    """Accuracy of the brightness rule computed with NumPy on ``(n, H, W)`` gray images in [0, 1]."""
    pred = (gray.reshape(len(gray), -1).mean(axis=1) > threshold).astype(np.int64)
    return float((pred == labels).mean())
