"""Fidelity against the reference implementation (imagecorruptions-imaug, the maintained fork of
bethgelab/imagecorruptions), with the ``imagenet`` preset on crops of real photographs.

Deterministic corruptions must match per image within 2/255 mean absolute difference after 8-bit
quantisation. Stochastic ones cannot match pixel for pixel (different random numbers); their per-image PSNR
distributions are compared (medians over 60 images) together with noise statistics. The tolerances of the
corruptions the issue does not bound (blur/weather/elastic/spatter) are those documented in
docs/corruptions.md.
"""

from __future__ import annotations

import imagecorruptions
import numpy as np
import pytest
import torch
from corruption_fixtures import from_tensor, photo_crops, psnr, to_tensor

from v1mtl.corruptions import corrupt

# Off-size images on purpose (the preset-size warning has its own test).
pytestmark = pytest.mark.filterwarnings("ignore:preset .* is calibrated:UserWarning")

DETERMINISTIC = [
    "brightness",
    "contrast",
    "defocus_blur",
    "zoom_blur",
    "pixelate",
    "jpeg_compression",
    "saturate",
    "gaussian_blur",
]
NOISE = ["gaussian_noise", "shot_noise", "impulse_noise", "speckle_noise"]
# Documented PSNR-median tolerance (dB) of the stochastic corruptions with no exact counterpart. The
# median over 60 images moves by several tenths of a dB between two seeds of the *same* algorithm when the
# effect depends on a per-image random draw (angle, texture, field), hence the wider bounds.
OTHER_STOCHASTIC = {
    "glass_blur": 0.75,
    "motion_blur": 1.0,
    "snow": 0.75,
    "fog": 0.75,
    "elastic_transform": 0.75,
    "spatter": 1.0,
}
# Where the per-image effect hardly depends on the draws, the paired per-image PSNR differences are tight.
PAIRED = {"glass_blur": 0.2, "elastic_transform": 0.3}


# Reference corruptions with a ``seed`` argument ignore the global RNG and, left at None, draw fresh OS
# entropy on every call (glass blur's numba shuffle, skimage's salt-and-pepper noise), which made the
# comparison differ from run to run; they get a per-image seed from the seeded global RNG instead.
SEEDED_REFERENCE = {"glass_blur", "impulse_noise"}


def reference(crops: np.ndarray, name: str, severity: int, seed: int = 0) -> np.ndarray:
    np.random.seed(seed)  # noqa: NPY002 - the reference draws from the legacy global RNG
    out = []
    for c in crops:
        kwargs = {"seed": np.random.randint(2**31)} if name in SEEDED_REFERENCE else {}  # noqa: NPY002
        out.append(imagecorruptions.corrupt(c, corruption_name=name, severity=severity, **kwargs))
    return np.stack(out)


def ours(crops: np.ndarray, name: str, severity: int, seed: int = 0) -> np.ndarray:
    return from_tensor(corrupt(to_tensor(crops), name, severity, preset="imagenet", seed=seed))


@pytest.fixture(scope="module")
def crops64() -> np.ndarray:
    return photo_crops(60, 64)


@pytest.mark.parametrize("name", DETERMINISTIC)
def test_deterministic_corruptions_match_per_image(name, crops64):
    crops = crops64[:12]
    for severity in range(1, 6):
        diff = np.abs(ours(crops, name, severity).astype(int) - reference(crops, name, severity).astype(int))
        assert diff.mean(axis=(1, 2, 3)).max() <= 2.0, (name, severity)


@pytest.mark.parametrize(
    "name", ["defocus_blur", "zoom_blur", "jpeg_compression", "pixelate", "gaussian_blur"]
)
def test_deterministic_corruptions_match_at_224_px(name):
    crops = photo_crops(2, 224, seed=5)
    for severity in (1, 5):
        diff = np.abs(ours(crops, name, severity).astype(int) - reference(crops, name, severity).astype(int))
        assert diff.mean(axis=(1, 2, 3)).max() <= 2.0, (name, severity)


