"""The under-trained check: still rising at max_epochs beyond twice the binomial standard error."""

from __future__ import annotations

import math

from v1mtl.training.convergence import convergence


def test_a_curve_still_rising_at_the_end_is_under_trained():
    curve = [0.2, 0.3, 0.4, 0.45, 0.5, 0.55, 0.58, 0.62]
    check = convergence(curve, initial=0.1, n_val=1000, stopped_early=False)
    assert check["window"] == 2
    assert math.isclose(check["recent_gain"], 0.62 - 0.55)
    assert math.isclose(check["noise"], 2 * math.sqrt(0.62 * 0.38 / 1000))
    assert check["under_trained"]


def test_a_plateau_within_noise_is_converged_and_early_stopping_always_is():
    plateau = [0.3, 0.5, 0.55, 0.57, 0.58, 0.58, 0.585, 0.59, 0.59, 0.592]
    assert not convergence(plateau, initial=0.1, n_val=1000, stopped_early=False)["under_trained"]
    # the same small gain on 50 validation images is noise too; on 100 000 it is not
    small = [0.5, 0.55, 0.58, 0.6]
    assert not convergence(small, initial=0.1, n_val=50, stopped_early=False)["under_trained"]
    assert convergence(small, initial=0.1, n_val=100_000, stopped_early=False)["under_trained"]
    rising = [0.2, 0.3, 0.4, 0.5]
    assert not convergence(rising, initial=0.1, n_val=1000, stopped_early=True)["under_trained"]


def test_window_grows_with_the_run_and_too_short_runs_cannot_be_called_converged():
    assert convergence([0.5] * 40, initial=0.1, n_val=500, stopped_early=False)["window"] == 4
    short = convergence([0.5, 0.6], initial=0.1, n_val=500, stopped_early=False)
    assert short["under_trained"] and short["recent_gain"] is None
