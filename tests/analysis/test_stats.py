import numpy as np
import pytest
from scipy import stats as sps

from v1mtl.common.stats import (
    bootstrap_mean,
    bootstrap_spearman,
    paired_bootstrap_difference,
    spearman,
    t_mean,
)


def test_bootstrap_mean_covers_the_mean_and_shrinks_with_n():
    rng = np.random.default_rng(0)
    small = bootstrap_mean(rng.normal(1.0, 1.0, 20), n_boot=500)
    large = bootstrap_mean(rng.normal(1.0, 1.0, 2000), n_boot=500)
    assert small.ci_low < small.value < small.ci_high
    assert large.ci_high - large.ci_low < 0.3 * (small.ci_high - small.ci_low)
    assert large.ci_low < 1.0 < large.ci_high
    same = bootstrap_mean(np.array([2.0, 2.0, np.nan]))
    assert (same.value, same.ci_low, same.ci_high, same.n) == (2.0, 2.0, 2.0, 2)


def test_paired_difference_sees_a_shift_hidden_by_between_unit_spread():
    rng = np.random.default_rng(1)
    base = rng.normal(0, 5, 30)
    est = paired_bootstrap_difference(base, base + 0.5 + rng.normal(0, 0.1, 30), n_boot=500)
    assert est.value == pytest.approx(0.5, abs=0.05)
    assert est.excludes_zero()


def test_spearman_matches_scipy_with_ties():
    x = np.array([1, 2, 2, 3, 5, 4.0])
    y = np.array([2, 1, 4, 3, 6, 6.0])
    assert spearman(x, y) == pytest.approx(sps.spearmanr(x, y).statistic)
    assert np.isnan(spearman(np.ones(4), np.arange(4.0)))
    est = bootstrap_spearman(np.arange(2.0), np.arange(2.0))
    assert np.isnan(est.ci_low)


def test_t_mean_matches_the_textbook_interval():
    # values 1, 2, 3: mean 2, sd 1, t(0.975, 2) = 4.3027 -> half width 4.3027 / sqrt(3) = 2.4841
    est = t_mean(np.array([1.0, 2.0, 3.0, np.nan]))
    assert est.n == 3 and est.value == 2.0
    assert abs(est.ci_high - 2.0 - 4.302653 / np.sqrt(3)) < 1e-5
    assert abs((est.ci_high + est.ci_low) / 2 - 2.0) < 1e-12
    single = t_mean(np.array([0.7]))
    assert single.value == 0.7 and np.isnan(single.ci_low)
