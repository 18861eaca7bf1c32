"""Neural losses and learned task weights, against hand-computed values."""

from __future__ import annotations

import math

import pytest
import torch

from v1mtl.fitting.losses import LearnedLossWeight, masked_mse, poisson_loss, scaled_poisson_loss

PRED = torch.tensor([[1.0, 2.0], [0.5, 4.0]])
TARGET = torch.tensor([[2.0, 0.0], [1.0, 3.0]])
MASK = torch.tensor([[True, True], [False, True]])


def test_poisson_sums_recorded_entries():
    expected = (1 - 2 * math.log(1)) + (2 - 0) + (4 - 3 * math.log(4))
    assert poisson_loss(PRED, TARGET, MASK).item() == pytest.approx(expected, rel=1e-6)
    full = expected + (0.5 - 1 * math.log(0.5))
    assert poisson_loss(PRED, TARGET).item() == pytest.approx(full, rel=1e-6)


def test_poisson_ignores_nan_targets_under_mask():
    target = TARGET.clone()
    target[1, 0] = float("nan")
    loss = poisson_loss(PRED, target, MASK)
    assert torch.isfinite(loss)
    assert loss.item() == pytest.approx(poisson_loss(PRED, TARGET, MASK).item())


def test_scaled_poisson_uses_sqrt_of_trials_over_batch():
    assert scaled_poisson_loss(PRED, TARGET, MASK, n_train=50).item() == pytest.approx(
        poisson_loss(PRED, TARGET, MASK).item() * 5.0, rel=1e-6
    )


def test_masked_mse_is_mean_over_recorded_entries():
    expected = ((1 - 2) ** 2 + (2 - 0) ** 2 + (4 - 3) ** 2) / 3
    assert masked_mse(PRED, TARGET, MASK).item() == pytest.approx(expected)
    assert masked_mse(PRED, TARGET).item() == pytest.approx(torch.nn.functional.mse_loss(PRED, TARGET).item())
    target = TARGET.clone()
    target[1, 0] = float("nan")
    assert masked_mse(PRED, target, MASK).item() == pytest.approx(expected)
    assert masked_mse(PRED, TARGET, torch.zeros_like(MASK)).item() == 0.0


def test_learned_weight_formulas():
    w = LearnedLossWeight()
    assert w.log_weight.item() == 0.0
    with torch.no_grad():
        w.log_weight.fill_(0.7)
    ce, mse = torch.tensor(2.0), torch.tensor(3.0)
    assert w.classification(ce).item() == pytest.approx(math.exp(-0.7) * 2 + 0.35)
    assert w.mse(mse).item() == pytest.approx(0.5 * math.exp(-0.7) * 3 + 0.35)
    assert w.weight.item() == pytest.approx(math.exp(0.7))


def test_learned_weight_gradient_balances_loss():
    # d/ds [exp(-s) * L + s / 2] = 0 at s = log(2 L): the optimum the weighting converges to.
    w = LearnedLossWeight()
    loss = torch.tensor(4.0)
    with torch.no_grad():
        w.log_weight.fill_(math.log(8.0))
    w.classification(loss).backward()
    assert w.log_weight.grad.item() == pytest.approx(0.0, abs=1e-6)


def test_negative_binomial_matches_hand_computed_nll():
    w = LearnedLossWeight()
    with torch.no_grad():
        w.log_weight.fill_(math.log(2.0))
    pred, y = torch.tensor([[3.0]]), torch.tensor([[1.0]])
    r, mu = 2.0, 3.0
    # NB pmf: Gamma(y+r) / (Gamma(r) y!) * (r/(r+mu))^r * (mu/(r+mu))^y
    pmf = math.gamma(1 + r) / (math.gamma(r) * 1) * (r / (r + mu)) ** r * (mu / (r + mu)) ** 1
    assert w.negative_binomial(pred, y).item() == pytest.approx(-math.log(pmf), rel=1e-5)
    two = w.negative_binomial(
        pred.repeat(2, 1), y.repeat(2, 1), torch.tensor([[True], [False]]), reduction="sum"
    )
    assert two.item() == pytest.approx(-math.log(pmf), rel=1e-5)
