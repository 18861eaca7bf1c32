"""How much of a network's sensitivity falls in salient image regions?

Per image, a saliency map ``S`` (built-in model or user file) is compared with a model's sensitivity map
``M`` (``v1mtl.analysis.sensitivity``) by two scores (the paper's statistic is not known,
docs/reference-implementation.md, 'Saliency'):
- **NSS** (normalized scanpath saliency, Peters, Iyer, Itti & Koch 2005, Vision Research 45, generalized
  from fixation points to a continuous map): the z-scored saliency averaged with weights ``M / sum(M)``,
  ``sum_p M_p z(S)_p / sum_p M_p``. 0 is chance (uniform sensitivity), positive means sensitivity
  concentrates where saliency is high; the unit is standard deviations of the saliency map.
- **AUC**: how well saliency separates the ``top_fraction`` most sensitive pixels from the rest, the
  area under the ROC curve (Mann-Whitney U with average ranks for ties). 0.5 is chance, 1 perfect.
Per model the scores are averaged over images with a bootstrap CI; models are compared by paired bootstrap
differences over images (``v1mtl.common.stats``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import torch
from scipy import stats as sps
from tqdm.auto import tqdm

from v1mtl.analysis.reconstruction import FeatureFn, reconstruct, sphere_norm_for_budget
from v1mtl.analysis.sensitivity import jacobian_sensitivity, reconstruction_sensitivity
from v1mtl.analysis.settings import SENSITIVITY_METHODS, ReconstructionSettings, SaliencySettings
from v1mtl.common.stats import DEFAULT_N_BOOT, bootstrap_mean, paired_bootstrap_difference

SCORES = ("nss", "auc")


def nss(saliency: np.ndarray, sensitivity: np.ndarray) -> float:
    """Sensitivity-weighted mean of the z-scored saliency map (both ``(H, W)``); NaN if either is flat."""
    s = np.asarray(saliency, dtype=np.float64).ravel()
    w = np.asarray(sensitivity, dtype=np.float64).ravel()
    if s.std() == 0 or w.sum() <= 0:
        return float("nan")
    return float(((s - s.mean()) / s.std()) @ (w / w.sum()))


def auc(saliency: np.ndarray, sensitivity: np.ndarray, top_fraction: float = 0.2) -> float:
    """ROC AUC of saliency for the ``top_fraction`` most sensitive pixels vs the rest (both ``(H, W)``).

    Sensitivity ties at the threshold are broken by pixel order (a stable sort), so the positive set
    always has ``round(top_fraction * n)`` pixels.
    """
    if not 0 < top_fraction < 1:
        raise ValueError(f"top_fraction must be in (0, 1), got {top_fraction}")
    s = np.asarray(saliency, dtype=np.float64).ravel()
    m = np.asarray(sensitivity, dtype=np.float64).ravel()
    k = int(round(top_fraction * s.size))
    if k < 1 or k >= s.size:
        return float("nan")
    positive = np.zeros(s.size, dtype=bool)
    positive[np.argsort(-m, kind="stable")[:k]] = True
    ranks = sps.rankdata(s)
    return float((ranks[positive].sum() - k * (k + 1) / 2) / (k * (s.size - k)))


def sensitivity_maps(
    extractor: FeatureFn, images: np.ndarray, method: str, settings: SaliencySettings, *, desc: str = ""
) -> np.ndarray:
    """``(n, H, W)`` sensitivity maps of ``extractor`` for gray ``images`` ``(n, H, W)`` in [0, 1]."""
    x = (images[:, None] - settings.mean) / settings.std
    maps = []
    for start in tqdm(range(0, len(x), settings.batch_size), desc=desc or method, leave=False, disable=None):
        batch = torch.from_numpy(
            np.ascontiguousarray(x[start : start + settings.batch_size], dtype=np.float32)
        )
        if method == "jacobian":
            maps.append(jacobian_sensitivity(extractor, batch, settings.n_probes, settings.seed + start))
        elif method == "reconstruction":
            cfg = ReconstructionSettings(**{**settings.recon.__dict__, "seed": settings.recon.seed + start})
            norm = sphere_norm_for_budget(settings.budget, channels=1)
            res = reconstruct(extractor, batch, norm, cfg)
            maps.append(reconstruction_sensitivity(res.images, settings.recon_smooth_sigma))
        else:
            raise ValueError(f"unknown sensitivity method {method!r}; expected one of {SENSITIVITY_METHODS}")
    return np.concatenate(maps)


def run_saliency_sensitivity(
    extractors: Mapping[str, FeatureFn],
    ids: Sequence[str],
    images: np.ndarray,
    saliency: np.ndarray,
    settings: SaliencySettings,
) -> tuple[list[dict], dict[tuple[str, str], np.ndarray]]:
    """Score every model's sensitivity maps against ``saliency`` ``(n, H, W)``.

    Returns per-image rows (model, method, image_id, nss, auc) and the maps ``{(model, method): (n, H, W)}``.
    """
    if saliency.shape != images.shape:
        raise ValueError(f"saliency maps {saliency.shape} do not match images {images.shape}")
    rows, maps = [], {}
    for name, extractor in extractors.items():
        for method in settings.methods:
            m = sensitivity_maps(extractor, images, method, settings, desc=f"{name} {method}")
            maps[(name, method)] = m
            for i, image_id in enumerate(ids):
                rows.append(
                    {
                        "model": name,
                        "method": method,
                        "image_id": image_id,
                        "nss": nss(saliency[i], m[i]),
                        "auc": auc(saliency[i], m[i], settings.top_fraction),
                    }
                )
    return rows, maps


def summarize_saliency(
    rows: Sequence[dict], *, reference: str | None = None, n_boot: int = DEFAULT_N_BOOT, seed: int = 0
) -> tuple[list[dict], list[dict]]:
    """Per model x method x score: mean over images with a bootstrap CI; and paired differences to
    ``reference`` (default: the first model). Returns ``(summary, comparisons)``."""
    models = list(dict.fromkeys(r["model"] for r in rows))
    reference = reference or models[0]
    methods = list(dict.fromkeys(r["method"] for r in rows))
    ids = list(dict.fromkeys(r["image_id"] for r in rows))
    index = {(r["model"], r["method"], r["image_id"]): r for r in rows}
    summary, comparisons = [], []
    for method in methods:
        for model in models:
            for score in SCORES:
                vals = np.array([index[(model, method, i)][score] for i in ids])
                est = bootstrap_mean(vals, n_boot=n_boot, seed=seed)
                summary.append({"model": model, "method": method, "score": score, **est.as_dict()})
                if model == reference:
                    continue
                ref = np.array([index[(reference, method, i)][score] for i in ids])
                diff = paired_bootstrap_difference(ref, vals, n_boot=n_boot, seed=seed)
                comparisons.append(
                    {
                        "model": model,
                        "reference": reference,
                        "method": method,
                        "score": score,
                        **diff.as_dict(),
                        "ci_excludes_zero": diff.excludes_zero(),
                    }
                )
    return summary, comparisons
