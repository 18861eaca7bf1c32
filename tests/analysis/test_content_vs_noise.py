import numpy as np
import pytest
import torch

from v1mtl.analysis.content_vs_noise import (
    content_noise_split,
    gaussian_noise,
    run_content_vs_noise,
    summarize_content_vs_noise,
)
from v1mtl.analysis.reconstruction import gaussian_blur
from v1mtl.analysis.settings import ContentNoiseSettings, ReconstructionSettings


def _orthogonal_pair(size: int = 64) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    c = rng.normal(size=size)
    n = rng.normal(size=size)
    c, n = c - c.mean(), n - n.mean()
    n = n - (n @ c) / (c @ c) * c
    return c, 0.5 * n


def test_split_of_pure_content_pure_noise_and_mixtures():
    c, n = _orthogonal_pair()
    assert content_noise_split(3 * c + 1.0, c, n)["content_fraction"] == pytest.approx(1.0)
    assert content_noise_split(n, c, n)["content_fraction"] == pytest.approx(0.0, abs=1e-12)
    mix = content_noise_split(c + n, c, n)
    expected_input = (c @ c) / (c @ c + n @ n)
    assert mix["input_content_fraction"] == pytest.approx(expected_input)
    assert mix["content_fraction"] == pytest.approx(expected_input)
    assert mix["content_gain"] == pytest.approx(0.0, abs=1e-12)
    weighted = content_noise_split(2 * c + n, c, n)
    assert weighted["coef_content"] == pytest.approx(2.0)
    assert weighted["content_fraction"] == pytest.approx(4 * (c @ c) / (4 * (c @ c) + n @ n))
    # with orthogonal parts the fraction equals the share of the squared correlations
    rc, rn = weighted["rho_content"], weighted["rho_noise"]
    assert weighted["content_fraction"] == pytest.approx(rc**2 / (rc**2 + rn**2))
    assert weighted["fit_r2"] == pytest.approx(1.0)


def test_noise_is_seeded_per_image():
    a = gaussian_noise((3, 4, 4), 0.1, seed=1)
    b = gaussian_noise((2, 4, 4), 0.1, seed=1)
    np.testing.assert_array_equal(a[:2], b)
    assert not np.allclose(a, gaussian_noise((3, 4, 4), 0.1, seed=2))


def _smooth_images(n: int, size: int) -> np.ndarray:
    g = torch.Generator().manual_seed(11)
    x = gaussian_blur(torch.randn(n, 1, size, size, generator=g), 2.0)[:, 0].numpy()
    x = (x - x.min()) / (x.max() - x.min())
    return x.astype(np.float32)


def _low_pass(x: torch.Tensor) -> torch.Tensor:
    return gaussian_blur(x, 1.5)


def test_identity_keeps_the_input_split_and_a_low_pass_network_prefers_content():
    clean = _smooth_images(6, 16)
    ids = [f"img{i}" for i in range(6)]
    settings = ContentNoiseSettings(
        budgets=(4.0,),
        noise_stds=(0.2,),
        mean=0.5,
        std=0.25,
        recon=ReconstructionSettings(steps=150, lr=64.0, blur_sigma=0.0),
        batch_size=4,
    )
    res = run_content_vs_noise(
        {"identity": lambda x: x, "lowpass": _low_pass}, ids, clean, settings, progress=False
    )
    assert len(res.rows) == 12
    by_model = {m: [r for r in res.rows if r["model"] == m] for m in ("identity", "lowpass")}
    for row in by_model["identity"]:
        assert row["content_gain"] == pytest.approx(0.0, abs=0.02)
        assert row["final_loss"] < row["initial_loss"]
    gains = {m: np.mean([r["content_gain"] for r in rows]) for m, rows in by_model.items()}
    assert gains["lowpass"] > gains["identity"] + 0.1
    summary, comparisons = summarize_content_vs_noise(res.rows, n_boot=200)
    assert {s["model"] for s in summary} == {"identity", "lowpass"}
    gain_cmp = next(c for c in comparisons if c["measure"] == "content_gain")
    assert gain_cmp["reference"] == "identity" and gain_cmp["model"] == "lowpass"
    assert gain_cmp["ci_low"] > 0 and gain_cmp["ci_excludes_zero"]
    assert set(res.examples) == {("identity", 0.2, 4.0), ("lowpass", 0.2, 4.0)}
