"""Is a network's representation more sensitive to image content or to noise?

Protocol (the paper's statistic is not known, docs/reference-implementation.md, 'Open questions';
this is ours, see docs/analyses.md):
1. For a clean image ``c`` (gray, [0, 1]) draw white Gaussian pixel noise ``n`` of standard deviation
   ``noise_std`` and form the target ``t = c + n`` (no clipping, so the split ``t = c + n`` is exact).
2. Reconstruct ``t`` from the network's activations at one layer under an L2 budget
   (``v1mtl.analysis.reconstruction``), giving ``r``; every image is in normalized input units.
3. Split ``r`` between content and noise by least squares on the pixel-centred images:
   ``r ~ a * c + b * n``. The **content fraction** ``a^2 |c|^2 / (a^2 |c|^2 + b^2 |n|^2)`` is the share of
   the fitted reconstruction energy that goes to the content. When ``c`` and ``n`` are orthogonal (true
   on average for independent noise) it equals ``corr(r, c)^2 / (corr(r, c)^2 + corr(r, n)^2)``.
4. The same split of the target itself gives the **input content fraction** ``|c|^2 / (|c|^2 + |n|^2)``:
   what a network that reproduces its input exactly would reach. The **content gain** is the content
   fraction minus the input content fraction: above 0 the network spends its budget preferentially on
   content, below 0 on noise.
Also reported per image: ``corr(r, c)``, ``corr(r, n)`` and the content index ``corr(r, c) - corr(r, n)``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from v1mtl.analysis.reconstruction import FeatureFn, reconstruct, sphere_norm_for_budget
from v1mtl.analysis.settings import ContentNoiseSettings, ReconstructionSettings
from v1mtl.common.stats import DEFAULT_N_BOOT, bootstrap_mean, paired_bootstrap_difference

PER_IMAGE_MEASURES = ("content_fraction", "content_gain", "rho_content", "rho_noise", "content_index")


def content_noise_split(recon: np.ndarray, content: np.ndarray, noise: np.ndarray) -> dict[str, float]:
    """Split one reconstruction between content and noise (all arrays of one image's shape).

    Returns ``rho_content``, ``rho_noise``, ``content_index``, ``coef_content`` (a), ``coef_noise`` (b),
    ``content_fraction``, ``input_content_fraction``, ``content_gain`` and ``fit_r2`` (the share of the
    reconstruction's variance the two components explain).
    """
    r, c, n = (np.asarray(a, dtype=np.float64).ravel() for a in (recon, content, noise))
    r, c, n = r - r.mean(), c - c.mean(), n - n.mean()
    design = np.stack([c, n], axis=1)
    (a, b), *_ = np.linalg.lstsq(design, r, rcond=None)
    e_c, e_n = a**2 * (c @ c), b**2 * (n @ n)
    fitted = design @ np.array([a, b])
    input_fraction = (c @ c) / max(c @ c + n @ n, 1e-300)
    fraction = e_c / (e_c + e_n) if e_c + e_n > 0 else float("nan")
    rho_c, rho_n = _corr(r, c), _corr(r, n)
    return {
        "rho_content": rho_c,
        "rho_noise": rho_n,
        "content_index": rho_c - rho_n,
        "coef_content": float(a),
        "coef_noise": float(b),
        "content_fraction": float(fraction),
        "input_content_fraction": float(input_fraction),
        "content_gain": float(fraction - input_fraction),
        "fit_r2": float(fitted @ fitted / (r @ r)) if r @ r > 0 else float("nan"),
    }


def _corr(x: np.ndarray, y: np.ndarray) -> float:
    denom = np.sqrt((x @ x) * (y @ y))
    return float(x @ y / denom) if denom > 0 else float("nan")


def gaussian_noise(shape: tuple[int, ...], noise_std: float, seed: int) -> np.ndarray:
    """``(n, H, W)`` white Gaussian noise; image ``i`` draws from its own stream ``(seed, i)``."""
    return np.stack(
        [np.random.default_rng([seed, i]).normal(0.0, noise_std, size=shape[1:]) for i in range(shape[0])]
    ).astype(np.float32)


@dataclass
class ContentNoiseResult:
    """Per-image rows (one per model x noise level x budget x image) and example images for figures.

    ``examples[(model, noise_std, budget)]`` holds ``(clean, noise, target, recon)`` arrays of shape
    ``(n_examples, H, W)`` in normalized units.
    """

    rows: list[dict]
    examples: dict[tuple[str, float, float], tuple[np.ndarray, ...]]


def run_content_vs_noise(
    extractors: Mapping[str, FeatureFn],
    ids: Sequence[str],
    clean: np.ndarray,
    settings: ContentNoiseSettings,
    *,
    progress: bool = True,
) -> ContentNoiseResult:
    """Reconstruct noisy versions of ``clean`` ``(n, H, W)`` [0, 1] with every extractor and split them.

    Each extractor takes ``(batch, 1, H, W)`` normalized images. The noise of an image is the same for
    every model and budget, so models are compared on identical targets (paired over images).
    """
    rows: list[dict] = []
    examples: dict[tuple[str, float, float], tuple[np.ndarray, ...]] = {}
    c_norm = (clean - settings.mean) / settings.std
    size = clean.shape[1] * clean.shape[2]
    for noise_std in settings.noise_stds:
        noise = gaussian_noise(clean.shape, noise_std, settings.seed) / settings.std
        target = (c_norm + noise).astype(np.float32)
        for name, extractor in extractors.items():
            for budget in settings.budgets:
                norm = sphere_norm_for_budget(budget, channels=1)
                recon, init_loss, final_loss = _reconstruct_batched(
                    extractor, target, norm, settings, progress, f"{name} noise={noise_std} budget={budget}"
                )
                for i, image_id in enumerate(ids):
                    split = content_noise_split(recon[i], c_norm[i], noise[i])
                    rows.append(
                        {
                            "model": name,
                            "image_id": image_id,
                            "noise_std": float(noise_std),
                            "budget": float(budget),
                            "image_norm": norm,
                            "rms_contrast": norm / np.sqrt(size),
                            **split,
                            "initial_loss": float(init_loss[i]),
                            "final_loss": float(final_loss[i]),
                            "loss_ratio": float(final_loss[i] / init_loss[i])
                            if init_loss[i] > 0
                            else float("nan"),
                        }
                    )
                k = settings.n_examples
                examples[(name, float(noise_std), float(budget))] = (
                    c_norm[:k],
                    noise[:k],
                    target[:k],
                    recon[:k],
                )
    return ContentNoiseResult(rows, examples)


def _reconstruct_batched(
    extractor: FeatureFn,
    target: np.ndarray,
    norm: float,
    settings: ContentNoiseSettings,
    progress: bool,
    desc: str,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    recons, inits, finals = [], [], []
    for start in range(0, len(target), settings.batch_size):
        batch = torch.from_numpy(target[start : start + settings.batch_size, None])
        cfg = ReconstructionSettings(**{**settings.recon.__dict__, "seed": settings.recon.seed + start})
        res = reconstruct(extractor, batch, norm, cfg, progress=progress, desc=desc)
        recons.append(res.images[:, 0])
        inits.append(res.initial_loss)
        finals.append(res.final_loss)
    return np.concatenate(recons), np.concatenate(inits), np.concatenate(finals)


def summarize_content_vs_noise(
    rows: Sequence[dict], *, reference: str | None = None, n_boot: int = DEFAULT_N_BOOT, seed: int = 0
) -> tuple[list[dict], list[dict]]:
    """Per-condition means with bootstrap CIs over images, and paired differences to a reference model.

    Returns ``(summary, comparisons)``. ``summary`` has one row per model x noise level x budget x measure
    (``PER_IMAGE_MEASURES``). ``comparisons`` has one row per other model x noise level x budget x measure:
    the mean over images of ``model - reference`` with a paired bootstrap CI. ``reference`` defaults to the
    first model.
    """
    models = list(dict.fromkeys(r["model"] for r in rows))
    reference = reference or models[0]
    conditions = sorted({(r["noise_std"], r["budget"]) for r in rows})
    index = {(r["model"], r["noise_std"], r["budget"], r["image_id"]): r for r in rows}
    image_ids = list(dict.fromkeys(r["image_id"] for r in rows))
    summary, comparisons = [], []
    for noise_std, budget in conditions:
        for model in models:
            for measure in PER_IMAGE_MEASURES:
                vals = np.array([index[(model, noise_std, budget, i)][measure] for i in image_ids])
                est = bootstrap_mean(vals, n_boot=n_boot, seed=seed)
                summary.append(
                    {
                        "model": model,
                        "noise_std": noise_std,
                        "budget": budget,
                        "measure": measure,
                        **est.as_dict(),
                    }
                )
                if model == reference:
                    continue
                ref = np.array([index[(reference, noise_std, budget, i)][measure] for i in image_ids])
                diff = paired_bootstrap_difference(ref, vals, n_boot=n_boot, seed=seed)
                comparisons.append(
                    {
                        "model": model,
                        "reference": reference,
                        "noise_std": noise_std,
                        "budget": budget,
                        "measure": measure,
                        **diff.as_dict(),
                        "ci_excludes_zero": diff.excludes_zero(),
                    }
                )
    return summary, comparisons
