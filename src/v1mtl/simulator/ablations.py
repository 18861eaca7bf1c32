"""Ablation teachers: the simulated population with one property of V1 changed.

Every ablation starts from the same random numbers as the ``full`` population of the same seed (same
neurons, receptive-field positions, orientations, sizes in carrier cycles, phases, calibration targets) and
changes one thing, so a difference between teachers is that property's and not a different draw:

- ``low-sf`` / ``high-sf``: each neuron's preferred spatial frequency is moved to the same quantile of the
  lower / upper third of the macaque distribution (``sf_band``); the count of neurons is unchanged.
- ``simple-only`` / ``complex-only``: every neuron is a simple / a complex cell.
- ``no-normalization``: the drive without the divisive normalization, ``rate = spont + gain * D`` with
  ``gain`` calibrated so that each neuron's mean evoked count over the calibration images is the same target
  as in the full population (the mean is matched, the image-to-image modulation is not).
- ``linear``: the simple-cell filter's signed output ``L1`` without rectification, squaring or
  normalization, ``rate = max(offset + gain * L1, 0)``. The gain gives each neuron the standard deviation
  of the rate over the calibration images that the same neuron has in the full population (the same
  stimulus-driven signal); the offset puts the mean rate at the full neuron's mean or, where that is
  higher, ``LINEAR_MEAN_IN_SDS`` (2.5) standard deviations above 0. The floor at 0 is there only because
  spike counts cannot be negative, and the raised mean keeps it rare (about 2% of natural-image responses,
  measured on 512 crops at 32 px; filter outputs on natural images are heavy-tailed, so those few
  responses carry ~15% of the standard deviation), so the teacher is linear over most images it is shown. The full
  neurons' rates vary more than their mean (median coefficient of variation 1.4 on those crops), so the
  linear teacher's mean, and with it its Poisson noise, is higher (median 3x): compare teachers on targets
  from the simulator's ground truth (``targets.source: simulator``) where the fit to noisy counts
  should not enter.

The response models are named in ``V1Population.response_model``: ``normalized`` (the full model),
``energy`` (``no-normalization``) and ``linear``.
"""

from __future__ import annotations

import numpy as np

from v1mtl.simulator.tuning import SF_BIN_EDGES_CPD, SF_COUNTS

RESPONSE_MODEL = {"no-normalization": "energy", "linear": "linear"}
RESPONSE_MODELS = ("normalized", "energy", "linear")
# Quantile bands of the preferred-SF distribution: lower and upper third.
SF_BANDS = {"low-sf": (0.0, 1.0 / 3.0), "high-sf": (2.0 / 3.0, 1.0)}


def response_model(ablation: str) -> str:
    """The response model of an ablation (``normalized`` unless it changes the response nonlinearity)."""
    return RESPONSE_MODEL.get(ablation, "normalized")


def ablate_tuning(tuning: dict[str, np.ndarray], ablation: str, max_sf_cpd: float) -> dict[str, np.ndarray]:
    """The tuning of ``v1mtl.simulator.tuning.sample_tuning`` (``(n,)`` arrays) with the ablation's change.

    ``max_sf_cpd`` is the highest SF the pixel grid allows (the cap ``sample_tuning`` applied).
    """
    out = dict(tuning)
    if ablation in SF_BANDS:
        out["sf_cpd"] = sf_band(tuning["sf_cpd"], *SF_BANDS[ablation], max_sf_cpd=max_sf_cpd)
    elif ablation == "simple-only":
        out["is_complex"] = np.zeros_like(tuning["is_complex"])
    elif ablation == "complex-only":
        out["is_complex"] = np.ones_like(tuning["is_complex"])
    return out


def sf_band(sf_cpd: np.ndarray, q_low: float, q_high: float, max_sf_cpd: float) -> np.ndarray:
    """Map ``(n,)`` preferred SFs drawn from the macaque distribution to the same relative position inside the
    quantile band ``[q_low, q_high]`` of that distribution: ``F^-1(q_low + (q_high - q_low) F(sf))``.

    ``F`` is the CDF ``sample_tuning`` draws from: the De Valois, Albrecht & Thorell (1982) histogram,
    log-uniform within each bin, truncated at ``max_sf_cpd``. The map is monotonic, so neurons keep their
    order of SF, and a sample from ``F`` maps to a sample from ``F`` restricted to the band.
    """
    log_knots, cdf = _sf_cdf(max_sf_cpd)
    q = np.interp(np.log(sf_cpd), log_knots, cdf)
    return np.exp(np.interp(q_low + (q_high - q_low) * q, cdf, log_knots))


def _sf_cdf(max_sf_cpd: float) -> tuple[np.ndarray, np.ndarray]:
    """Knots of the truncated SF CDF: ``log(SF)`` at the bin edges (and the cap) and the CDF there."""
    edges = np.minimum(SF_BIN_EDGES_CPD, max_sf_cpd)
    log_edges = np.log(SF_BIN_EDGES_CPD)
    inside = np.log(edges[1:]) - log_edges[:-1]
    mass = SF_COUNTS * np.clip(inside / np.diff(log_edges), 0.0, 1.0)
    keep = np.concatenate([[True], mass > 0])
    cdf = np.concatenate([[0.0], np.cumsum(mass)]) / mass.sum()
    return np.log(edges)[keep], cdf[keep]
