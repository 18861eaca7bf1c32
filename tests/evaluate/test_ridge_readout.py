"""Known answers: the simulator's own noise-free rates predict its neurons at the noise ceiling."""

import numpy as np
import pytest
import torch

from v1mtl.common import measures
from v1mtl.data.neural import ImageStats
from v1mtl.evaluate.ridge_readout import extract_features, ridge_predictivity
from v1mtl.simulator import SimulationConfig, simulate_v1


@pytest.fixture(scope="module")
def sim():
    cfg = SimulationConfig(
        neurons=6, sessions=2, images=400, test_images=20, repeats=8, image_size=16, seed=3
    )
    return simulate_v1(cfg, progress=False)


def _ceiling_feve(sim) -> float:
    """FEVE of the true noise-free rates: the best any model can do on these noisy repeats."""
    out = []
    for k, s in enumerate(sim.dataset.sessions):
        cols = sim.session_columns(k)
        out.append(measures.feve(s.test_responses, sim.test_rates[:, cols]))
    return float(np.nanmedian(np.concatenate(out)))


def test_simulator_features_reach_the_ceiling_and_random_features_do_not(sim):
    pop = sim.population

    def own_rates(x: torch.Tensor) -> torch.Tensor:
        # inputs are z-scored with mean 0, std 1, i.e. still the [0, 1] pixels the simulator expects
        return torch.from_numpy(pop.rates(x[:, 0].numpy())).float()

    def random_features(x: torch.Tensor) -> torch.Tensor:
        g = torch.Generator().manual_seed(0)
        return x.flatten(1) @ torch.randn(x[0].numel(), 12, generator=g)

    stats = ImageStats(0.0, 1.0)
    own = ridge_predictivity(own_rates, sim.dataset, stats=stats, progress=False)
    rand = ridge_predictivity(random_features, sim.dataset, stats=stats, progress=False)
    assert len(own) == sim.dataset.n_neurons
    ceiling = _ceiling_feve(sim)
    # medians: FEVE of neurons with little explainable variance is erratic, even for the true rates
    own_feve = np.nanmedian([r["feve"] for r in own])
    rand_feve = np.nanmedian([r["feve"] for r in rand])
    assert own_feve > ceiling - 0.1
    assert own_feve > rand_feve + 0.2
    assert np.nanmedian([r["corr_to_average"] for r in own]) > 0.8
    for r in own:
        assert np.isfinite(r["oracle_corr"])
        assert set(r) >= {"session", "neuron", "val_corr", "alpha", "test_corr", "feve"}


def test_feature_pooling_caps_the_size():
    x = np.zeros((3, 1, 16, 16), dtype=np.float32)
    feats = extract_features(lambda t: t.expand(-1, 8, -1, -1), x, max_features=600, progress=False)
    # 8 x 16 x 16 = 2048 -> 8 x 8 x 8 = 512 values
    assert feats.shape == (3, 512)
