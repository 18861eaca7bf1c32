"""PGD against closed-form worst cases of a linear classifier, and the gradient-masking check."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from v1mtl.common.errors import InputError
from v1mtl.evaluate.adversarial import (
    AdversarialRow,
    csv_rows,
    evaluate_adversarial,
    gradient_masking_reasons,
    pgd,
)


class Linear2(nn.Module):
    """Two-class logits ``[0, w·x + b]``: class 1 when the margin ``w·x + b`` is positive."""

    def __init__(self, w: torch.Tensor, b: float = 0.0):
        super().__init__()
        self.w = w
        self.b = b

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        margin = (x.flatten(1) * self.w.flatten()).sum(1) + self.b
        return torch.stack([torch.zeros_like(margin), margin], dim=1)


class Rounded(Linear2):
    """The same classifier behind a rounding of the input: zero gradient everywhere (masked)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(torch.round(x * 4) / 4)


def _setup(x_value: float = 0.5):
    gen = torch.Generator().manual_seed(1)
    w = torch.randn(1, 1, 4, 4, generator=gen)
    x = torch.full((3, 1, 4, 4), x_value)
    model = Linear2(w, b=-float((w * x[0]).sum()) + 0.05)  # margin +0.05 at x: class 1, barely
    y = torch.ones(3, dtype=torch.long)
    return model, w, x, y


def test_linf_finds_the_closed_form_worst_case():
    model, w, x, y = _setup()
    eps = 0.1
    r = pgd(model, x, y, norm="linf", eps=eps, steps=20, generator=torch.Generator().manual_seed(0))
    # margin > 0, so the loss of class 1 rises by moving against w
    expected = x - eps * w.sign()
    assert torch.allclose(r.adversarial, expected.expand_as(x), atol=1e-6)
    assert not r.correct.any()
    assert (r.loss_end > r.loss_start).all()


def test_l2_from_the_clean_image_finds_the_closed_form_worst_case():
    model, w, x, y = _setup()
    eps = 0.3
    r = pgd(model, x, y, norm="l2", eps=eps, steps=20, random_start=False)
    expected = x - eps * w / w.norm()
    assert torch.allclose(r.adversarial, expected.expand_as(x), atol=1e-6)


def test_l2_from_a_random_start_ends_on_the_budget_near_the_worst_case():
    model, w, x, y = _setup()
    eps = 0.3
    r = pgd(model, x, y, norm="l2", eps=eps, steps=20, generator=torch.Generator().manual_seed(0))
    delta = (r.adversarial - x).flatten(1)
    assert torch.allclose(delta.norm(dim=1), torch.full((3,), eps), atol=1e-5)
    # the projection leaves about e^-2.5 of the random start's part orthogonal to w (AdversarialConfig)
    cosine = -(delta @ w.flatten()) / (delta.norm(dim=1) * w.norm())
    assert (cosine > 0.95).all()


def test_a_negative_margin_is_attacked_the_other_way():
    model, w, x, y = _setup()
    r = pgd(model, x, torch.zeros_like(y), norm="linf", eps=0.1, steps=20)
    assert torch.allclose(r.adversarial, (x + 0.1 * w.sign()).expand_as(x), atol=1e-6)


def test_attacks_stay_in_valid_pixels_and_reach_the_clipped_optimum():
    model, w, x, y = _setup(x_value=0.97)
    r = pgd(model, x, y, norm="linf", eps=0.1, steps=20)
    assert r.adversarial.min() >= 0 and r.adversarial.max() <= 1
    assert torch.allclose(r.adversarial, (x - 0.1 * w.sign()).clamp(0, 1).expand_as(x), atol=1e-6)
    r2 = pgd(model, x, y, norm="l2", eps=2.0, steps=20)
    assert r2.adversarial.min() >= 0 and r2.adversarial.max() <= 1


def test_zero_budget_is_clean_accuracy_and_leaves_the_images():
    model, _, x, y = _setup()
    r = pgd(model, x, y, norm="l2", eps=0.0, steps=5)
    assert torch.equal(r.adversarial, x) and r.correct.all() and torch.equal(r.loss_end, r.loss_start)


def test_eot_averages_over_that_many_forward_passes_per_step():
    model, _, x, y = _setup()
    calls = []

    class Counting(nn.Module):
        def forward(self, z):
            calls.append(torch.is_grad_enabled())
            return model(z)

    pgd(Counting(), x, y, norm="linf", eps=0.1, steps=4, restarts=2, eot_samples=3)
    # gradient passes: steps x restarts x eot_samples
    assert sum(calls) == 4 * 2 * 3


def test_rows_are_repeatable_with_the_seed_and_accuracy_falls_with_the_budget():
    gen = torch.Generator().manual_seed(3)
    model = nn.Sequential(nn.Flatten(), nn.Linear(16, 3))
    x = torch.rand(12, 1, 4, 4, generator=gen)
    y = model(x).argmax(1)  # every image correct when clean
    batches = [(x[:5], y[:5]), (x[5:], y[5:])]
    budgets = {"linf": [0.0, 0.05, 0.5], "l2": [0.0, 4.0]}
    rows = evaluate_adversarial(model, batches, budgets, model_name="m", steps=10, restarts=2, seed=7)
    again = evaluate_adversarial(model, batches, budgets, model_name="m", steps=10, restarts=2, seed=7)
    assert rows == again
    assert [(r.norm, r.eps, r.n) for r in rows] == [
        ("linf", 0.0, 12),
        ("linf", 0.05, 12),
        ("linf", 0.5, 12),
        ("l2", 0.0, 12),
        ("l2", 4.0, 12),
    ]
    assert rows[0].accuracy == 1.0 and rows[2].accuracy == 0.0 and rows[4].accuracy == 0.0
    assert gradient_masking_reasons(rows, n_classes=3) == []
    assert ",".join(csv_rows(rows)[0]) == "model,norm,eps,n,correct,accuracy,mean_loss_start,mean_loss_end"


def test_a_masked_gradient_is_flagged():
    model, w, x, y = _setup()
    masked = Rounded(w, model.b)
    rows = evaluate_adversarial(masked, [(x, y)], {"linf": [0.0, 0.05]}, model_name="m", steps=5)
    reasons = gradient_masking_reasons(rows, n_classes=2)
    assert any("did not raise the loss" in r for r in reasons)
    assert any("above chance" in r for r in reasons)


def test_accuracy_that_rises_with_the_budget_is_flagged():
    rows = [
        AdversarialRow("m", "l2", 0.0, 10, 9, 0.1, 0.1),
        AdversarialRow("m", "l2", 0.5, 10, 2, 0.1, 1.0),
        AdversarialRow("m", "l2", 1.0, 10, 4, 0.1, 2.0),
    ]
    reasons = gradient_masking_reasons(rows, n_classes=2)
    assert reasons == ["l2: accuracy rises from 0.200 at eps=0.5 to 0.400 at eps=1"]


def test_an_unknown_norm_is_an_input_error():
    model, _, x, y = _setup()
    with pytest.raises(InputError, match="field 'norms': unknown norm 'l1'"):
        pgd(model, x, y, norm="l1", eps=0.1, steps=2)
