"""Noise corruptions on ``(B, 3, H, W)`` images in [0, 1].

Algorithms of hendrycks/robustness ``make_*_c.py`` and bethgelab/imagecorruptions: additive Gaussian,
Poisson photon noise ``Pois(x·λ) / λ``, salt-and-pepper as ``skimage.util.random_noise(mode="s&p")``
(each channel value replaced independently with probability ``amount``, half of them by 1 and half by 0), and
multiplicative speckle ``x + x·N(0, σ)``.
"""

from __future__ import annotations

import torch

from v1mtl.corruptions import _poisson
from v1mtl.corruptions._random import ImageRandom
from v1mtl.corruptions.presets import Preset


def gaussian_noise(x: torch.Tensor, sigma: float, rng: ImageRandom, preset: Preset) -> torch.Tensor:
    return (x + rng.normal(x.shape[1:], std=sigma).to(x.dtype)).clamp(0, 1)


def shot_noise(x: torch.Tensor, rate: float, rng: ImageRandom, preset: Preset) -> torch.Tensor:
    return _poisson.photon_counts(x, rate, rng).div_(rate).clamp_(0, 1)


def impulse_noise(x: torch.Tensor, amount: float, rng: ImageRandom, preset: Preset) -> torch.Tensor:
    # One uniform per value: below amount/2 -> salt (1), in [amount/2, amount) -> pepper (0); the same
    # joint law as skimage's separate "flipped" and "salted" draws with salt_vs_pepper = 0.5.
    u = rng.uniform(x.shape[1:], dtype=torch.float32)
    return torch.where(u < amount, (u < amount / 2).to(x.dtype), x)


def speckle_noise(x: torch.Tensor, sigma: float, rng: ImageRandom, preset: Preset) -> torch.Tensor:
    return (x + x * rng.normal(x.shape[1:], std=sigma).to(x.dtype)).clamp(0, 1)
