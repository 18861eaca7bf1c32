"""Gaussian session readouts: initialization, sampling in training vs mu in eval, output > 0, regularizer."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from v1mtl.models.readouts import SessionReadouts


def make(sessions=None, **kw) -> SessionReadouts:
    torch.manual_seed(0)
    return SessionReadouts((8, 6, 6), sessions or {"m1.s1": 400, "m2": 3}, **kw)


def test_initialization_ranges():
    ro = make(init_mu_range=0.3, init_sigma_range=0.6)
    g = ro["m1.s1"]
    assert g.mu.abs().max() <= 0.3 and g.mu.abs().max() > 0.25
    assert g.sigma.min() >= 0 and g.sigma.max() <= 0.6 and g.sigma.max() > 0.55
    assert torch.allclose(g.features, torch.full_like(g.features, 1 / 8))
    assert torch.all(g.bias == 0)


def test_initialize_bias_sets_mean_response():
    ro = make()
    mean = torch.tensor([0.5, 2.0, 3.0])
    ro.initialize_bias("m2", mean)
    assert torch.equal(ro["m2"].bias.data, mean)
    mean[0] = 9.0  # the readout keeps its own copy
    assert ro["m2"].bias[0] == 0.5


def test_training_samples_locations_and_eval_uses_mu():
    ro = make()
    x = torch.randn(2, 8, 6, 6)
    ro.train()
    assert not torch.allclose(ro(x, "m1.s1"), ro(x, "m1.s1"))
    ro.eval()
    a, b = ro(x, "m1.s1"), ro(x, "m1.s1")
    assert torch.equal(a, b)
    # eval output = ELU(readout at mu - 1) + 1, computed independently with grid_sample
    g = ro["m1.s1"]
    grid = g.mu.clamp(-1, 1).expand(2, -1, -1, -1)
    sampled = F.grid_sample(x, grid, align_corners=True).squeeze(-1)  # (2, c, neurons)
    r = (sampled * g.features.view(1, 8, -1)).sum(1) + g.bias
    assert torch.allclose(a, F.elu(r - 1) + 1, atol=1e-6)


def test_training_samples_per_image():
    ro = make()
    ro.train()
    x = torch.randn(1, 8, 6, 6).expand(2, -1, -1, -1).contiguous()
    out = ro(x, "m1.s1")
    assert not torch.allclose(out[0], out[1])  # same image, different sampled locations


def test_output_is_positive_elu_of_r_minus_one():
    ro = make(sessions={"a": 50})
    ro.initialize_bias("a", torch.full((50,), -5.0))
    out = ro.eval()(torch.randn(4, 8, 6, 6), "a")
    assert torch.all(out > 0)
    assert out.max() < 0.05  # ELU(r - 1) + 1 = exp(r - 1) for r < 1; r is about -5


def test_regularizer_is_gamma_times_l1_sum():
    ro = make(gamma_readout=0.5)
    g = ro["m2"]
    with torch.no_grad():
        g.features.copy_(torch.arange(24, dtype=torch.float32).view_as(g.features) - 12)
    expected = 0.5 * sum(abs(v - 12) for v in range(24))
    assert ro.regularizer("m2").item() == pytest.approx(expected)


def test_unknown_session_and_wrong_shape():
    ro = make()
    with pytest.raises(KeyError, match="nope"):
        ro(torch.randn(1, 8, 6, 6), "nope")
    with pytest.raises(ValueError):
        ro(torch.randn(1, 8, 5, 5), "m2")


def test_colliding_session_names_are_an_error():
    with pytest.raises(ValueError, match="collide"):
        SessionReadouts((4, 3, 3), {"a.b": 2, "a_b": 2})


def test_factorized_readout_is_mask_times_features_and_linear_output_is_r():
    torch.manual_seed(0)
    ro = SessionReadouts((8, 6, 6), {"a": 5}, kind="factorized", output="linear")
    r = ro["a"]
    with torch.no_grad():
        r.spatial.normal_()
        r.features.normal_()
        r.bias.normal_()
    x = torch.randn(3, 8, 6, 6)
    mask = r.spatial / r.spatial.pow(2).sum((1, 2), keepdim=True).sqrt()  # unit-norm spatial masks
    expected = torch.einsum("bchw,nhw,nc->bn", x, mask, r.features) + r.bias
    assert torch.allclose(ro(x, "a"), expected, atol=1e-4)
    assert (ro(-10 * x.abs(), "a") < 0).any()  # linear output may be negative
    ro.train()
    assert torch.equal(ro(x, "a"), ro(x, "a"))  # nothing is sampled
    assert ro.regularizer("a") > 0


def test_unknown_readout_kind_or_output_is_refused():
    with pytest.raises(ValueError, match="readout kind"):
        SessionReadouts((8, 6, 6), {"a": 5}, kind="attention")
    with pytest.raises(ValueError, match="readout output"):
        SessionReadouts((8, 6, 6), {"a": 5}, output="softplus")
