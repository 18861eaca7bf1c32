"""Poisson photon counts: the alias tables against the Poisson pmf, the draws against the Poisson law, and
the per-image choice between the table path (8-bit values) and ``torch.poisson`` (anything else)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy import stats

from v1mtl.corruptions import PRESETS, _poisson, corrupt
from v1mtl.corruptions._random import ImageRandom

pytestmark = pytest.mark.filterwarnings("ignore:preset .* is calibrated:UserWarning")


@pytest.mark.parametrize("rate", [3.0, 60.0, 500.0])
def test_alias_table_reproduces_the_poisson_pmf(rate):
    probability, alias = _poisson.alias_table(rate)
    width = _poisson.support(rate)
    # Column j hands probability/width to itself and the rest of its 1/width to its alias.
    rows = torch.arange(256).repeat_interleave(width)
    mass = torch.zeros(256, width, dtype=torch.float64)
    mass.view(-1).index_put_((torch.arange(256 * width),), probability / width)
    mass.index_put_((rows, alias.long()), (1 - probability) / width, accumulate=True)
    means = np.arange(256)[:, None] / 255 * rate
    expected = stats.poisson.pmf(np.arange(width)[None], means)
    np.testing.assert_allclose(mass.numpy(), expected, rtol=0, atol=1e-12)


@pytest.mark.parametrize(("level", "rate"), [(0, 60.0), (1, 60.0), (128, 60.0), (255, 3.0), (200, 500.0)])
def test_counts_of_eight_bit_values_follow_the_poisson_law(level, rate):
    x = torch.full((4, 50_000), float(level)) / 255  # float32, as images read from 8-bit files are
    rng = ImageRandom(0, range(4), "shot_noise", 1, torch.device("cpu"))
    counts = _poisson.photon_counts(x, rate, rng)
    assert counts.dtype == x.dtype and counts.shape == x.shape
    mean = level / 255 * rate
    observed = np.bincount(counts.long().flatten().numpy(), minlength=_poisson.support(rate))
    expected = stats.poisson.pmf(np.arange(observed.size), mean) * counts.numel()
    if mean == 0:
        assert observed[0] == counts.numel()
        return
    # Pool the sparse tail bins so every expected count is at least 5 (chi-square validity).
    keep = expected >= 5
    obs = np.append(observed[keep], observed[~keep].sum())
    exp = np.append(expected[keep], expected[~keep].sum())
    assert stats.chisquare(obs, exp * obs.sum() / exp.sum()).pvalue > 1e-4


def test_eight_bit_levels_flags_each_image():
    eight_bit = torch.randint(0, 256, (2, 3, 16, 16)).float() / 255
    other = (eight_bit[:1] + 0.3 / 255).clamp(0, 1)
    via_double = (
        (torch.arange(256, dtype=torch.float64) / 255).float().view(1, 1, 16, 16).expand(1, 3, -1, -1)
    )
    levels, flags = _poisson.eight_bit_levels(torch.cat([eight_bit, other, via_double]))
    assert flags == [True, True, False, True]
    assert torch.equal(levels[:2], (eight_bit * 255).round())


def test_mixed_batches_give_each_image_its_own_result(photos32):
    off_grid = (photos32[1:2] + 0.3 / 255).clamp(0, 1)
    batch = torch.cat([photos32[:1], off_grid, photos32[2:3]])
    together = corrupt(batch, "shot_noise", 3, preset="imagenet", seed=5)
    for i in range(3):
        alone = corrupt(batch[i : i + 1], "shot_noise", 3, preset="imagenet", seed=5, indices=[i])
        assert torch.equal(alone[0], together[i])
    # The off-grid image went through torch.poisson: its counts still have the Poisson variance.
    rate = PRESETS["imagenet"].params["shot_noise"][2]
    noise = together[1] - off_grid[0]
    inner = (off_grid[0] > 0.05) & (off_grid[0] < 0.9)
    ratio = (noise[inner].var() / (off_grid[0][inner].mean() / rate)).item()
    assert 0.7 < ratio < 1.3
