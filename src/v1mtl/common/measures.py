"""Per-neuron measures of response reliability and of how well a model predicts V1 responses.

Shapes used throughout:
- ``responses``: ``(images, repeats, neurons)`` spike counts to repeated test images; NaN marks a repeat a
  neuron did not record. Every measure ignores NaN (it is never read as zero).
- ``predictions``: ``(images, neurons)`` one predicted mean response per image.
Every function returns one value per neuron, ``(neurons,)`` float64.

Definitions (see ``docs/measures.md`` for the formulas written out):
- ``corr``: Pearson correlation with population standard deviations plus ``eps``, as ``corr`` in
  neuralpredictors (``neuralpredictors/measures/np_functions.py``) and nnvision's measures.
- ``single_trial_corr`` / ``corr_to_average``: the correlation of predictions with single trials or with
  the trial-averaged response (nnvision ``get_correlations`` / ``get_avg_correlations``; the SENSORIUM
  metrics, Willeke et al. 2022).
- ``oracle_corr``: the leave-one-out ("jackknife") oracle of neuralpredictors ``oracle_corr_jackknife`` and
  nnvision ``compute_oracle_corr``: each trial correlated with the mean of the other repeats of its image.
- ``explainable_variance`` and ``feve``: Cadena et al. 2019, PLoS Comput Biol 15(4):e1006897, "Deep
  convolutional models improve predictions of macaque V1 responses to natural images", Methods; the same
  estimators as neuralpredictors ``explainable_var`` / ``fev`` (noise variance = mean over images of the
  across-repeat variance with ``ddof=1``; total variance over all trials with ``ddof=1``).
"""

from __future__ import annotations

import numpy as np

_EPS = 1e-8


def corr(y1: np.ndarray, y2: np.ndarray, axis: int = 0, eps: float = _EPS) -> np.ndarray:
    """Pearson correlation of ``y1`` and ``y2`` along ``axis``, ignoring pairs where either value is NaN.

    ``y1`` and ``y2`` have the same shape; the result drops ``axis``. Standardization uses the population
    standard deviation plus ``eps`` (neuralpredictors' convention), so a constant input gives 0, not NaN.
    A slice with no valid pair gives NaN.
    """
    a = np.asarray(y1, dtype=np.float64)
    b = np.asarray(y2, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"corr: shapes differ: {a.shape} vs {b.shape}")
    valid = ~(np.isnan(a) | np.isnan(b))
    n = valid.sum(axis=axis, keepdims=True)
    a = np.where(valid, a, 0.0)
    b = np.where(valid, b, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        a_c = np.where(valid, a - a.sum(axis=axis, keepdims=True) / n, 0.0)
        b_c = np.where(valid, b - b.sum(axis=axis, keepdims=True) / n, 0.0)
        sd_a = np.sqrt((a_c**2).sum(axis=axis, keepdims=True) / n)
        sd_b = np.sqrt((b_c**2).sum(axis=axis, keepdims=True) / n)
        r = (a_c / (sd_a + eps) * b_c / (sd_b + eps)).sum(axis=axis, keepdims=True) / n
    return np.squeeze(r, axis=axis)


def single_trial_corr(responses: np.ndarray, predictions: np.ndarray) -> np.ndarray:
    """Correlation of the prediction with every single trial: ``(images, repeats, neurons)`` -> ``(neurons,)``."""
    r, p = _check_pair(responses, predictions)
    p_trials = np.broadcast_to(p[:, None, :], r.shape)
    return corr(r.reshape(-1, r.shape[2]), p_trials.reshape(-1, r.shape[2]), axis=0)


def corr_to_average(responses: np.ndarray, predictions: np.ndarray) -> np.ndarray:
    """Correlation of the prediction with the trial-averaged response across images -> ``(neurons,)``.

    Images where a neuron has no valid repeat are left out for that neuron.
    """
    r, p = _check_pair(responses, predictions)
    return corr(_nanmean(r, axis=1), p, axis=0)


def oracle_corr(responses: np.ndarray) -> np.ndarray:
    """Leave-one-out oracle correlation per neuron: ``(images, repeats, neurons)`` -> ``(neurons,)``.

    Each trial is paired with the mean of the other valid repeats of the same image; the correlation runs
    over all (image, repeat) trials. Trials whose image has no other valid repeat are left out. It
    underestimates the correlation of the true mean with single trials (neuralpredictors'
    ``oracle_corr_jackknife`` documents the same bias).
    """
    r = _check_responses(responses)
    valid = ~np.isnan(r)
    total = np.where(valid, r, 0.0).sum(axis=1, keepdims=True)
    count = valid.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        others = np.where(valid & (count > 1), (total - np.where(valid, r, 0.0)) / (count - 1), np.nan)
    n = r.shape[2]
    return corr(r.reshape(-1, n), others.reshape(-1, n), axis=0)


def noise_variance(responses: np.ndarray) -> np.ndarray:
    """Trial-to-trial variance: mean over images of the across-repeat variance (``ddof=1``) -> ``(neurons,)``.

    Images with fewer than two valid repeats for a neuron are left out for that neuron.
    """
    r = _check_responses(responses)
    valid = ~np.isnan(r)
    count = valid.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(valid, r, 0.0).sum(axis=1) / count
        sq = np.where(valid, (r - mean[:, None, :]) ** 2, 0.0).sum(axis=1)
        per_image = np.where(count > 1, sq / (count - 1), np.nan)
    return _nanmean(per_image, axis=0)


def total_variance(responses: np.ndarray) -> np.ndarray:
    """Variance over all valid trials of all images (``ddof=1``) -> ``(neurons,)``."""
    r = _check_responses(responses)
    flat = r.reshape(-1, r.shape[2])
    valid = ~np.isnan(flat)
    count = valid.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(valid, flat, 0.0).sum(axis=0) / count
        sq = np.where(valid, (flat - mean) ** 2, 0.0).sum(axis=0)
        return np.where(count > 1, sq / (count - 1), np.nan)


def explainable_variance(responses: np.ndarray) -> np.ndarray:
    """Fraction of response variance that is stimulus-driven, per neuron (Cadena et al. 2019).

    ``(total_variance - noise_variance) / total_variance`` for ``(images, repeats, neurons)`` responses.
    A neuron whose responses never vary gives NaN.
    """
    total = total_variance(responses)
    noise = noise_variance(responses)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, (total - noise) / total, np.nan)


