"""Control targets: shuffled = a permutation of whole response vectors; random = matching per-neuron
statistics with no image dependence."""

from __future__ import annotations

import numpy as np

from v1mtl.neural_model.controls import random_responses, shuffle_responses


def _responses(n=4000, k=5, seed=0):
    rng = np.random.default_rng(seed)
    latent = rng.standard_normal((n, 1))
    return np.exp(0.5 * latent + 0.3 * rng.standard_normal((n, k))) * np.arange(1, k + 1)


def test_shuffle_permutes_whole_vectors():
    x = _responses(50)
    y, perm = shuffle_responses(x, np.random.default_rng(1))
    assert np.array_equal(y, x[perm])
    assert sorted(perm.tolist()) == list(range(50)) and not np.array_equal(perm, np.arange(50))


def test_random_matches_per_neuron_statistics_and_correlations():
    x = _responses()
    y = random_responses(x, 4000, np.random.default_rng(2))
    assert y.shape == x.shape
    np.testing.assert_allclose(y.mean(0), x.mean(0), rtol=0.05)
    np.testing.assert_allclose(y.std(0), x.std(0), rtol=0.1)
    assert y.min() >= x.min() and y.max() <= x.max()
    cx, cy = np.corrcoef(x, rowvar=False), np.corrcoef(y, rowvar=False)
    assert np.abs(cx - cy).max() < 0.1


def test_random_has_no_image_dependence():
    x = _responses()
    y = random_responses(x, len(x), np.random.default_rng(3))
    # the draw for image i is unrelated to that image's real response
    r = [np.corrcoef(x[:, j], y[:, j])[0, 1] for j in range(x.shape[1])]
    assert np.max(np.abs(r)) < 4 / np.sqrt(len(x))
    # and independent of which responses came in which order
    again = random_responses(x[::-1], len(x), np.random.default_rng(3))
    np.testing.assert_allclose(again, y)
