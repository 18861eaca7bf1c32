"""The report's own figures (the per-corruption panels come from ``v1mtl.evaluate.robustness_plots``).

Every figure takes its colours, order, labels, percent axes and chance line from
``v1mtl.common.figure_style``; accuracies arrive as fractions and are shown as percentages.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
from matplotlib.ticker import MaxNLocator

from v1mtl.common import figure_style as style
from v1mtl.common.stats import Estimate, t_mean
from v1mtl.evaluate.robustness_table import CLEAN, GAUSSIAN_SWEEP
from v1mtl.report.collect import RunResult
from v1mtl.report.differences import METRICS, PairedDifference, by_pair

# How each paired difference is shown: factor from the stored value, and the unit of the axis.
DIFFERENCE_UNITS = {
    "clean_accuracy": (100.0, "percentage points"),
    "mean_corruption_accuracy": (100.0, "percentage points"),
    "relative_overall": (1.0, "score points"),
    "predictivity": (1.0, "FEVE"),
}


def conditions_in_order(runs: list[RunResult]) -> list[str]:
    """The conditions of ``runs`` in the fixed order of every figure and table (``figure_style.CONDITIONS``)."""
    return style.in_order(r.condition for r in runs)


def _yerr(est: Estimate, scale: float = 1.0) -> list[list[float]] | None:
    """Error-bar lengths of an estimate's interval, None when it has none (one seed)."""
    if not np.isfinite(est.ci_low):
        return None
    return [[scale * (est.value - est.ci_low)], [scale * (est.ci_high - est.value)]]


def _bounds(est: Estimate) -> list[float]:
    return [est.value, est.ci_low, est.ci_high]


def accuracy_by_condition(
    runs: list[RunResult], attr: str, ylabel: str, path: Path, chance: float = 0.0
) -> Path:
    """Per condition: the mean over seeds (large marker) with its 95% t interval (where there are two seeds or
    more) and every seed (small black dots beside it); accuracy in percent, chance line."""
    conditions = conditions_in_order(runs)
    fig = style.new_figure(3.0, width=min(style.FIG_WIDTH, 1.6 + 0.85 * len(conditions)))
    ax = fig.subplots()
    shown: list[float] = []
    for i, c in enumerate(conditions):
        vals = np.array([getattr(r, attr) for r in runs if r.condition == c], dtype=float)
        est = t_mean(vals)
        ax.errorbar(
            i, est.value, yerr=_yerr(est), fmt=style.marker(c), color=style.colour(c), ms=7, capsize=4, lw=1.5
        )
        # seeds beside the mean, not on it: with one seed they would hide each other
        ax.scatter(np.full(len(vals), i + 0.22), vals, color="k", s=8, zorder=3)
        shown += [*vals, *_bounds(est)]
    ax.set_xticks(range(len(conditions)), [style.label(c) for c in conditions], rotation=25, ha="right")
    ax.set_xlim(-0.5, len(conditions) - 0.3)
    style.accuracy_axis(ax, shown, chance)
    ax.set_ylabel(ylabel)
    if chance > 0:
        ax.legend(fontsize=style.SMALL)
    return style.save(fig, path)


def training_curves(runs: list[RunResult], path: Path, chance: float = 0.0) -> Path:
    """Validation accuracy per epoch (percent, chance line), and for MTL runs the validation correlation with
    their neural targets; one line per run, coloured by condition, one legend entry per condition."""
    neural = [r for r in runs if any(h.get("val_neural_corr") is not None for h in r.history)]
    panels = [("val_accuracy", "validation accuracy", runs)]
    if neural:
        panels.append(("val_neural_corr", "validation correlation\nwith the neural targets", neural))
    fig = style.new_figure(3.2)
    axes = fig.subplots(1, len(panels), squeeze=False)[0]
    for ax, (key, ylabel, members) in zip(axes, panels, strict=True):
        values = []
        for r in sorted(members, key=lambda r: style.sort_key(r.name)):
            points = [(h["epoch"], h[key]) for h in r.history if h.get(key) is not None]
            if points:
                # markers too: a run of one epoch is a single point, invisible as a line
                ax.plot(
                    *zip(*points, strict=True),
                    color=style.colour(r.condition),
                    marker=style.marker(r.condition),
                    ms=3,
                    alpha=0.85,
                )
                values += [v for _, v in points]
        ax.set_xlabel("epoch")
        ax.set_ylabel(ylabel)
        # whole epochs: with a margin of half an epoch, a run of one epoch gets the tick 1, not 0.96...1.04
        epochs = [h["epoch"] for r in members for h in r.history]
        if epochs:
            ax.set_xlim(min(epochs) - 0.5, max(epochs) + 0.5)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=1))
        if key == "val_accuracy":
            style.accuracy_axis(ax, values, chance)
    handles, labels = style.condition_handles(r.condition for r in runs)
    chance_handles, chance_labels = axes[0].get_legend_handles_labels()
    fig.legend(
        handles + chance_handles,
        labels + chance_labels,
        loc="outside lower center",
        ncols=min(4, len(labels) + len(chance_labels)),
        fontsize=style.SMALL,
    )
    return style.save(fig, path)


