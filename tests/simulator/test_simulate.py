"""The simulated dataset: structure, ground truth vs measures, seeds, and the crash-safe output folder."""

import dataclasses

import numpy as np
import pytest

from v1mtl.common import measures
from v1mtl.common.errors import InputError
from v1mtl.simulator import SimulationConfig, read_simulation, simulate_to_folder, simulate_v1
from v1mtl.simulator import simulate as simulate_module

SMALL = SimulationConfig(
    neurons=10, sessions=2, images=200, test_images=150, repeats=6, image_size=32, seed=3
)


@pytest.fixture(scope="module")
def sim():
    return simulate_v1(SMALL, progress=False)


def test_dataset_structure(sim):
    ds = sim.dataset.validate()
    assert ds.images.shape == (SMALL.images + SMALL.test_images, 32, 32) and ds.images.dtype == np.uint8
    assert ds.pixels_per_degree == pytest.approx(32 / SMALL.field_of_view_deg)
    assert len(ds.sessions) == SMALL.sessions
    for s in ds.sessions:
        assert s.train_responses.shape == (SMALL.images, SMALL.neurons)
        assert s.test_responses.shape == (SMALL.test_images, SMALL.repeats, SMALL.neurons)
        # Every training image is shown exactly once per session, none of them a test image.
        np.testing.assert_array_equal(np.sort(s.train_image_ids), sim.train_image_ids)
        assert not set(s.train_image_ids) & set(s.test_image_ids.tolist())
        assert np.all(s.train_responses == np.round(s.train_responses)) and np.all(s.train_responses >= 0)
    assert sim.train_rates.shape == (SMALL.images, SMALL.neurons * SMALL.sessions)
    # The noise-free rates are those of the stored (uint8) images.
    rows = ds.image_rows(sim.test_image_ids[:7])
    np.testing.assert_allclose(
        sim.population.rates(ds.images[rows]), sim.test_rates[:7], rtol=1e-4
    )  # float32 sums


def test_single_trials_are_drawn_around_the_rates(sim):
    s = sim.dataset.sessions[0]
    rates = sim.train_rates[np.searchsorted(sim.train_image_ids, s.train_image_ids)][
        :, sim.session_columns(0)
    ]
    # Counts minus rates have mean 0 and variance fano * rate: check the z-score of the total residual.
    resid = (s.train_responses - rates).sum()
    assert abs(resid) < 4 * np.sqrt(SMALL.fano * rates.sum())


def test_feve_of_true_rates_is_one_and_of_a_constant_at_most_zero(sim):
    feve_true, feve_const, bound = [], [], []
    for i, s in enumerate(sim.dataset.sessions):
        cols = sim.session_columns(i)
        feve_true.append(measures.feve(s.test_responses, sim.test_rates[:, cols]))
        constant = np.broadcast_to(sim.train_rates[:, cols].mean(axis=0), (SMALL.test_images, len(cols)))
        feve_const.append(measures.feve(s.test_responses, constant))
        # For any constant, MSE >= (n-1)/n * total variance, so FEVE <= 1 / (n_trials * explainable var).
        bound.append(
            1.0 / (SMALL.test_images * SMALL.repeats * measures.explainable_variance(s.test_responses))
        )
    feve_true, feve_const, bound = map(np.concatenate, (feve_true, feve_const, bound))
    sem = feve_true.std(ddof=1) / np.sqrt(len(feve_true))
    assert abs(feve_true.mean() - 1.0) < 4 * sem + 1e-3
    assert np.all(feve_const <= bound + 1e-9)
    assert np.all(feve_const < 0.01)


def test_explainable_variance_is_in_the_macaque_range(sim):
    ev = np.concatenate([measures.explainable_variance(s.test_responses) for s in sim.dataset.sessions])
    assert 0.1 < np.median(ev) < 0.9


def test_seed_streams_are_independent_of_sizes(sim):
    again = simulate_v1(SMALL, progress=False)
    np.testing.assert_array_equal(
        again.dataset.sessions[1].test_responses, sim.dataset.sessions[1].test_responses
    )
    fewer = simulate_v1(dataclasses.replace(SMALL, images=50, test_images=10), progress=False)
    np.testing.assert_array_equal(fewer.population.gain, sim.population.gain)
    other = simulate_v1(dataclasses.replace(SMALL, images=50, test_images=10, seed=4), progress=False)
    assert not np.array_equal(other.population.sf_cpd, sim.population.sf_cpd)


def test_config_errors_name_the_option():
    with pytest.raises(InputError, match="repeats"):
        simulate_v1(dataclasses.replace(SMALL, repeats=1), progress=False)
    with pytest.raises(InputError, match="fano"):
        simulate_v1(dataclasses.replace(SMALL, fano=0.5), progress=False)


TINY = SimulationConfig(neurons=3, sessions=2, images=20, test_images=4, repeats=3, image_size=16, seed=1)


def test_folder_round_trip_skip_and_refusal(tmp_path):
    out = tmp_path / "v1"
    assert simulate_to_folder(TINY, out, export_nnvision=tmp_path / "nnv", progress=False) is True
    back = read_simulation(out)
    fresh = simulate_v1(TINY, progress=False)
    np.testing.assert_array_equal(back.dataset.images, fresh.dataset.images)
    np.testing.assert_allclose(back.test_rates, fresh.test_rates, rtol=1e-6)
    np.testing.assert_array_equal(
        back.dataset.sessions[0].test_responses, fresh.dataset.sessions[0].test_responses
    )
    assert (out / "config.yaml").is_file()

    from v1mtl.data.neural.nnvision import read_nnvision

    exported = read_nnvision(tmp_path / "nnv")
    for a, b in zip(exported.sessions, fresh.dataset.sessions, strict=True):
        np.testing.assert_array_equal(a.test_responses, b.test_responses)
        np.testing.assert_array_equal(a.train_responses, b.train_responses)

    before = (out / "manifest.json").stat().st_mtime_ns
    assert simulate_to_folder(TINY, out, progress=False) is False
    assert (out / "manifest.json").stat().st_mtime_ns == before
    with pytest.raises(InputError, match="not empty"):
        simulate_to_folder(dataclasses.replace(TINY, seed=2), out, progress=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["nnv", "v1"]  # no temporary folders left


def test_interrupted_write_leaves_nothing(tmp_path, monkeypatch):
    def boom(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(simulate_module, "write_simulation", boom)
    with pytest.raises(RuntimeError, match="disk full"):
        simulate_to_folder(TINY, tmp_path / "v1", progress=False)
    assert list(tmp_path.iterdir()) == []
