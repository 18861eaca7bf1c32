"""Grayscale conversion with PIL's luma weights (ITU-R BT.601: L = 0.299 R + 0.587 G + 0.114 B).

The paper converts TinyImageNet to grayscale with torchvision's ``Grayscale``, which uses these weights;
PIL's ``Image.convert("L")`` uses the same ones (in integer arithmetic, ``(R*299 + G*587 + B*114) / 1000``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import torch

LUMA_WEIGHTS = (0.299, 0.587, 0.114)


def rgb_to_gray_np(rgb: np.ndarray) -> np.ndarray:
    """``(..., 3)`` RGB array -> ``(...)`` float32 luma in the same value range."""
    w = np.asarray(LUMA_WEIGHTS, dtype=np.float32)
    return rgb[..., :3].astype(np.float32) @ w


def rgb_to_gray_torch(rgb: torch.Tensor) -> torch.Tensor:
    """``(B, 3, H, W)`` -> ``(B, 1, H, W)`` luma, same dtype and device."""
    import torch  # lazily: the NumPy path (bundled photographs) should not pay for importing torch

    w = torch.tensor(LUMA_WEIGHTS, dtype=rgb.dtype, device=rgb.device).view(1, 3, 1, 1)
    return (rgb * w).sum(dim=1, keepdim=True)
