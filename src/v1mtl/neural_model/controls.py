"""Control targets that keep the statistics of predicted V1 responses but not their relation to the images.

- ``shuffle_responses``: one permutation of whole population vectors across images, the paper's
  MTL-Shuffled targets ("shuffling the mtl_monkey_dataset across images", neural_cotraining README).
  Whether the reference permuted whole vectors or each neuron separately is not documented; whole vectors
  keep every image's population statistics, including the correlations between neurons
  (docs/reference-implementation.md, 'MTL neural targets').
- ``random_responses``: image-independent responses with the same per-neuron distribution and the same
  correlations between neurons, drawn i.i.d. per image: a Gaussian copula whose marginals are each neuron's
  empirical distribution (normal scores of the ranks, their correlation matrix, correlated normal draws,
  mapped back through each neuron's empirical quantile function). This is the kind of control proposed by
  Federer, Xu, Fyshe & Zylberberg 2019 (arXiv 1905.10679, "Improved object recognition using neural
  networks trained to mimic the brain's statistical properties"), who report that "randomized data with the
  same statistics as neural data also boosted performance". The copula construction is this project's.
"""

from __future__ import annotations

import numpy as np
from scipy.stats import norm


def shuffle_responses(responses: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``(images, neurons)`` -> the same rows in a random order, and the permutation used (row ``i`` of the
    result is row ``perm[i]`` of the input)."""
    perm = rng.permutation(responses.shape[0])
    return responses[perm], perm


def random_responses(responses: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` image-independent draws ``(n, neurons)`` with the per-neuron distributions and the between-neuron
    rank correlations of ``responses`` ``(images, neurons)``."""
    x = np.asarray(responses, dtype=np.float64)
    m, k = x.shape
    if m < 2:
        raise ValueError("random_responses needs responses to at least 2 images")
    ranks = np.argsort(np.argsort(x, axis=0, kind="stable"), axis=0, kind="stable")
    scores = norm.ppf((ranks + 0.5) / m)
    corr = np.atleast_2d(np.corrcoef(scores, rowvar=False)) if k > 1 else np.ones((1, 1))
    corr = np.nan_to_num(corr, nan=0.0)
    np.fill_diagonal(corr, 1.0)
    w, v = np.linalg.eigh(corr)
    factor = v * np.sqrt(np.clip(w, 0.0, None))
    u = norm.cdf(rng.standard_normal((n, k)) @ factor.T)
    ordered = np.sort(x, axis=0)
    grid = np.arange(m, dtype=np.float64)
    out = np.empty((n, k), dtype=np.float64)
    for j in range(k):
        out[:, j] = np.interp(u[:, j] * m - 0.5, grid, ordered[:, j])
    return out
