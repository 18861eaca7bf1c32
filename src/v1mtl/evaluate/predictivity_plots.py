"""PNG figure of a predictivity layer sweep: validation and test scores of every layer."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from v1mtl.common import figure_style as style

SWEEP_LINES = (
    ("val_corr", "validation corr"),
    ("test_corr_mean", "test corr"),
    ("corr_to_average_mean", "corr to average"),
    ("feve_mean", "FEVE"),
)


def layer_sweep(layer_rows: Sequence[dict], path: str | Path) -> Path:
    """Write one line per score in ``SWEEP_LINES`` over the layers of ``layer_rows`` (``layers.csv`` rows)."""
    names = [r["layer"] for r in layer_rows]
    x = np.arange(len(names))
    fig = style.new_figure(2.8, width=min(style.FIG_WIDTH, 0.7 * len(names) + 3.0))
    ax = fig.subplots()
    for key, label in SWEEP_LINES:
        ax.plot(x, [np.nan if r[key] is None else r[key] for r in layer_rows], marker="o", ms=4, label=label)
    ax.set_xticks(x, names, rotation=45, ha="right")
    ax.set_xlim(-0.5, len(names) - 0.5)
    ax.set_ylabel("mean over neurons")
    ax.grid(alpha=0.3)
    # beside the axes, not in them: inside, the legend covered a layer's points
    fig.legend(loc="outside right upper", fontsize=style.SMALL)
    return style.save(fig, path)
