"""The report's own figures (the per-corruption panels come from ``v1mtl.evaluate.robustness_plots``)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from v1mtl.common.atomic import write_bytes  # noqa: E402
from v1mtl.common.stats import t_mean  # noqa: E402
from v1mtl.report.collect import RunResult  # noqa: E402
from v1mtl.report.differences import METRICS, PairedDifference, by_pair  # noqa: E402


def _save(fig: plt.Figure, path: Path) -> Path:
    import io

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    write_bytes(path, buf.getvalue())
    return path


def conditions_in_order(runs: list[RunResult]) -> list[str]:
    return list(dict.fromkeys(r.condition for r in runs))


def bar_by_condition(runs: list[RunResult], attr: str, label: str, path: Path) -> Path:
    """Mean over seeds per condition with a t interval (error bars), seeds as dots."""
    conditions = conditions_in_order(runs)
    fig, ax = plt.subplots(figsize=(1.2 + 1.1 * len(conditions), 3.2))
    for i, c in enumerate(conditions):
        vals = np.array([getattr(r, attr) for r in runs if r.condition == c], dtype=float)
        est = t_mean(vals)
        err = None if not np.isfinite(est.ci_low) else [[est.value - est.ci_low], [est.ci_high - est.value]]
        ax.bar(i, est.value, color="#8fb3d9", yerr=err, capsize=4)
        ax.scatter(np.full(len(vals), i), vals, color="k", s=10, zorder=3)
    ax.set_xticks(range(len(conditions)), conditions, rotation=30, ha="right")
    ax.set_ylabel(label)
    return _save(fig, path)


def training_curves(runs: list[RunResult], path: Path) -> Path:
    """Validation accuracy per epoch, and for MTL runs the validation correlation with their neural targets,
    one line per run, coloured by condition."""
    conditions = conditions_in_order(runs)
    colors = {c: plt.cm.tab10(i % 10) for i, c in enumerate(conditions)}
    neural = [r for r in runs if any(h.get("val_neural_corr") is not None for h in r.history)]
    fig, axes = plt.subplots(1, 2 if neural else 1, figsize=(11 if neural else 6, 3.5), squeeze=False)
    panels = [("val_accuracy", "validation accuracy", runs)]
    if neural:
        panels.append(("val_neural_corr", "validation correlation with the neural targets", neural))
    for ax, (key, label, members) in zip(axes[0], panels, strict=True):
        for r in members:
            points = [(h["epoch"], h[key]) for h in r.history if h.get(key) is not None]
            if points:
                ax.plot(*zip(*points, strict=True), color=colors[r.condition], alpha=0.8, label=r.condition)
        handles, labels = ax.get_legend_handles_labels()
        unique = dict(zip(labels, handles, strict=True))
        ax.legend(unique.values(), unique.keys(), fontsize=7)
        ax.set_xlabel("epoch")
        ax.set_ylabel(label)
    return _save(fig, path)


def robustness_vs_predictivity(runs: list[RunResult], path: Path) -> Path:
    """One dot per network: relative robustness score against V1 predictivity, coloured by clean accuracy
    (the paper's panel; MTL networks are dots, other conditions are labelled markers)."""
    fig, ax = plt.subplots(figsize=(5.4, 3.8))
    pts = [r for r in runs if np.isfinite(r.predictivity) and np.isfinite(r.relative_overall)]
    clean = np.array([100 * r.clean_accuracy for r in pts], dtype=float)
    norm = plt.Normalize(np.nanmin(clean), np.nanmax(clean)) if len(pts) else None
    markers = {}
    for r, c in zip(pts, clean, strict=True):
        marker = markers.setdefault(r.condition, "ovs^DPX*"[len(markers) % 8])
        ax.scatter(r.predictivity, r.relative_overall, c=[c], cmap="viridis", norm=norm, marker=marker)
    for condition, marker in markers.items():
        ax.scatter([], [], color="0.4", marker=marker, label=condition)
    if pts:
        bar = fig.colorbar(plt.cm.ScalarMappable(norm=norm, cmap="viridis"), ax=ax)
        bar.set_label("clean accuracy [%]")
        ax.legend(fontsize=7)
    ax.axhline(100, color="0.5", lw=0.8, ls="--")
    ax.set_xlabel("V1 predictivity (mean FEVE, best layer)")
    ax.set_ylabel("relative robustness score [%]")
    return _save(fig, path)


def relative_by_family(scores, conditions: list[str], families: list[str], path: Path) -> Path:
    """Relative robustness score per family and overall, one bar per condition, 95% t interval over seeds;
    the Baseline is the line at 100. ``scores``: ``(condition, scope name) -> Estimate``."""
    groups = [*families, "overall"]
    shown = [c for c in conditions if c != "baseline"]
    width = 0.8 / max(len(shown), 1)
    fig, ax = plt.subplots(figsize=(1.6 + 1.3 * len(groups), 3.4))
    for i, c in enumerate(shown):
        for j, g in enumerate(groups):
            est = scores.get((c, g))
            if est is None or not np.isfinite(est.value):
                continue
            err = (
                None if not np.isfinite(est.ci_low) else [[est.value - est.ci_low], [est.ci_high - est.value]]
            )
            x = j - 0.4 + width * (i + 0.5)
            ax.bar(
                x,
                est.value,
                width,
                color=plt.cm.tab10(i % 10),
                yerr=err,
                capsize=2,
                label=c if j == 0 else None,
            )
    ax.axhline(100, color="k", lw=1, label="baseline (100)")
    ax.set_xticks(range(len(groups)), groups)
    ax.set_ylabel("relative robustness score [%]")
    ax.legend(fontsize=7, ncol=2)
    return _save(fig, path)


def paired_differences(diffs: list[PairedDifference], path: Path) -> Path:
    """One panel per metric: each pair's mean paired difference with its 95% t interval; a line at zero."""
    table = by_pair(diffs)
    metrics = [m for m in METRICS if any(m in by_metric for by_metric in table.values())]
    fig, axes = plt.subplots(
        1,
        len(metrics),
        figsize=(3.2 * len(metrics) + 1.5, 0.35 * len(table) + 1.2),
        sharey=True,
        squeeze=False,
    )
    for ax, metric in zip(axes[0], metrics, strict=True):
        for y, by_metric in enumerate(table.values()):
            est = by_metric.get(metric)
            if est is None or not np.isfinite(est.value):
                continue
            if np.isfinite(est.ci_low):
                ax.plot([est.ci_low, est.ci_high], [y, y], color="#4a78a8", lw=2)
            ax.plot(est.value, y, "o", color="k", ms=4)
        ax.axvline(0, color="0.5", lw=0.8, ls="--")
        ax.set_title(METRICS[metric], fontsize=9)
    axes[0][0].set_yticks(range(len(table)), [f"{c} - {r}" for c, r in table], fontsize=8)
    axes[0][0].invert_yaxis()
    return _save(fig, path)
