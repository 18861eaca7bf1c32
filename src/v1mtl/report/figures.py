"""The report's own figures (the per-corruption panels come from ``v1mtl.evaluate.robustness_plots``)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from v1mtl.analysis.stats import t_mean  # noqa: E402
from v1mtl.atomic import write_bytes  # noqa: E402
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
    """Validation accuracy per epoch, one line per run, coloured by condition."""
    conditions = conditions_in_order(runs)
    colors = {c: plt.cm.tab10(i % 10) for i, c in enumerate(conditions)}
    fig, ax = plt.subplots(figsize=(6, 3.5))
    for r in runs:
        epochs = [h["epoch"] for h in r.history if "val_accuracy" in h]
        acc = [h["val_accuracy"] for h in r.history if "val_accuracy" in h]
        ax.plot(epochs, acc, color=colors[r.condition], alpha=0.8, label=r.condition)
    handles, labels = ax.get_legend_handles_labels()
    unique = dict(zip(labels, handles, strict=True))
    ax.legend(unique.values(), unique.keys(), fontsize=7)
    ax.set_xlabel("epoch")
    ax.set_ylabel("validation accuracy")
    return _save(fig, path)


def robustness_vs_predictivity(runs: list[RunResult], path: Path) -> Path:
    """One dot per network: mean corruption accuracy against V1 predictivity."""
    conditions = conditions_in_order(runs)
    fig, ax = plt.subplots(figsize=(4.8, 3.6))
    for i, c in enumerate(conditions):
        pts = [(r.predictivity, r.mean_corruption_accuracy) for r in runs if r.condition == c]
        ax.scatter(*zip(*pts, strict=True), color=plt.cm.tab10(i % 10), label=c)
    ax.set_xlabel("V1 predictivity (mean FEVE, best layer)")
    ax.set_ylabel("mean corruption accuracy")
    ax.legend(fontsize=7)
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