def robustness_vs_predictivity(runs: list[RunResult], path: Path) -> Path:
    """One marker per network: relative robustness score against V1 predictivity, coloured by clean accuracy
    (the paper's panel); the marker shape names the condition."""
    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import Normalize

    fig = style.new_figure(3.6, width=5.6)
    ax = fig.subplots()
    pts = [r for r in runs if np.isfinite(r.predictivity) and np.isfinite(r.relative_overall)]
    clean = np.array([r.clean_accuracy for r in pts], dtype=float)
    norm = Normalize(np.nanmin(clean), np.nanmax(clean)) if len(pts) else None
    for r, c in zip(pts, clean, strict=True):
        ax.scatter(
            r.predictivity,
            r.relative_overall,
            c=[c],
            cmap="viridis",
            norm=norm,
            marker=style.marker(r.condition),
            edgecolors="k",
            linewidths=0.4,
            s=36,
        )
    ax.axhline(100, color=style.REFERENCE_COLOUR, lw=0.9, ls="--", label="Baseline (100)")
    for condition in conditions_in_order(pts):
        ax.scatter([], [], color="0.5", marker=style.marker(condition), label=style.label(condition))
    if pts:
        bar = fig.colorbar(ScalarMappable(norm=norm, cmap="viridis"), ax=ax)
        bar.set_label("clean accuracy")
        style.percent_axis(bar.ax)
    fig.legend(loc="outside lower center", ncols=4, fontsize=style.SMALL)
    ax.set_xlabel("V1 predictivity (mean FEVE, best layer)")
    ax.set_ylabel("relative robustness score [%]")
    return style.save(fig, path)


def relative_by_family(
    scores: Mapping[tuple[str, str], Estimate], conditions: list[str], families: list[str], path: Path
) -> Path:
    """Relative robustness score per family and overall, one bar per condition drawn from the Baseline's
    100 (up = more robust), 95% t interval over seeds where there are two seeds or more.
    ``scores``: ``(condition, scope name) -> Estimate``; families without any score are left out."""
    shown = [c for c in style.in_order(conditions) if c != "baseline"]
    groups = [g for g in [*families, "overall"] if any(_finite(scores.get((c, g))) for c in shown)]
    width = 0.8 / max(len(shown), 1)
    fig = style.new_figure(3.2)
    ax = fig.subplots()
    values = [100.0]
    for i, c in enumerate(shown):
        for j, g in enumerate(groups):
            est = scores.get((c, g))
            if not _finite(est):
                continue
            x = j - 0.4 + width * (i + 0.5)
            ax.bar(x, est.value - 100, width, bottom=100, color=style.colour(c), yerr=_yerr(est), capsize=2)
            values += _bounds(est)
    ax.axhline(100, color="k", lw=0.9)
    ax.set_xticks(range(len(groups)), groups)
    ax.set_ylim(*_padded(values))
    ax.set_ylabel("relative robustness score [%]")
    handles, labels = style.condition_handles(shown, kind="patch")
    fig.legend(
        handles, labels, loc="outside lower center", ncols=min(5, len(labels)) or 1, fontsize=style.SMALL
    )
    return style.save(fig, path)


