import numpy as np
import pytest
import torch

from v1mtl.analysis.saliency import auc, nss, run_saliency_sensitivity, summarize_saliency
from v1mtl.analysis.sensitivity import jacobian_sensitivity, reconstruction_sensitivity
from v1mtl.analysis.settings import ReconstructionSettings, SaliencySettings


def _blob(size: int, cy: float, cx: float, sigma: float) -> np.ndarray:
    y, x = np.mgrid[:size, :size]
    return np.exp(-((y - cy) ** 2 + (x - cx) ** 2) / (2 * sigma**2))


def test_nss_hand_values():
    s = np.array([[0.0, 0.0], [0.0, 4.0]])  # mean 1, std sqrt(3)
    assert nss(s, np.ones_like(s)) == pytest.approx(0.0, abs=1e-12)
    assert nss(s, np.array([[0.0, 0.0], [0.0, 1.0]])) == pytest.approx(3 / np.sqrt(3))
    assert nss(s, np.array([[1.0, 0.0], [0.0, 0.0]])) == pytest.approx(-1 / np.sqrt(3))
    assert np.isnan(nss(np.ones((2, 2)), s))


def test_auc_hand_values():
    s = np.arange(10, dtype=float).reshape(2, 5)
    assert auc(s, s, top_fraction=0.2) == pytest.approx(1.0)
    assert auc(s, -s, top_fraction=0.2) == pytest.approx(0.0)
    # positives are pixels 0 and 9 (saliency 0 and 9): 8 of the 16 pairs are won
    m = np.zeros(10)
    m[[0, 9]] = 1
    assert auc(s, m.reshape(2, 5), top_fraction=0.2) == pytest.approx(0.5)
    with pytest.raises(ValueError):
        auc(s, s, top_fraction=1.0)


def test_jacobian_of_identity_is_flat_and_of_a_mask_is_zero_outside():
    x = torch.randn(2, 1, 8, 8, generator=torch.Generator().manual_seed(0))
    flat = jacobian_sensitivity(lambda t: t, x, n_probes=150, seed=1)
    assert flat.shape == (2, 8, 8)
    assert flat.mean() == pytest.approx(1.0, abs=0.08)
    mask = torch.zeros(1, 1, 8, 8)
    mask[..., :4] = 1.0
    masked = jacobian_sensitivity(lambda t: 3 * t * mask, x, n_probes=4, seed=1)
    assert np.all(masked[..., 4:] == 0)
    assert np.all(masked[..., :4] > 0)
    # a 3-channel network fed a gray image repeated to 3 channels pools the channels
    three = jacobian_sensitivity(lambda t: t.expand(-1, 3, -1, -1), x, n_probes=150, seed=1)
    assert three.mean() == pytest.approx(np.sqrt(3), rel=0.08)


def test_jacobian_is_independent_of_batching():
    x = torch.randn(3, 1, 6, 6, generator=torch.Generator().manual_seed(2))
    f = lambda t: torch.tanh(t) * 2  # noqa: E731
    np.testing.assert_allclose(
        jacobian_sensitivity(f, x, 3, seed=5)[:1], jacobian_sensitivity(f, x[:1], 3, seed=5)
    )


def test_reconstruction_sensitivity_finds_energy():
    r = np.zeros((1, 16, 16))
    r[0, 2:5, 2:5] = 1.0
    m = reconstruction_sensitivity(r, smooth_sigma=0.0)
    assert m[0, 3, 3] > m[0, 12, 12]
    assert reconstruction_sensitivity(r[:, None], smooth_sigma=1.0).shape == (1, 16, 16)


def test_run_ranks_a_network_that_looks_at_the_salient_spot_above_one_that_looks_elsewhere():
    size = 16
    rng = np.random.default_rng(0)
    images = (0.5 + 0.15 * rng.normal(size=(5, size, size))).astype(np.float32)
    saliency = np.stack([_blob(size, 4, 4, 2.0) for _ in range(5)])
    attend = torch.from_numpy(_blob(size, 4, 4, 2.0)).float()
    ignore = torch.from_numpy(_blob(size, 12, 12, 2.0)).float()
    extractors = {"elsewhere": lambda t: t * ignore, "salient": lambda t: t * attend}
    settings = SaliencySettings(
        mean=0.5,
        std=0.25,
        n_probes=4,
        budget=5.0,
        recon=ReconstructionSettings(steps=100, lr=50.0),
        batch_size=2,
    )
    ids = [f"i{k}" for k in range(5)]
    rows, maps = run_saliency_sensitivity(extractors, ids, images, saliency, settings)
    assert len(rows) == 2 * 2 * 5
    assert maps[("salient", "jacobian")].shape == (5, size, size)
    for method in ("jacobian", "reconstruction"):
        good = [r for r in rows if r["model"] == "salient" and r["method"] == method]
        bad = [r for r in rows if r["model"] == "elsewhere" and r["method"] == method]
        assert min(r["nss"] for r in good) > 0 > max(r["nss"] for r in bad)
        assert min(r["auc"] for r in good) > 0.6 > 0.4 > max(r["auc"] for r in bad)
    summary, comparisons = summarize_saliency(rows, n_boot=200)
    assert len(summary) == 2 * 2 * 2
    assert all(c["reference"] == "elsewhere" and c["ci_low"] > 0 for c in comparisons)
