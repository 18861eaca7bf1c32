"""Figures of the analyses (PNG, written atomically), in the study's figure style (``v1mtl.common.figure_style``).

Networks are coloured and ordered by condition; the example figures show one network per condition (its
lowest seed), so they keep their size however many seeds a study ran.
"""

from __future__ import annotations

import textwrap
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from v1mtl.common import figure_style as style

MAP_CMAP = "magma"


def network_label(name: str) -> str:
    """A network's label on two lines, ``MTL`` over ``seed 0``, so it fits beside or above a small image."""
    seed = style.seed_of(name)
    condition = style.label(style.condition_of(name))
    return condition if seed is None else f"{condition}\nseed {seed}"


def _image_axis(ax, img: np.ndarray | None, title: str = "", cmap: str = "gray", **imshow) -> None:
    """An image without ticks (an empty frame when ``img`` is None), with a small title."""
    if img is not None:
        ax.imshow(img, cmap=cmap, **imshow)
    else:
        ax.set_frame_on(False)
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize=style.SMALL - 1)


def _row_label(ax, text: str, colour: str = "k") -> None:
    """A row's label, horizontal, at the left of the row's first panel."""
    ax.set_ylabel(text, rotation=0, ha="right", va="center", fontsize=style.SMALL, color=colour, labelpad=6)


def reconstruction_examples(
    examples: Mapping[tuple[str, float, float], tuple[np.ndarray, ...]], path: str | Path, image: int = 0
) -> Path:
    """One image's reconstructions: a top row with the clean image and its noisy version at every noise level
    (the targets, the same for every network), then one row per condition (its lowest seed's network) with
    its reconstruction at every noise level x budget."""
    networks = style.one_per_condition(m for m, _, _ in examples)
    noises = sorted({n for _, n, _ in examples})
    budgets = sorted({b for _, _, b in examples})
    columns = [(n, b) for n in noises for b in budgets]
    n_cols = max(1 + len(noises), len(columns))
    cell = min(1.1, (style.FIG_WIDTH - 1.4) / n_cols)
    fig = style.new_figure(cell * (1 + len(networks)) + 0.6, width=1.4 + cell * n_cols)
    axes = fig.subplots(1 + len(networks), n_cols, squeeze=False)
    clean = examples[(networks[0], noises[0], budgets[0])][0][image]
    inputs = [(clean, "clean")] + [
        (examples[(networks[0], n, budgets[0])][2][image], f"noisy\nstd {n:g}") for n in noises
    ]
    for c in range(n_cols):
        img, title = inputs[c] if c < len(inputs) else (None, "")
        _image_axis(axes[0, c], img, title)
    _row_label(axes[0, 0], "input")
    for r, name in enumerate(networks, start=1):
        for c in range(n_cols):
            if c < len(columns):
                noise, budget = columns[c]
                title = f"std {noise:g}\nbudget {budget:g}" if r == 1 else ""
                _image_axis(axes[r, c], examples[(name, noise, budget)][3][image], title)
            else:
                _image_axis(axes[r, c], None)
        _row_label(axes[r, 0], network_label(name), style.colour(name))
    return style.save(fig, path)


def measure_vs_budget(
    summary: Sequence[dict], measure: str, path: str | Path, ylabel: str, zero_line: bool
) -> Path:
    """Mean and CI over images of ``measure`` against the budget: one panel per noise level, one line per
    network, coloured by condition."""
    rows = [r for r in summary if r["measure"] == measure]
    noises = sorted({r["noise_std"] for r in rows})
    models = style.in_order(r["model"] for r in rows)
    budgets = sorted({r["budget"] for r in rows})
    per_condition = Counter(style.condition_of(m) for m in models)
    fig = style.new_figure(3.0, width=min(style.FIG_WIDTH, 1.2 + 3.0 * len(noises)))
    axes = fig.subplots(1, len(noises), squeeze=False, sharey=True)[0]
    for ax, noise in zip(axes, noises, strict=True):
        for model in models:
            pts = sorted(
                (r["budget"], r["value"], r["ci_low"], r["ci_high"])
                for r in rows
                if r["model"] == model and r["noise_std"] == noise
            )
            b, v, lo, hi = (np.array(x) for x in zip(*pts, strict=True))
            colour = style.colour(model)
            ax.plot(b, v, color=colour, marker=style.marker(model), ms=4)
            # the bands of one condition's seeds overlap: together they are as opaque as one
            ax.fill_between(
                b, lo, hi, color=colour, alpha=0.15 / per_condition[style.condition_of(model)], lw=0
            )
        if zero_line:
            ax.axhline(0, color=style.REFERENCE_COLOUR, lw=0.8, ls="--")
        ax.set_xscale("log")
        # the budgets themselves as ticks: log-axis minor labels (2x10^1, 3x10^1, ...) overlap
        ax.set_xticks(budgets, [f"{b:g}" for b in budgets])
        ax.minorticks_off()
        ax.set_xlabel("budget (L2 norm, 3-channel units)", fontsize=style.SMALL)
        ax.set_title(f"noise std {noise:g}", fontsize=style.SMALL + 1)
    axes[0].set_ylabel(ylabel)
    handles, labels = style.condition_handles(models)
    fig.legend(handles, labels, loc="outside lower center", ncols=min(3, len(labels)), fontsize=style.SMALL)
    return style.save(fig, path)