@pytest.mark.parametrize("name", NOISE)
def test_noise_psnr_medians_match(name, crops64):
    for severity in range(1, 6):
        ours_psnr = np.median(psnr(ours(crops64, name, severity), crops64))
        ref_psnr = np.median(psnr(reference(crops64, name, severity), crops64))
        assert abs(ours_psnr - ref_psnr) <= 0.5, (name, severity, ours_psnr, ref_psnr)


@pytest.mark.parametrize("name", OTHER_STOCHASTIC)
def test_other_stochastic_psnr_medians_within_documented_gap(name, crops64):
    # The reference glass blur is slow (a per-pixel loop): three severities of it keep the suite short.
    for severity in (1, 3, 5) if name == "glass_blur" else range(1, 6):
        ours_psnr = psnr(ours(crops64, name, severity), crops64)
        ref_psnr = psnr(reference(crops64, name, severity), crops64)
        gap = np.median(ours_psnr) - np.median(ref_psnr)
        assert abs(gap) <= OTHER_STOCHASTIC[name], (name, severity, gap)
        if name in PAIRED:
            assert abs(np.median(ours_psnr - ref_psnr)) <= PAIRED[name], (name, severity)


def _flat(value: int, n: int = 8) -> np.ndarray:
    return np.full((n, 64, 64, 3), value, dtype=np.uint8)


@pytest.mark.parametrize("severity", [1, 3, 5])
def test_gaussian_and_speckle_noise_std_match(severity):
    flat = _flat(128)  # mid-gray: the noise is rarely clipped
    for name in ("gaussian_noise", "speckle_noise"):
        ours_std = (ours(flat, name, severity).astype(float) - 128).std()
        ref_std = (reference(flat, name, severity).astype(float) - 128).std()
        assert ours_std == pytest.approx(ref_std, rel=0.03), name


@pytest.mark.parametrize("severity", [1, 3, 5])
def test_shot_noise_variance_matches(severity):
    flat = _flat(100)
    ours_var = ours(flat, "shot_noise", severity).astype(float).var()
    ref_var = reference(flat, "shot_noise", severity).astype(float).var()
    assert ours_var == pytest.approx(ref_var, rel=0.05)


@pytest.mark.parametrize("severity", [1, 3, 5])
def test_impulse_fraction_and_salt_share_match(severity):
    flat = _flat(128)
    n = flat.size
    ours_out, ref_out = ours(flat, "impulse_noise", severity), reference(flat, "impulse_noise", severity)
    for out in (ours_out, ref_out):
        assert set(np.unique(out)) <= {0, 128, 255}
    frac_ours, frac_ref = (ours_out != 128).mean(), (ref_out != 128).mean()
    # binomial standard error of the larger fraction, times 5
    tol = 5 * np.sqrt(max(frac_ref, frac_ours) / n)
    assert abs(frac_ours - frac_ref) <= tol
    assert (ours_out == 255).sum() / (ours_out != 128).sum() == pytest.approx(0.5, abs=0.03)


def test_frost_texture_layer_distribution_matches():
    """On black images frost shows the texture crop alone: the per-image mean brightness of ours and of
    the reference must not be told apart by a two-sample Kolmogorov-Smirnov test."""
    from scipy.stats import ks_2samp

    black = _flat(0, 150)
    ours_means = ours(black, "frost", 1).astype(float).mean(axis=(1, 2, 3))
    ref_means = reference(black, "frost", 1).astype(float).mean(axis=(1, 2, 3))
    assert ks_2samp(ours_means, ref_means).pvalue > 1e-3


def test_gray_input_matches_reference_on_replicated_gray(crops64):
    """The reference turns a 2-D gray image into R = G = B; our gray output is the luma of that result."""
    gray = crops64[:6, :, :, 0]
    ref = reference(gray, "contrast", 3)
    out = corrupt(torch.from_numpy(gray).float()[:, None] / 255, "contrast", 3, preset="imagenet")
    ref_luma = ref.astype(float) @ np.array([0.299, 0.587, 0.114])
    assert np.abs(out[:, 0].numpy() * 255 - ref_luma).mean() <= 2.0
