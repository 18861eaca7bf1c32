"""A linear (ridge) readout of any feature extractor: a fast, training-free V1 predictivity.

This complements the Gaussian-readout protocol (``v1mtl.evaluate.predictivity``): the activations of a
frozen extractor, flattened, are regressed onto each neuron's single-trial responses by ridge regression,
as Brain-Score's neural benchmarks do with linear regression on model features (Schrimpf et al. 2018,
bioRxiv 407007). Protocol:
- stimuli are prepared as for the V1 model (crop, subsample, scale, z-scoring with the network's statistics);
- activations larger than ``max_features`` values are average-pooled 2x2 until they fit;
- features are z-scored over the training trials; the ridge penalty is chosen per neuron from ``alphas``
  (multiples of the mean eigenvalue of the training kernel) by the mean squared error on the validation
  image split (the error, not the correlation, because FEVE also scores the predictions' scale) (``split_image_ids``: 80/20, seed 1000, as the V1 model);
- missing single-trial responses (NaN) are filled with the neuron's mean training response for fitting;
- test scores use the repeated test images with ``v1mtl.common.measures``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from v1mtl.common import measures
from v1mtl.common.progress import bar_disabled
from v1mtl.data.neural import ImageStats, V1Dataset, prepare_images
from v1mtl.data.neural.split import SPLIT_SEED, TRAIN_FRACTION, split_image_ids

DEFAULT_ALPHAS = (1e-3, 1e-2, 1e-1, 1.0, 10.0, 100.0)


@torch.no_grad()
def extract_features(
    extractor: Callable[[torch.Tensor], torch.Tensor],
    inputs: np.ndarray,
    *,
    max_features: int = 16384,
    batch_size: int = 64,
    progress: bool = True,
) -> np.ndarray:
    """``(n, 1, H, W)`` network inputs -> ``(n, d)`` float32 features, pooled to at most ``max_features``."""
    out = []
    for start in tqdm(
        range(0, len(inputs), batch_size), desc="features", leave=False, disable=bar_disabled(progress)
    ):
        acts = extractor(torch.from_numpy(np.ascontiguousarray(inputs[start : start + batch_size])))
        if acts.dim() == 4:
            while acts[0].numel() > max_features and min(acts.shape[-2:]) >= 2:
                acts = F.avg_pool2d(acts, 2)
        out.append(acts.flatten(1).float().cpu().numpy())
    return np.concatenate(out)


def _ridge_fit_predict(
    x_train: np.ndarray, y_train: np.ndarray, x_eval: list[np.ndarray], alphas: Sequence[float]
) -> list[np.ndarray]:
    """Dual ridge for every alpha: returns, per eval set, ``(alphas, n_eval, neurons)`` predictions."""
    mu, sd = x_train.mean(0), x_train.std(0)
    keep = sd > 0
    xt = (x_train[:, keep] - mu[keep]) / sd[keep]
    ev = [(x[:, keep] - mu[keep]) / sd[keep] for x in x_eval]
    y_mean = y_train.mean(0)
    kernel = (xt @ xt.T).astype(np.float64)
    s, u = np.linalg.eigh(kernel)
    s = np.clip(s, 0.0, None)
    scale = max(float(s.mean()), 1e-12)
    uty = u.T @ (y_train - y_mean)
    outs = [np.empty((len(alphas), len(x), y_train.shape[1])) for x in ev]
    cross = [(x @ xt.T).astype(np.float64) @ u for x in ev]
    for a, alpha in enumerate(alphas):
        dual = uty / (s + alpha * scale)[:, None]
        for o, c in zip(outs, cross, strict=True):
            o[a] = c @ dual + y_mean
    return outs


def ridge_predictivity(
    extractor: Callable[[torch.Tensor], torch.Tensor],
    dataset: V1Dataset,
    *,
    stats: ImageStats,
    crop: int = 0,
    subsample: int = 1,
    scale: float = 1.0,
    alphas: Sequence[float] = DEFAULT_ALPHAS,
    train_fraction: float = TRAIN_FRACTION,
    split_seed: int = SPLIT_SEED,
    max_features: int = 16384,
    progress: bool = True,
) -> list[dict]:
    """Per-neuron rows: ``session``, ``neuron``, ``val_corr``, ``alpha`` and the test scores of
    ``v1mtl.neural_model.evaluate.SCORE_COLUMNS``."""
    inputs, _ = prepare_images(dataset.images, crop=crop, subsample=subsample, scale=scale, stats=stats)
    feats = extract_features(extractor, inputs, max_features=max_features, progress=progress)
    train_ids, val_ids = split_image_ids(dataset.image_ids, train_frac=train_fraction, seed=split_seed)
    rows = []
    for s in tqdm(dataset.sessions, desc="ridge readouts", leave=False, disable=bar_disabled(progress)):
        ids = np.asarray(s.train_image_ids)
        tr, va = np.isin(ids, train_ids), np.isin(ids, val_ids)
        y_tr = np.asarray(s.train_responses, dtype=np.float64)[tr]
        y_tr = np.where(np.isnan(y_tr), np.nanmean(y_tr, axis=0, keepdims=True), y_tr)
        y_tr = np.nan_to_num(y_tr)
        y_va = np.asarray(s.train_responses, dtype=np.float64)[va]
        x_tr = feats[dataset.image_rows(ids[tr])]
        x_va = feats[dataset.image_rows(ids[va])]
        x_te = feats[dataset.image_rows(np.asarray(s.test_image_ids))]
        pred_va, pred_te = _ridge_fit_predict(x_tr, y_tr, [x_va, x_te], alphas)
        val_corr = np.stack([measures.corr(p, y_va, axis=0) for p in pred_va])  # (alphas, neurons)
        with np.errstate(invalid="ignore"):
            val_mse = np.nanmean((pred_va - y_va[None]) ** 2, axis=1)  # (alphas, neurons)
        best = np.argmin(np.nan_to_num(val_mse, nan=np.inf), axis=0)
        neurons = np.arange(s.n_neurons)
        pred = pred_te[best, :, neurons].T  # (test_images, neurons)
        resp = np.asarray(s.test_responses, dtype=np.float64)
        scores = {
            "test_corr": measures.single_trial_corr(resp, pred),
            "corr_to_average": measures.corr_to_average(resp, pred),
            "feve": measures.feve(resp, pred),
            "oracle_corr": measures.oracle_corr(resp),
            "explainable_variance": measures.explainable_variance(resp),
        }
        for j in neurons:
            rows.append(
                {
                    "session": s.session_id,
                    "neuron": int(j),
                    "val_corr": float(val_corr[best[j], j]),
                    "alpha": float(alphas[best[j]]),
                    **{k: float(v[j]) for k, v in scores.items()},
                }
            )
    return rows
