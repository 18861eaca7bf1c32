"""PNG plots of accuracy against severity: one figure per protocol, one panel per corruption, one line per model.

Each line starts at severity 0 with the model's clean accuracy (for the Gaussian sweep, std 0 is measured
directly), so the drop from clean is visible in every panel. Accuracy is shown in percent on an axis fitted
to the protocol's data, with a dashed line at chance when the chance level is given; models are coloured,
ordered and labelled as in every figure of the study (``v1mtl.common.figure_style``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from v1mtl.common import figure_style as style
from v1mtl.evaluate.robustness_table import CLEAN, GAUSSIAN_SWEEP, RobustnessRow

if TYPE_CHECKING:
    from matplotlib.figure import Figure

PANEL_COLUMNS = 5


def protocol_slug(protocol: tuple[str, str, bool, str]) -> str:
    """File-name part naming a protocol, e.g. ``on-the-fly_tiny-imagenet_rgb`` (``_jpeg85`` when round-tripped)."""
    source, preset, jpeg, space = protocol
    return f"{source}_{preset}_{space}" + ("_jpeg85" if jpeg else "")


def plot_accuracy_vs_severity(
    rows: Sequence[RobustnessRow], out_dir: str | Path, chance: float = 0.0
) -> list[Path]:
    """Write ``accuracy_vs_severity_<protocol>.png`` into ``out_dir`` for every protocol in ``rows``.

    Args:
        rows: robustness rows; models named by condition (pooled) or by network (``mtl-s0``) get the
            study's labels and colours, other names are shown as they are.
        chance: the chance accuracy (``1 / n_classes``), drawn as a dashed line; 0 = unknown, no line.

    Returns:
        The written paths, one per protocol, in order of first appearance.
    """
    by_protocol: dict[tuple, list[RobustnessRow]] = {}
    for r in rows:
        by_protocol.setdefault(r.protocol, []).append(r)
    return [
        style.save(
            _protocol_figure(protocol, group, chance),
            Path(out_dir) / f"accuracy_vs_severity_{protocol_slug(protocol)}.png",
        )
        for protocol, group in by_protocol.items()
    ]


def _curves(group: Sequence[RobustnessRow], model: str, corruption: str) -> tuple[list[float], list[float]]:
    """Severities and accuracies of one model on one corruption, starting at severity 0 with clean accuracy."""
    pts = {r.severity: r.accuracy for r in group if r.model == model and r.corruption == corruption}
    clean = [r.accuracy for r in group if r.model == model and r.corruption == CLEAN]
    if clean and 0.0 not in pts:
        pts[0.0] = clean[0]
    xs = sorted(pts)
    return xs, [pts[x] for x in xs]


def _protocol_figure(protocol: tuple, group: Sequence[RobustnessRow], chance: float) -> Figure:
    """One protocol's figure: a panel per corruption, a line per model, one y axis for all panels."""
    models = style.in_order(r.model for r in group)
    corruptions = list(dict.fromkeys(r.corruption for r in group if r.corruption != CLEAN))
    n_cols = max(1, min(PANEL_COLUMNS, len(corruptions)))
    n_rows = max(1, math.ceil(len(corruptions) / n_cols))
    fig = style.new_figure(1.9 * n_rows + 1.0)
    axes = fig.subplots(n_rows, n_cols, squeeze=False, sharey=True)
    for ax in axes.flat[len(corruptions) :]:
        ax.set_visible(False)
    values = [r.accuracy for r in group]
    for ax, corruption in zip(axes.flat, corruptions, strict=False):
        for model in models:
            xs, ys = _curves(group, model, corruption)
            ax.plot(
                xs,
                ys,
                color=style.colour(model),
                marker=style.marker(model),
                ms=3,
                lw=1.2,
                label=style.label(model),
            )
        if corruption != GAUSSIAN_SWEEP:
            ax.set_xticks(sorted({0.0} | {r.severity for r in group if r.corruption == corruption}))
        ax.set_title(corruption.replace("_", " "), fontsize=style.SMALL + 1)
        ax.grid(alpha=0.3)
        ax.tick_params(labelsize=style.SMALL)
        # shared y: setting the limits on one panel sets them on all; the chance line goes on each
        style.accuracy_axis(ax, values, chance)
    for ax in axes[-1]:
        ax.set_xlabel("noise std" if corruptions == [GAUSSIAN_SWEEP] else "severity", fontsize=style.SMALL)
    for ax in axes[:, 0]:
        ax.set_ylabel("accuracy")
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=min(4, len(labels)), fontsize=style.SMALL)
    fig.suptitle(_title(protocol), fontsize=style.SMALL + 1)
    return fig


def _title(protocol: tuple[str, str, bool, str]) -> str:
    source, preset, jpeg, space = protocol
    parts = [source, f"preset {preset}" if preset != "none" else None, f"corrupted in {space}"]
    if jpeg:
        parts.append("JPEG q85")
    return ", ".join(p for p in parts if p)