def feve(responses: np.ndarray, predictions: np.ndarray) -> np.ndarray:
    """Fraction of explainable variance explained per neuron (Cadena et al. 2019; neuralpredictors ``fev``).

    ``1 - (MSE - noise_variance) / (total_variance - noise_variance)``, where MSE is the mean squared error
    of ``predictions`` ``(images, neurons)`` over all valid single trials of ``responses``
    ``(images, repeats, neurons)``. 1 for a perfect prediction of the mean (up to sampling error); at most
    about 0 for a constant prediction. NaN where a neuron has no explainable variance.
    """
    r, p = _check_pair(responses, predictions)
    sq_err = (r - p[:, None, :]) ** 2
    mse = _nanmean(sq_err.reshape(-1, r.shape[2]), axis=0)
    total = total_variance(r)
    noise = noise_variance(r)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total - noise > 0, 1.0 - (mse - noise) / (total - noise), np.nan)


def _nanmean(x: np.ndarray, axis: int) -> np.ndarray:
    valid = ~np.isnan(x)
    count = valid.sum(axis=axis)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, np.where(valid, x, 0.0).sum(axis=axis) / count, np.nan)


def _check_responses(responses: np.ndarray) -> np.ndarray:
    r = np.asarray(responses, dtype=np.float64)
    if r.ndim != 3:
        raise ValueError(f"responses must be (images, repeats, neurons), got shape {r.shape}")
    return r


def _check_pair(responses: np.ndarray, predictions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    r = _check_responses(responses)
    p = np.asarray(predictions, dtype=np.float64)
    if p.shape != (r.shape[0], r.shape[2]):
        raise ValueError(
            f"predictions must be (images, neurons) = {(r.shape[0], r.shape[2])}, got shape {p.shape}"
        )
    return r, p
