"""Predictions of a V1 model on per-session loaders, and the measures reported for it.

Validation: the mean over neurons of the Pearson correlation between prediction and single-trial response
over all validation trials (nnvision ``get_correlations``, the reference's early-stopping objective).
Test, on the repeated test images: single-trial correlation, correlation to the trial
average, FEVE, and the noise ceiling of every neuron (leave-one-out oracle correlation, explainable
variance), all from ``v1mtl.common.measures``.

Every neuron keeps its row, but the summaries over neurons use the reliable ones: explainable variance above
a threshold (``MIN_EXPLAINABLE_VARIANCE``) and a finite score. Real recordings hold neurons whose test
responses are mostly noise; their FEVE divides by a near-zero explainable variance and can reach any size,
so one of them could carry a mean anywhere.
"""

from __future__ import annotations

import numpy as np
import torch
from torch.utils.data import DataLoader

from v1mtl.common import measures
from v1mtl.models import MultiTaskNet

SCORE_COLUMNS = ("test_corr", "corr_to_average", "feve", "oracle_corr", "explainable_variance")
# The default reliability threshold on a neuron's explainable variance (the fraction of its response variance
# that is stimulus-driven). 0.15 is v1mtl's choice: Cadena et al. 2019 select their neurons by explainable
# variance too, but their exact criterion could not be checked here, so this value is not claimed as theirs.
MIN_EXPLAINABLE_VARIANCE = 0.15
# summarized over every neuron with a finite value: it is what defines a neuron as reliable
ALL_NEURON_COLUMNS = ("explainable_variance",)


@torch.no_grad()
def predict_loader(
    net: MultiTaskNet,
    loader: DataLoader,
    session: str,
    device: str | torch.device = "cpu",
    bf16: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """Run ``net`` (eval mode) over ``loader``: ``(predictions (items, neurons), responses)``.

    ``responses`` has the loader's layout (``(items, neurons)`` or ``(items, repeats, neurons)``) with NaN
    where the mask says a neuron was not recorded.
    """
    was_training = net.training
    net.eval()
    device = torch.device(device)
    preds, resps = [], []
    for images, responses, mask in loader:
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16):
            out = net(images.to(device), task="neural", session=session)
        preds.append(out.float().cpu().numpy())
        resps.append(np.where(mask.numpy(), responses.numpy(), np.nan))
    net.train(was_training)
    return np.concatenate(preds).astype(np.float64), np.concatenate(resps).astype(np.float64)


def largest_prediction(
    net: MultiTaskNet,
    loaders: list[dict[str, DataLoader]],
    device: str | torch.device = "cpu",
    bf16: bool = False,
) -> float:
    """The largest absolute prediction over every session loader of ``loaders`` (inf when one is not finite)."""
    peak = 0.0
    for per_session in loaders:
        for session, loader in per_session.items():
            if len(loader) == 0:
                continue
            pred, _ = predict_loader(net, loader, session, device, bf16)
            if not np.isfinite(pred).all():
                return float("inf")
            peak = max(peak, float(np.abs(pred).max(initial=0.0)))
    return peak


def validation_correlation(
    net: MultiTaskNet, loaders: dict[str, DataLoader], device: str | torch.device = "cpu", bf16: bool = False
) -> float:
    """Mean single-trial correlation over all neurons of all sessions (NaN-free neurons only)."""
    per_neuron = []
    for session, loader in loaders.items():
        if len(loader) == 0:
            continue
        pred, resp = predict_loader(net, loader, session, device, bf16)
        per_neuron.append(measures.corr(pred, resp, axis=0))
    values = np.concatenate(per_neuron) if per_neuron else np.array([np.nan])
    return float(np.nanmean(values)) if np.isfinite(values).any() else float("nan")


def test_scores(
    net: MultiTaskNet, loaders: dict[str, DataLoader], device: str | torch.device = "cpu", bf16: bool = False
) -> list[dict]:
    """One row per neuron: ``session``, ``neuron`` and the ``SCORE_COLUMNS`` on the repeated test images."""
    rows = []
    for session, loader in loaders.items():
        pred, resp = predict_loader(net, loader, session, device, bf16)
        columns = {
            "test_corr": measures.single_trial_corr(resp, pred),
            "corr_to_average": measures.corr_to_average(resp, pred),
            "feve": measures.feve(resp, pred),
            "oracle_corr": measures.oracle_corr(resp),
            "explainable_variance": measures.explainable_variance(resp),
        }
        for j in range(pred.shape[1]):
            rows.append({"session": session, "neuron": j} | {k: float(v[j]) for k, v in columns.items()})
    return rows


def summarize(rows: list[dict], min_explainable_variance: float = MIN_EXPLAINABLE_VARIANCE) -> dict:
    """Means and medians of every score over the reliable neurons, plus the noise ceiling.

    A neuron is reliable when its explainable variance is above ``min_explainable_variance``; a score's
    summary uses the reliable neurons where that score is finite (``<score>_n`` of them). The explainable
    variance itself is summarized over every neuron. ``n_total`` counts every row, ``n_reliable`` the
    reliable neurons and ``n_used`` those the FEVE summary uses.

    The noise ceiling is stated two ways: the mean leave-one-out oracle correlation (the ceiling of
    ``test_corr``, slightly underestimated) and the median explainable variance (how much of the response
    variance any model can explain).
    """
    ev = np.array([r["explainable_variance"] for r in rows], dtype=np.float64)
    with np.errstate(invalid="ignore"):
        reliable = ev > min_explainable_variance  # NaN compares False
    out: dict = {
        "n_neurons": len(rows),
        "n_total": len(rows),
        "n_reliable": int(reliable.sum()),
        "min_explainable_variance": float(min_explainable_variance),
    }
    for col in SCORE_COLUMNS:
        values = np.array([r[col] for r in rows], dtype=np.float64)
        keep = np.isfinite(values) if col in ALL_NEURON_COLUMNS else np.isfinite(values) & reliable
        finite = values[keep]
        out[f"{col}_mean"] = float(finite.mean()) if finite.size else None
        out[f"{col}_median"] = float(np.median(finite)) if finite.size else None
        out[f"{col}_n"] = int(finite.size)
    out["n_used"] = out["feve_n"]
    out["noise_ceiling"] = {
        "oracle_corr_mean": out["oracle_corr_mean"],
        "explainable_variance_median": out["explainable_variance_median"],
    }
    return out
