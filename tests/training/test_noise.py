"""The Gaussian-noise mixture: level frequencies, noise std in both spaces, clean images untouched."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from v1mtl.training.noise import GRAY_NOISE_FACTOR, add_noise_mixture, add_noise_normalized, draw_levels

STDS = [0.08, 0.12, 0.18, 0.26, 0.38]
PROBS = [0.1] * 5


def test_level_frequencies():
    n = 40000
    levels = draw_levels(n, PROBS, torch.Generator().manual_seed(0)).numpy()
    freq = np.array([(levels == i).mean() for i in range(5)] + [(levels == -1).mean()])
    expected = np.array(PROBS + [0.5])
    # binomial standard error at n=40000 is <= 0.0025; allow 4 of them
    np.testing.assert_allclose(freq, expected, atol=0.01)


def _reference_std(std: float, space: str, n: int = 400_000) -> float:
    """NumPy re-statement: noise per channel on mid-gray, clamp per channel, luma-weight the channels."""
    rng = np.random.default_rng(0)
    weights = np.array([0.299, 0.587, 0.114]) if space == "rgb" else np.array([1.0])
    channels = np.clip(0.5 + std * rng.standard_normal((n, len(weights))), 0, 1)
    return float((channels @ weights - 0.5).std())


@pytest.mark.parametrize("space", ["gray", "rgb"])
def test_noise_std_per_level(space):
    x = torch.full((3000, 1, 8, 8), 0.5)
    noisy, levels = add_noise_mixture(x, STDS, PROBS, torch.Generator().manual_seed(1), space=space)
    diff = (noisy - x).reshape(len(x), -1)
    assert torch.equal(noisy[levels == -1], x[levels == -1])
    for i, s in enumerate(STDS):
        measured = diff[levels == i].std().item()
        assert measured == pytest.approx(_reference_std(s, space), rel=0.03)
    # where clamping is negligible, the rgb route scales the std by the luma-weight norm
    assert _reference_std(0.08, "rgb") == pytest.approx(0.08 * GRAY_NOISE_FACTOR, rel=0.01)
    assert GRAY_NOISE_FACTOR == pytest.approx(0.6686, abs=1e-4)


def test_clamped_and_normalized_version_agree():
    x = torch.rand(64, 1, 8, 8)
    a, _ = add_noise_mixture(x, STDS, PROBS, torch.Generator().manual_seed(2))
    assert a.min() >= 0 and a.max() <= 1
    mean, std = 0.45, 0.22
    b = add_noise_normalized((x - mean) / std, mean, std, STDS, PROBS, torch.Generator().manual_seed(2))
    torch.testing.assert_close(b * std + mean, a, atol=1e-5, rtol=0)
