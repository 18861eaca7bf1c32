"""PNG figure of a predictivity layer sweep: validation and test scores of every layer."""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from v1mtl.common.atomic import write_bytes

SWEEP_LINES = (
    ("val_corr", "validation corr"),
    ("test_corr_mean", "test corr"),
    ("corr_to_average_mean", "corr to average"),
    ("feve_mean", "FEVE"),
)


def layer_sweep(layer_rows: Sequence[dict], path: str | Path) -> None:
    """Write one line per score in ``SWEEP_LINES`` over the layers of ``layer_rows`` (``layers.csv`` rows)."""
    # a bare Figure, not pyplot: a library module must not switch the process's matplotlib backend
    from matplotlib.figure import Figure

    names = [r["layer"] for r in layer_rows]
    x = np.arange(len(names))
    fig = Figure(figsize=(max(3.0, 0.8 * len(names) + 1.5), 2.8))
    ax = fig.subplots()
    for key, label in SWEEP_LINES:
        ax.plot(x, [np.nan if r[key] is None else r[key] for r in layer_rows], marker="o", label=label)
    ax.set_xticks(x, names, rotation=45, ha="right")
    ax.set_ylabel("mean over neurons")
    ax.legend(fontsize=7)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    write_bytes(path, buf.getvalue())
