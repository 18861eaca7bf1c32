"""The simulated neurons: Gabor filters, sampled tuning, simple/complex responses, normalization, noise."""

import dataclasses

import numpy as np
import pytest

from v1mtl.simulator import TuningSpec, V1Population
from v1mtl.simulator.gabor import gabor_bank, orientation_bandwidth_deg, pixel_grid_deg, sf_bandwidth_octaves
from v1mtl.simulator.photo_crops import photo_crops
from v1mtl.simulator.tuning import SF_BIN_EDGES_CPD, SF_COUNTS, sample_tuning

SIZE, FOV = 32, 2.0
PPD = SIZE / FOV


def grating(size, ppd, orientation_deg, sf_cpd, phase_deg=0.0, contrast=0.5):
    """``(size, size)`` sinusoidal grating in [0, 1] around mean 0.5."""
    x, y = pixel_grid_deg(size, ppd)
    t = np.deg2rad(orientation_deg)
    arg = 2 * np.pi * sf_cpd * (x * np.cos(t) + y * np.sin(t)) + np.deg2rad(phase_deg)
    return 0.5 + contrast * 0.5 * np.cos(arg)


@pytest.fixture(scope="module")
def population():
    rng = np.random.default_rng(1)
    calibration = photo_crops(64, SIZE, np.random.default_rng(2))
    return V1Population.sample(6, 2, SIZE, FOV, fano=1.0, rng=rng, calibration_images=calibration)


def test_gabor_bank_is_zero_mean_unit_norm_and_tuned():
    bank = gabor_bank(
        64, 32.0, [0.0, 0.0], [0.0, 0.0], [0.0, 90.0], [3.0, 3.0], [0.15, 0.15], [0.2, 0.2], [0.0, 0.0]
    )
    assert bank.shape == (2, 64, 64)
    np.testing.assert_allclose((bank.astype(np.float64) ** 2).sum(axis=(1, 2)), 1.0, rtol=1e-5)
    np.testing.assert_allclose(bank.sum(axis=(1, 2)), 0.0, atol=1e-4)
    img = grating(64, 32.0, 0.0, 3.0) - 0.5
    preferred, orthogonal = (bank.reshape(2, -1) @ img.ravel()).tolist()
    assert preferred > 10 * abs(orthogonal)


def _amplitudes(sf, nx, ny, probes):
    """Quadrature amplitude of one centred Gabor (orientation 0) to full-contrast gratings ``(ori, sf)``."""
    sx, sy = nx / sf, ny / sf
    bank = gabor_bank(128, 32.0, [0.0] * 2, [0.0] * 2, [0.0] * 2, [sf] * 2, [sx] * 2, [sy] * 2, [0.0, 90.0])
    imgs = np.stack([grating(128, 32.0, o, f, contrast=1.0).ravel() - 0.5 for o, f in probes])
    out = imgs @ bank.reshape(2, -1).T.astype(np.float64)
    return np.hypot(out[:, 0], out[:, 1])


def test_bandwidth_formulas_match_the_filters_own_tuning_curves():
    nx = ny = 0.5
    sf = 2.0
    sfs = sf * 2 ** np.linspace(-3, 3, 601)
    oris = np.linspace(0, 60, 241)
    sf_curve = _amplitudes(sf, nx, ny, [(0.0, f) for f in sfs])
    ori_curve = _amplitudes(sf, nx, ny, [(o, sf) for o in oris])
    peak = ori_curve[0]
    above = sfs[sf_curve >= peak / 2]
    assert np.log2(above.max() / above.min()) == pytest.approx(float(sf_bandwidth_octaves(nx)), abs=0.1)
    assert oris[ori_curve >= peak / 2].max() == pytest.approx(float(orientation_bandwidth_deg(ny)), abs=2.0)


