"""Ablation teachers: one property changed, every other parameter drawn from the same random numbers."""

import json

import numpy as np
import pytest

from v1mtl.simulator import SimulationConfig, TuningSpec, V1Population, simulate_v1
from v1mtl.simulator.ablations import SF_BANDS, sf_band
from v1mtl.simulator.config import ABLATIONS
from v1mtl.simulator.photo_crops import photo_crops
from v1mtl.simulator.tuning import SF_BIN_EDGES_CPD, SF_COUNTS, sample_tuning

SIZE, FOV = 32, 2.0
OTHER_TUNING = ("x_deg", "y_deg", "orientation_deg", "nx", "ny", "phase_deg")


def _population(ablation: str, neurons: int = 40) -> V1Population:
    calibration = photo_crops(128, SIZE, np.random.default_rng(2))
    return V1Population.sample(
        neurons, 1, SIZE, FOV, fano=1.0, rng=np.random.default_rng(1), calibration_images=calibration,
        ablation=ablation,
    )  # fmt: skip


@pytest.fixture(scope="module")
def populations() -> dict[str, V1Population]:
    return {name: _population(name) for name in ABLATIONS}


@pytest.fixture(scope="module")
def images() -> np.ndarray:
    return photo_crops(256, SIZE, np.random.default_rng(7)).astype(np.float64) / 255


def test_every_ablation_keeps_the_other_tuning_of_the_full_population(populations):
    full = populations["full"]
    for name, pop in populations.items():
        for key in OTHER_TUNING:
            np.testing.assert_array_equal(getattr(pop, key), getattr(full, key), err_msg=f"{name} {key}")
        if name not in SF_BANDS:
            np.testing.assert_array_equal(pop.sf_cpd, full.sf_cpd, err_msg=name)
        if name not in ("simple-only", "complex-only"):
            np.testing.assert_array_equal(pop.is_complex, full.is_complex, err_msg=name)
    assert full.is_complex.any() and not full.is_complex.all()
    assert not populations["simple-only"].is_complex.any()
    assert populations["complex-only"].is_complex.all()


def test_sf_bands_are_the_lower_and_upper_thirds_of_the_macaque_distribution():
    ppd = 64 / 2.0
    max_sf = TuningSpec().max_sf_cycles_per_pixel * ppd
    full = sample_tuning(30000, np.random.default_rng(0), ppd, TuningSpec())["sf_cpd"]
    third, two_thirds = np.quantile(full, [1 / 3, 2 / 3])
    low = sf_band(full, *SF_BANDS["low-sf"], max_sf_cpd=max_sf)
    high = sf_band(full, *SF_BANDS["high-sf"], max_sf_cpd=max_sf)
    # the same count, inside the band (up to the sampling error of the quantiles), in the same order
    assert low.shape == high.shape == full.shape
    assert low.max() <= third * 1.03 and high.min() >= two_thirds * 0.97 and high.max() <= max_sf + 1e-9
    order = np.argsort(full)
    assert (np.diff(low[order]) >= 0).all() and (np.diff(high[order]) >= 0).all()
    # distributed as the full draws restricted to the band
    for band, restricted in ((low, full[full <= third]), (high, full[full >= two_thirds])):
        qs = np.linspace(0.05, 0.95, 19)
        np.testing.assert_allclose(np.quantile(band, qs), np.quantile(restricted, qs), rtol=0.03)


def test_sf_band_of_the_whole_range_is_the_identity_and_a_third_ends_at_the_thirds_quantile():
    edges = SF_BIN_EDGES_CPD
    np.testing.assert_allclose(sf_band(edges, 0.0, 1.0, max_sf_cpd=np.inf), edges, rtol=1e-9)
    # the highest SF maps to the 1/3 quantile, which lies in the bin where the cumulative count passes 1/3
    cdf = np.cumsum(SF_COUNTS) / SF_COUNTS.sum()
    k = int(np.searchsorted(cdf, 1 / 3))
    top = sf_band(edges[-1:], 0.0, 1 / 3, max_sf_cpd=np.inf)[0]
    assert edges[k] <= top <= edges[k + 1]