def _scaled(m: np.ndarray) -> np.ndarray:
    """``m`` min-max scaled to [0, 1], so maps of different networks share one colour bar."""
    lo, hi = float(np.min(m)), float(np.max(m))
    return np.zeros_like(m, dtype=float) if hi <= lo else (m - lo) / (hi - lo)


def saliency_examples(
    ids: Sequence[str],
    images: np.ndarray,
    saliency: np.ndarray,
    maps: Mapping[tuple[str, str], np.ndarray],
    path: str | Path,
    n: int = 3,
) -> Path:
    """One row per image x sensitivity method: the image, its saliency map, then each condition's
    sensitivity map (its lowest seed's network); every map min-max scaled, one colour bar."""
    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import Normalize

    networks = style.one_per_condition(m for m, _ in maps)
    methods = list(dict.fromkeys(method for _, method in maps))
    rows = [(i, method) for i in range(min(n, len(ids))) for method in methods]
    n_cols = 2 + len(networks)
    cell = min(1.0, (style.FIG_WIDTH - 2.0) / n_cols)
    fig = style.new_figure(cell * len(rows) + 0.8, width=2.0 + cell * n_cols)
    axes = fig.subplots(len(rows), n_cols, squeeze=False)
    scale = {"vmin": 0.0, "vmax": 1.0}
    for r, (i, method) in enumerate(rows):
        top = r == 0
        _image_axis(axes[r, 0], images[i], "image" if top else "")
        _image_axis(axes[r, 1], _scaled(saliency[i]), "saliency" if top else "", MAP_CMAP, **scale)
        for c, name in enumerate(networks, start=2):
            title = textwrap.fill(style.label(style.condition_of(name)), 9) if top else ""
            _image_axis(axes[r, c], _scaled(maps[(name, method)][i]), title, MAP_CMAP, **scale)
        _row_label(axes[r, 0], f"{ids[i]}\n{method}")
    bar = fig.colorbar(ScalarMappable(Normalize(0, 1), MAP_CMAP), ax=axes, shrink=0.6, aspect=25)
    bar.set_label("map value, scaled to [0, 1] per map", fontsize=style.SMALL)
    bar.ax.tick_params(labelsize=style.SMALL)
    return style.save(fig, path)


def score_bars(summary: Sequence[dict], path: str | Path) -> Path:
    """Per score (NSS, AUC): mean with its CI over images per network, grouped by sensitivity method,
    coloured by condition; the dashed line is chance (NSS 0, AUC 0.5)."""
    scores = list(dict.fromkeys(r["score"] for r in summary))
    methods = list(dict.fromkeys(r["method"] for r in summary))
    models = style.in_order(r["model"] for r in summary)
    chance = {"nss": 0.0, "auc": 0.5}
    fig = style.new_figure(3.0, width=min(style.FIG_WIDTH, 1.0 + 3.0 * len(scores)))
    axes = fig.subplots(1, len(scores), squeeze=False)[0]
    width = 0.8 / max(len(models), 1)
    for ax, score in zip(axes, scores, strict=True):
        for j, model in enumerate(models):
            rows = [
                next(r for r in summary if r["score"] == score and r["method"] == m and r["model"] == model)
                for m in methods
            ]
            v = np.array([r["value"] for r in rows])
            err = np.array(
                [[r["value"] - r["ci_low"] for r in rows], [r["ci_high"] - r["value"] for r in rows]]
            )
            x = np.arange(len(methods)) - 0.4 + width * (j + 0.5)
            ax.bar(x, v, width, yerr=err, color=style.colour(model), capsize=1.5, error_kw={"lw": 0.8})
        ax.axhline(chance.get(score, 0.0), color=style.REFERENCE_COLOUR, lw=0.8, ls="--")
        ax.set_xticks(np.arange(len(methods)), methods)
        ax.set_ylabel(score.upper())
    handles, labels = style.condition_handles(models, kind="patch")
    fig.legend(handles, labels, loc="outside lower center", ncols=min(3, len(labels)), fontsize=style.SMALL)
    return style.save(fig, path)