def _finite(est: Estimate | None) -> bool:
    return est is not None and bool(np.isfinite(est.value))


def _padded(values: Sequence[float]) -> tuple[float, float]:
    """Limits around the finite ``values`` with a margin of 8% of their span (at least 2)."""
    finite = [v for v in values if np.isfinite(v)]
    lo, hi = min(finite), max(finite)
    margin = max(0.08 * (hi - lo), 2.0)
    return lo - margin, hi + margin


def pair_label(condition: str, reference: str) -> str:
    """``MTL − Baseline``: a paired difference in the reader's words."""
    return f"{style.label(condition)} − {style.label(reference)}"


def paired_differences(diffs: list[PairedDifference], path: Path) -> Path:
    """One panel per metric: each pair's mean paired difference (dot, the condition's colour) with its 95% t
    interval (bar) where it has one (two seeds or more); a line at zero. Accuracies in percentage points."""
    table = by_pair(diffs)
    metrics = [m for m in METRICS if any(m in by_metric for by_metric in table.values())]
    n_cols = min(2, len(metrics))
    n_rows = -(-len(metrics) // n_cols)
    fig = style.new_figure(n_rows * (0.26 * len(table) + 1.1))
    axes = fig.subplots(n_rows, n_cols, squeeze=False)
    for ax in axes.flat[len(metrics) :]:
        ax.set_visible(False)
    labels = [pair_label(c, r) for c, r in table]
    for ax, metric in zip(axes.flat, metrics, strict=False):
        scale, unit = DIFFERENCE_UNITS.get(metric, (1.0, "difference"))
        for y, ((condition, _), by_metric) in enumerate(table.items()):
            est = by_metric.get(metric)
            if est is None or not np.isfinite(est.value):
                continue
            if np.isfinite(est.ci_low):
                ax.plot(
                    [scale * est.ci_low, scale * est.ci_high], [y, y], color=style.colour(condition), lw=2
                )
            ax.plot(scale * est.value, y, "o", color=style.colour(condition), mec="k", mew=0.5, ms=5)
        ax.axvline(0, color=style.REFERENCE_COLOUR, lw=0.8, ls="--")
        ax.set_title(METRICS[metric], fontsize=9)
        ax.set_xlabel(f"difference ({unit})", fontsize=style.SMALL)
        ax.xaxis.set_major_locator(MaxNLocator(nbins=4))
        ax.tick_params(labelsize=style.SMALL)
        ax.set_yticks(range(len(table)), labels if ax in axes[:, 0] else [])
        ax.set_ylim(len(table) - 0.5, -0.5)
    return style.save(fig, path)


def paired_differences_caption(diffs: list[PairedDifference]) -> str:
    """The caption of ``paired_differences``, promising an interval only where the figure draws one."""
    with_interval = [d for d in diffs if np.isfinite(d.estimate.ci_low)]
    head = "Paired differences between conditions (condition minus reference, paired by seed), "
    if not with_interval:
        seeds = max((d.estimate.n for d in diffs), default=0)
        return head + f"on {seeds} seed: the dot is that seed's difference; one seed gives no interval."
    if len(with_interval) == len(diffs):
        return head + "mean over seeds (dot) and 95% t interval over seeds (bar)."
    return (
        head
        + "mean over seeds (dot) and 95% t interval over seeds (bar; none where only one seed was paired)."
    )


def sweep_curves(runs: list[RunResult]) -> dict[str, list[tuple[float, Estimate]]]:
    """Per condition (fixed order): ``(noise std, accuracy over seeds)`` of the Gaussian-noise sweep, std 0
    from the clean row where the sweep did not measure it; a t interval over seeds where there are two or more."""
    per_seed: dict[str, dict[float, list[float]]] = {}
    for run in runs:
        accuracy = {r.severity: r.accuracy for r in run.sweep_rows if r.corruption == GAUSSIAN_SWEEP}
        clean = [r.accuracy for r in run.sweep_rows if r.corruption == CLEAN]
        if accuracy and clean and 0.0 not in accuracy:
            accuracy[0.0] = clean[0]
        for std, acc in accuracy.items():
            per_seed.setdefault(run.condition, {}).setdefault(std, []).append(acc)
    return {
        c: [(std, t_mean(np.array(v))) for std, v in sorted(per_seed[c].items())]
        for c in style.in_order(per_seed)
    }


def noise_sweep(runs: list[RunResult], path: Path, chance: float = 0.0) -> Path:
    """Accuracy (percent) against the std of added Gaussian noise, one line per condition (mean over seeds),
    a band for the 95% t interval over seeds where there are two seeds or more, and the chance line."""
    fig = style.new_figure(3.4, width=5.6)
    ax = fig.subplots()
    values: list[float] = []
    for condition, points in sweep_curves(runs).items():
        stds = np.array([s for s, _ in points])
        ests = [e for _, e in points]
        colour = style.colour(condition)
        ax.plot(
            stds,
            [e.value for e in ests],
            color=colour,
            marker=style.marker(condition),
            ms=4,
            label=style.label(condition),
        )
        low, high = np.array([e.ci_low for e in ests]), np.array([e.ci_high for e in ests])
        if np.isfinite(low).any():
            ax.fill_between(stds, low, high, color=colour, alpha=0.2, lw=0)
        values += [v for e in ests for v in _bounds(e)]
    style.accuracy_axis(ax, values, chance)
    ax.set_xlabel("std of the added Gaussian noise (pixel values in [0, 1])")
    ax.set_ylabel("accuracy")
    ax.grid(alpha=0.3)
    fig.legend(loc="outside right upper", fontsize=style.SMALL)
    return style.save(fig, path)


def adversarial_curves(runs: list[RunResult], norm: str) -> dict[str, list[tuple[float, Estimate]]]:
    """Per condition (fixed order): ``(budget, accuracy over seeds)`` under PGD of threat model ``norm``, budgets
    ascending; a t interval over seeds where there are two or more."""
    per_seed: dict[str, dict[float, list[float]]] = {}
    for run in runs:
        for row in run.adversarial_rows:
            if row.norm == norm:
                per_seed.setdefault(run.condition, {}).setdefault(row.eps, []).append(row.accuracy)
    return {
        c: [(eps, t_mean(np.array(v))) for eps, v in sorted(per_seed[c].items())]
        for c in style.in_order(per_seed)
    }


def format_budget(eps: float) -> str:
    """A budget as the report's axes and tables show it: three significant digits (``0.00392``)."""
    return f"{eps:.3g}"


def accuracy_vs_budget(runs: list[RunResult], norm: str, path: Path, chance: float = 0.0) -> Path:
    """Accuracy (percent) under PGD against the budget of threat model ``norm``, one line per condition (mean
    over seeds), a band for the 95% t interval over seeds where there are two seeds or more, the chance line.

    The budgets sit at evenly spaced positions labelled with their values: a study's budgets span orders of
    magnitude and start at 0 (clean), which neither a linear nor a log axis shows."""
    curves = adversarial_curves(runs, norm)
    budgets = sorted({eps for points in curves.values() for eps, _ in points})
    position = {eps: i for i, eps in enumerate(budgets)}
    fig = style.new_figure(3.4, width=5.6)
    ax = fig.subplots()
    values: list[float] = []
    for condition, points in curves.items():
        x = np.array([position[eps] for eps, _ in points])
        ests = [e for _, e in points]
        colour = style.colour(condition)
        ax.plot(
            x,
            [e.value for e in ests],
            color=colour,
            marker=style.marker(condition),
            ms=4,
            label=style.label(condition),
        )
        low, high = np.array([e.ci_low for e in ests]), np.array([e.ci_high for e in ests])
        if np.isfinite(low).any():
            ax.fill_between(x, low, high, color=colour, alpha=0.2, lw=0)
        values += [v for e in ests for v in _bounds(e)]
    style.accuracy_axis(ax, values, chance)
    ax.set_xticks(range(len(budgets)), [format_budget(eps) for eps in budgets])
    ax.set_xlabel(f"{style.NORM_LABELS.get(norm, norm)} budget (pixel values in [0, 1]; 0 = clean)")
    ax.set_ylabel("accuracy under PGD")
    ax.grid(alpha=0.3)
    fig.legend(loc="outside right upper", fontsize=style.SMALL)
    return style.save(fig, path)