def test_no_normalization_matches_the_mean_count_but_does_not_saturate(populations, images):
    full, energy = populations["full"], populations["no-normalization"]
    calibration = photo_crops(128, SIZE, np.random.default_rng(2))
    np.testing.assert_allclose(
        (energy.rates(calibration) - energy.spont).mean(0), (full.rates(calibration) - full.spont).mean(0),
        rtol=1e-6,
    )  # fmt: skip
    # Doubling the contrast of an image quadruples the energy model's evoked drive; normalization compresses it.
    mean = images.mean(axis=(1, 2), keepdims=True)
    low, high = mean + 0.25 * (images - mean), mean + 0.5 * (images - mean)

    def gain_ratio(pop):
        return np.median((pop.rates(high) - pop.spont).sum(0) / (pop.rates(low) - pop.spont).sum(0))

    assert gain_ratio(energy) == pytest.approx(4.0, rel=1e-6)
    assert gain_ratio(full) < 3.0


def test_linear_teacher_is_linear_with_the_full_neurons_mean_and_spread(populations, images):
    full, linear = populations["full"], populations["linear"]
    calibration = photo_crops(128, SIZE, np.random.default_rng(2))
    # before the floor at 0: the full neuron's standard deviation, and a mean no lower than the full one's
    l1, _, _ = linear._filter_responses(linear._on_grid(calibration))
    before_floor = linear.spont + linear.gain * l1
    np.testing.assert_allclose(before_floor.std(0), full.rates(calibration).std(0), rtol=1e-6)
    assert (before_floor.mean(0) >= full.rates(calibration).mean(0) - 1e-9).all()
    assert (before_floor.mean(0) >= 2.5 * before_floor.std(0) - 1e-9).all()
    assert (linear.rates(calibration) <= 0).mean() < 0.03
    # Away from the floor at 0 the response to a contrast-reversed image mirrors the response around the
    # offset (the filters are zero-mean); the full model's does not.
    mean = images.mean(axis=(1, 2), keepdims=True)
    weak = mean + 0.2 * (images - mean)
    reversed_ = mean - 0.2 * (images - mean)
    mirror = linear.rates(weak) + linear.rates(reversed_) - 2 * linear.spont
    np.testing.assert_allclose(mirror, 0.0, atol=1e-3 * linear.spont.max())
    assert np.abs(full.rates(weak) + full.rates(reversed_) - 2 * full.spont).max() > 0.01


def test_ablated_population_saves_and_loads_its_response_model(populations, tmp_path):
    for name in ("full", "no-normalization", "linear"):
        populations[name].save(tmp_path / f"{name}.npz")
        back = V1Population.load(tmp_path / f"{name}.npz")
        assert back.response_model == populations[name].response_model
        np.testing.assert_array_equal(back.gain, populations[name].gain)


def test_population_saved_without_a_response_model_loads_as_the_normalized_model(populations, tmp_path):
    pop = populations["full"]
    pop.save(tmp_path / "p.npz")
    with np.load(tmp_path / "p.npz") as z:
        arrays = {k: z[k] for k in z.files}
    header = json.loads(str(arrays.pop("header")))
    del header["response_model"]
    np.savez(tmp_path / "old.npz", header=np.array(json.dumps(header)), **arrays)
    assert V1Population.load(tmp_path / "old.npz").response_model == "normalized"


def test_simulation_records_its_ablation_and_full_is_unchanged_by_the_option():
    small = {"neurons": 3, "sessions": 1, "images": 8, "test_images": 2, "repeats": 2, "image_size": 16}
    default = simulate_v1(SimulationConfig(**small), progress=False)
    full = simulate_v1(SimulationConfig(**small, ablation="full"), progress=False)
    simple = simulate_v1(SimulationConfig(**small, ablation="simple-only"), progress=False)
    np.testing.assert_array_equal(default.train_rates, full.train_rates)
    assert simple.dataset.metadata["simulation"]["ablation"] == "simple-only"
    assert not simple.population.is_complex.any()