def test_sampled_tuning_follows_the_cited_distributions():
    n = 4000
    spec = TuningSpec()
    t = sample_tuning(n, np.random.default_rng(0), pixels_per_degree=64.0, spec=spec)
    se = np.sqrt(spec.simple_fraction * (1 - spec.simple_fraction) / n)
    assert abs((~t["is_complex"]).mean() - spec.simple_fraction) < 4 * se
    # At 64 px/deg no SF is above the grid limit, so the SF histogram is reproduced bin by bin.
    observed = np.histogram(t["sf_cpd"], bins=SF_BIN_EDGES_CPD)[0] / n
    expected = SF_COUNTS / SF_COUNTS.sum()
    assert np.all(np.abs(observed - expected) < 4 * np.sqrt(expected * (1 - expected) / n))
    assert np.all(np.abs(t["x_deg"]) <= spec.max_offset_deg) and np.all(
        np.abs(t["y_deg"]) <= spec.max_offset_deg
    )
    assert np.all((t["orientation_deg"] >= 0) & (t["orientation_deg"] < 180))


def test_coarse_grid_redraws_aliasing_frequencies():
    t = sample_tuning(2000, np.random.default_rng(0), pixels_per_degree=8.0, spec=TuningSpec())
    assert t["sf_cpd"].max() <= 0.35 * 8.0


def test_complex_cells_are_phase_invariant_and_simple_cells_are_not(population):
    pop = population
    phases = np.arange(0, 360, 30.0)
    for j in range(pop.n_neurons):
        imgs = np.stack([grating(SIZE, PPD, pop.orientation_deg[j], pop.sf_cpd[j], p) for p in phases])
        r = pop.rates(imgs)[:, j] - pop.spont[j]
        modulation = (r.max() - r.min()) / r.max()
        if pop.is_complex[j]:
            assert modulation < 0.5
        else:
            assert modulation > 0.9  # half-wave rectified: some phases give (almost) no drive


def test_divisive_normalization_saturates_contrast_response(population):
    pop = population
    j = int(np.argmax(pop.is_complex))
    contrasts = np.array([0.05, 0.1, 0.2, 0.4, 0.8])
    imgs = np.stack(
        [grating(SIZE, PPD, pop.orientation_deg[j], pop.sf_cpd[j], contrast=c) for c in contrasts]
    )
    r = pop.rates(imgs)[:, j] - pop.spont[j]
    assert np.all(np.diff(r) > 0)
    gains = r[1:] / r[:-1]  # per contrast doubling: ~4 (energy) at low contrast, less when normalized
    assert gains[-1] < gains[0]
    assert gains[-1] < 2.0


def test_rates_are_at_least_spontaneous_and_resampling_keeps_them(population):
    pop = population
    imgs = photo_crops(20, SIZE, np.random.default_rng(5))
    r = pop.rates(imgs)
    assert r.shape == (20, pop.n_neurons)
    assert np.all(r >= pop.spont - 1e-9)
    # The same stimuli at twice the resolution span the same field of view, so rates barely change.
    big = np.repeat(np.repeat(imgs.astype(np.float32) / 255.0, 2, axis=1), 2, axis=2)
    r_big = pop.rates(big)
    for j in range(pop.n_neurons):
        assert np.corrcoef(r[:, j], r_big[:, j])[0, 1] > 0.9
    with pytest.raises(ValueError, match="size, size"):
        pop.rates(np.zeros((2, 10, 12)))


def test_save_load_round_trip(population, tmp_path):
    population.save(tmp_path / "pop.npz")
    loaded = V1Population.load(tmp_path / "pop.npz")
    imgs = photo_crops(5, SIZE, np.random.default_rng(6))
    np.testing.assert_array_equal(loaded.rates(imgs), population.rates(imgs))
    assert loaded.pixels_per_degree == population.pixels_per_degree
    np.testing.assert_array_equal(loaded.is_complex, population.is_complex)


@pytest.mark.parametrize("fano", [1.0, 2.0])
def test_counts_have_the_requested_mean_and_fano_factor(population, fano):
    pop = dataclasses.replace(population, fano=fano)
    rates = np.array([0.5, 2.0, 8.0])
    counts = pop.sample_counts(np.broadcast_to(rates, (40000, 3)), np.random.default_rng(0))
    assert counts.dtype == np.float32
    assert np.all(counts == np.round(counts)) and np.all(counts >= 0)
    np.testing.assert_allclose(counts.mean(axis=0), rates, rtol=0.03)
    np.testing.assert_allclose(counts.var(axis=0) / counts.mean(axis=0), fano, rtol=0.05)
