"""PNG plots of accuracy against severity: one figure per protocol, one panel per corruption, one line per model.

Each line starts at severity 0 with the model's clean accuracy (for the Gaussian sweep, std 0 is measured
directly), so the drop from clean is visible in every panel.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from pathlib import Path

from v1mtl.common.atomic import write_bytes
from v1mtl.evaluate.robustness_table import CLEAN, GAUSSIAN_SWEEP, RobustnessRow

PANEL_COLUMNS = 5


def protocol_slug(protocol: tuple[str, str, bool, str]) -> str:
    """File-name part naming a protocol, e.g. ``on-the-fly_tiny-imagenet_rgb`` (``_jpeg85`` when round-tripped)."""
    source, preset, jpeg, space = protocol
    return f"{source}_{preset}_{space}" + ("_jpeg85" if jpeg else "")


def plot_accuracy_vs_severity(rows: Sequence[RobustnessRow], out_dir: str | Path) -> list[Path]:
    """Write ``accuracy_vs_severity_<protocol>.png`` into ``out_dir`` for every protocol in ``rows``.

    Returns:
        The written paths, one per protocol, in order of first appearance.
    """
    from matplotlib.figure import Figure

    by_protocol: dict[tuple, list[RobustnessRow]] = {}
    for r in rows:
        by_protocol.setdefault(r.protocol, []).append(r)
    written = []
    for protocol, group in by_protocol.items():
        models = list(dict.fromkeys(r.model for r in group))
        corruptions = list(dict.fromkeys(r.corruption for r in group if r.corruption != CLEAN))
        clean = {r.model: r.accuracy for r in group if r.corruption == CLEAN}
        n_cols = max(1, min(PANEL_COLUMNS, len(corruptions)))
        n_rows = max(1, math.ceil(len(corruptions) / n_cols))
        fig = Figure(figsize=(2.8 * n_cols, 2.4 * n_rows + 0.8), layout="constrained")
        axes = fig.subplots(n_rows, n_cols, squeeze=False, sharex=False, sharey=True)
        for ax in axes.flat[len(corruptions) :]:
            ax.set_visible(False)
        for ax, corruption in zip(axes.flat, corruptions, strict=False):
            for model in models:
                pts = {
                    r.severity: r.accuracy for r in group if r.model == model and r.corruption == corruption
                }
                if model in clean and 0.0 not in pts:
                    pts[0.0] = clean[model]
                xs = sorted(pts)
                ax.plot(xs, [100 * pts[x] for x in xs], marker="o", markersize=3, label=model)
            if corruption != GAUSSIAN_SWEEP:
                ax.set_xticks(sorted({0.0} | {r.severity for r in group if r.corruption == corruption}))
            ax.set_title(corruption, fontsize=9)
            ax.set_ylim(0, 100)
            ax.grid(alpha=0.3)
        for ax in axes[-1]:
            ax.set_xlabel("noise std" if corruptions == [GAUSSIAN_SWEEP] else "severity")
        for ax in axes[:, 0]:
            ax.set_ylabel("accuracy (%)")
        handles, labels = axes.flat[0].get_legend_handles_labels()
        fig.legend(handles, labels, loc="outside lower center", ncols=min(4, len(models)), fontsize=8)
        fig.suptitle(_title(protocol), fontsize=10)
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=110)
        path = Path(out_dir) / f"accuracy_vs_severity_{protocol_slug(protocol)}.png"
        write_bytes(path, buf.getvalue())
        written.append(path)
    return written


def _title(protocol: tuple[str, str, bool, str]) -> str:
    source, preset, jpeg, space = protocol
    parts = [source, f"preset {preset}" if preset != "none" else None, f"corrupted in {space}"]
    if jpeg:
        parts.append("JPEG q85")
    return ", ".join(p for p in parts if p)
