"""predict-responses: targets from the simulator and from a fitted V1 model, with and without controls."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from v1mtl.common.errors import InputError
from v1mtl.data.images import load_classification
from v1mtl.data.neural import read_native
from v1mtl.neural_model import PredictTargetsConfig, predict_targets, run_targets_stage
from v1mtl.neural_model.checkpoint import load_v1_model
from v1mtl.simulator import V1Population

COUNTS = (40, 8, 16)


@pytest.fixture(autouse=True)
def _cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("V1MTL_CACHE", str(tmp_path_factory.getbasetemp() / "cache"))


def _images():
    data = load_classification("builtin", size=32, builtin_counts=COUNTS)
    return np.asarray(data.train.images), np.asarray(data.test.images)


def _targets(source, out, control=None, seed=0):
    predict_targets(
        source,
        "builtin",
        out,
        control=control,
        seed=seed,
        image_size=32,
        builtin_counts=COUNTS,
        progress=False,
    )
    return read_native(out, mmap=False)


def _train_matrix(ds):
    return np.concatenate([s.train_responses for s in ds.sessions], axis=1)


def test_simulator_targets_are_noise_free_rates(tiny_sim, tmp_path):
    ds = _targets(tiny_sim, tmp_path / "t")
    train, test = _images()
    pop = V1Population.load(tiny_sim / "ground_truth" / "population.npz")
    np.testing.assert_allclose(_train_matrix(ds), pop.rates(train), rtol=1e-5)
    assert np.array_equal(ds.images, np.concatenate([train, test]))
    s = ds.sessions[1]
    assert s.session_id == "sim01" and s.test_responses.shape == (16, 1, 6)
    np.testing.assert_allclose(s.test_responses[:, 0], pop.rates(test)[:, 6:], rtol=1e-5)
    assert ds.metadata["targets_kind"] == "simulator" and ds.metadata["control"] is None
    assert not predict_targets(tiny_sim, "builtin", tmp_path / "t", image_size=32, builtin_counts=COUNTS)


def test_shuffled_is_a_permutation_of_the_real_responses(tiny_sim, tmp_path):
    real = _train_matrix(_targets(tiny_sim, tmp_path / "real"))
    shuffled = _train_matrix(_targets(tiny_sim, tmp_path / "shuf", control="shuffled", seed=4))
    order_real = np.lexsort(real.T)
    order_shuf = np.lexsort(shuffled.T)
    assert np.array_equal(real[order_real], shuffled[order_shuf])
    assert not np.array_equal(real, shuffled)


def test_random_control_keeps_per_neuron_range(tiny_sim, tmp_path):
    real = _train_matrix(_targets(tiny_sim, tmp_path / "real"))
    rand = _train_matrix(_targets(tiny_sim, tmp_path / "rand", control="random", seed=4))
    assert rand.shape == real.shape
    assert np.all(rand.min(0) >= real.min(0) - 1e-5) and np.all(rand.max(0) <= real.max(0) + 1e-5)
    assert not np.allclose(rand, real)


def test_v1_model_targets_resize_and_normalize(fitted, tmp_path):
    ds = _targets(fitted[0] / "model.pt", tmp_path / "t")
    model = load_v1_model(fitted[0] / "model.pt")
    train, _ = _images()
    x = torch.from_numpy(train[:3].astype(np.float32) / 255)[:, None]
    x = F.interpolate(x, size=(16, 16), mode="bilinear", align_corners=False, antialias=True)
    with torch.no_grad():
        expected = model.net((x - model.mean) / model.std, "neural", "sim00").numpy()
    np.testing.assert_allclose(ds.sessions[0].train_responses[:3], expected, rtol=1e-4, atol=1e-6)
    assert ds.metadata["targets_kind"] == "v1-model"


def test_bad_inputs(tmp_path):
    with pytest.raises(InputError, match="control"):
        predict_targets(tmp_path, "builtin", tmp_path / "o", control="noise")
    with pytest.raises(InputError, match="simulate-v1"):
        predict_targets(tmp_path, "builtin", tmp_path / "o")


def test_the_stage_runs_predict_targets_with_its_config(tiny_sim, tmp_path):
    direct = _targets(tiny_sim, tmp_path / "direct", control="random", seed=7)
    # a list of counts, as a hand-built config might hold, is checked and made a tuple
    cfg = PredictTargetsConfig(control="random", seed=7, image_size=32, builtin_counts=list(COUNTS))
    assert run_targets_stage(cfg, tiny_sim, "builtin", tmp_path / "staged", progress=False)
    staged = read_native(tmp_path / "staged", mmap=False)
    np.testing.assert_array_equal(_train_matrix(staged), _train_matrix(direct))
    assert {k: v for k, v in staged.metadata.items() if k != "targets_from"} == {
        k: v for k, v in direct.metadata.items() if k != "targets_from"
    }


@pytest.mark.parametrize(
    ("cfg", "field"),
    [
        (PredictTargetsConfig(control="noise"), "control"),
        (PredictTargetsConfig(builtin_counts=(40, 8)), "builtin_counts"),
        (PredictTargetsConfig(image_size=0), "image_size"),
        (PredictTargetsConfig(batch_size=0), "batch_size"),
    ],
)
def test_the_stage_refuses_a_bad_config_naming_its_key(tiny_sim, tmp_path, cfg, field):
    with pytest.raises(InputError) as err:
        run_targets_stage(cfg, tiny_sim, "builtin", tmp_path / "o", progress=False)
    assert err.value.field == field and "\n" not in str(err.value)
    assert not (tmp_path / "o").exists()
