"""Figures of the analyses (matplotlib, Agg backend, PNG written atomically)."""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from v1mtl.common.atomic import write_bytes  # noqa: E402


def save_figure(fig, path: str | Path) -> None:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    write_bytes(path, buf.getvalue())


def _show(ax, img: np.ndarray, title: str = "", cmap: str = "gray") -> None:
    ax.imshow(img, cmap=cmap)
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize=7)


def reconstruction_examples(
    examples: Mapping[tuple[str, float, float], tuple[np.ndarray, ...]], path: str | Path, image: int = 0
) -> None:
    """One row per model x noise level: clean, noisy target, then the reconstruction at every budget."""
    keys = sorted(examples)
    rows = list(dict.fromkeys((m, n) for m, n, _ in keys))
    budgets = sorted({b for _, _, b in keys})
    fig, axes = plt.subplots(
        len(rows), 2 + len(budgets), figsize=(1.4 * (2 + len(budgets)), 1.5 * len(rows)), squeeze=False
    )
    for r, (model, noise) in enumerate(rows):
        clean, _, target, _ = examples[(model, noise, budgets[0])]
        _show(axes[r, 0], clean[image], f"{model}\nclean")
        _show(axes[r, 1], target[image], f"noise {noise:g}")
        for c, budget in enumerate(budgets):
            _show(axes[r, 2 + c], examples[(model, noise, budget)][3][image], f"budget {budget:g}")
    save_figure(fig, path)


def measure_vs_budget(
    summary: Sequence[dict], measure: str, path: str | Path, ylabel: str, zero_line: bool
) -> None:
    """Mean and CI of ``measure`` against the budget: one panel per noise level, one line per model."""
    rows = [r for r in summary if r["measure"] == measure]
    noises = sorted({r["noise_std"] for r in rows})
    models = list(dict.fromkeys(r["model"] for r in rows))
    fig, axes = plt.subplots(1, len(noises), figsize=(3.4 * len(noises), 2.8), squeeze=False, sharey=True)
    for ax, noise in zip(axes[0], noises, strict=True):
        for model in models:
            pts = sorted(
                (r["budget"], r["value"], r["ci_low"], r["ci_high"])
                for r in rows
                if r["model"] == model and r["noise_std"] == noise
            )
            b, v, lo, hi = (np.array(x) for x in zip(*pts, strict=True))
            ax.plot(b, v, marker="o", label=model)
            ax.fill_between(b, lo, hi, alpha=0.2)
        if zero_line:
            ax.axhline(0, color="k", lw=0.8, ls="--")
        ax.set_xscale("log")
        ax.set_xlabel("budget (L2 norm, 3-channel units)")
        ax.set_title(f"noise std {noise:g}", fontsize=9)
    axes[0, 0].set_ylabel(ylabel)
    axes[0, -1].legend(fontsize=7)
    save_figure(fig, path)


def saliency_examples(
    ids: Sequence[str],
    images: np.ndarray,
    saliency: np.ndarray,
    maps: Mapping[tuple[str, str], np.ndarray],
    path: str | Path,
    n: int = 4,
) -> None:
    """One row per image: image, saliency map, then every model x method sensitivity map."""
    keys = list(maps)
    n = min(n, len(ids))
    fig, axes = plt.subplots(n, 2 + len(keys), figsize=(1.4 * (2 + len(keys)), 1.5 * n), squeeze=False)
    for i in range(n):
        _show(axes[i, 0], images[i], ids[i])
        _show(axes[i, 1], saliency[i], "saliency", cmap="magma")
        for c, (model, method) in enumerate(keys):
            _show(axes[i, 2 + c], maps[(model, method)][i], f"{model}\n{method}", cmap="magma")
    save_figure(fig, path)


def score_bars(summary: Sequence[dict], path: str | Path) -> None:
    """Per score (NSS, AUC): mean with CI per model, grouped by sensitivity method."""
    scores = list(dict.fromkeys(r["score"] for r in summary))
    methods = list(dict.fromkeys(r["method"] for r in summary))
    models = list(dict.fromkeys(r["model"] for r in summary))
    chance = {"nss": 0.0, "auc": 0.5}
    fig, axes = plt.subplots(1, len(scores), figsize=(3.2 * len(scores), 2.8), squeeze=False)
    width = 0.8 / max(len(models), 1)
    for ax, score in zip(axes[0], scores, strict=True):
        for j, model in enumerate(models):
            rows = [
                next(r for r in summary if r["score"] == score and r["method"] == m and r["model"] == model)
                for m in methods
            ]
            v = np.array([r["value"] for r in rows])
            err = np.array(
                [[r["value"] - r["ci_low"] for r in rows], [r["ci_high"] - r["value"] for r in rows]]
            )
            ax.bar(np.arange(len(methods)) + j * width, v, width, yerr=err, label=model, capsize=2)
        ax.axhline(chance.get(score, 0.0), color="k", lw=0.8, ls="--")
        ax.set_xticks(np.arange(len(methods)) + width * (len(models) - 1) / 2, methods)
        ax.set_ylabel(score.upper())
    axes[0, -1].legend(fontsize=7)
    save_figure(fig, path)
