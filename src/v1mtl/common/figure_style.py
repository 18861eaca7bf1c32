"""The one style every figure of the study uses: a colour, a position and a label per condition, percent
axes fitted to the data with a chance line, a standard width and one save function.

A condition keeps its colour and position in every figure, so a reader who learned "MTL is vermillion" in
one figure reads every other figure the same way. Colours are the Okabe-Ito palette (Okabe & Ito 2008,
"Color Universal Design"), distinguishable under the common colour-vision deficiencies; its yellow is left
out (it does not read on white) and black is kept for references (chance, zero lines, seeds). Conditions
beyond its six colours take one of Paul Tol's.

Networks are named ``<condition>-s<seed>`` (``study.plan.run_name``); ``condition_of`` maps a name back to
its condition, so figures pooled over seeds show condition names and per-seed figures colour by condition.
Names that are not a study's (``v1mtl evaluate robustness --plot`` of any CSVs) pass through unchanged.

matplotlib is imported inside the functions that draw: the constants here are read by modules the command
line imports before any figure is made.
"""

from __future__ import annotations

import io
import math
import re
import zlib
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from v1mtl.common.atomic import write_bytes

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

# The study's conditions in the order every figure and table shows them: the reference first, then the
# claim's condition, its controls, the Oracle pair, and the control without V1 data.
CONDITIONS = (
    "baseline",
    "mtl",
    "mtl-shuffled",
    "mtl-random",
    "noise-augmented",
    "mtl-oracle",
    "vone",
    "pixel-similarity",
)
LABELS = {
    "baseline": "Baseline",
    "mtl": "MTL",
    "mtl-shuffled": "MTL-Shuffled",
    "mtl-random": "MTL-Random",
    "noise-augmented": "Oracle (noise-trained)",
    "mtl-oracle": "MTL-Oracle",
    "vone": "VOneBlock",
    "pixel-similarity": "Pixel-similarity",
}
COLOURS = {
    "baseline": "#0072B2",  # blue
    "mtl": "#D55E00",  # vermillion
    "mtl-shuffled": "#56B4E9",  # sky blue
    "mtl-random": "#CC79A7",  # reddish purple
    "noise-augmented": "#009E73",  # bluish green
    "mtl-oracle": "#E69F00",  # orange
    # Okabe-Ito has no colour left (yellow is out): green and rose of Paul Tol's "muted" scheme (Tol 2021,
    # "Colour Schemes", SRON/EPS/TN/09-002), also safe under colour-vision deficiencies and apart from the others
    "vone": "#117733",
    "pixel-similarity": "#CC6677",
}
MARKERS = {
    "baseline": "o",
    "mtl": "D",
    "mtl-shuffled": "s",
    "mtl-random": "^",
    "noise-augmented": "v",
    "mtl-oracle": "P",
    "vone": "X",
    "pixel-similarity": "*",
}
# The adversarial threat models (``v1mtl.evaluate.adversarial.NORMS``) as a reader sees them, in this order.
NORM_LABELS = {"linf": "L∞", "l2": "L2"}
# Names outside the study's conditions get one of these, picked by a hash of the name so that a name keeps
# its colour from figure to figure (two such names may share one).
OTHER_COLOURS = ("#666666", "#A6761D", "#999933", "#882255", "#44AA99", "#332288")

REFERENCE_COLOUR = "0.35"  # chance and zero lines
FIG_WIDTH = 7.0  # inches: at DPI, about the width of the report's 60rem column, so text shows at its size
DPI = 130
SMALL = 8  # points: legends, panel titles, image labels

_SEED_SUFFIX = re.compile(r"^(?P<condition>.+)-s(?P<seed>\d+)$")


def condition_of(name: str) -> str:
    """The condition of a network name: ``mtl-s3`` -> ``mtl``; a name without a seed suffix is returned as is."""
    match = _SEED_SUFFIX.match(name)
    return match["condition"] if match else name


def seed_of(name: str) -> int | None:
    """The seed of a network name (``mtl-s3`` -> 3), None without a seed suffix."""
    match = _SEED_SUFFIX.match(name)
    return int(match["seed"]) if match else None


def label(name: str) -> str:
    """What a reader sees for a condition or a network: ``mtl`` -> ``MTL``, ``mtl-s3`` -> ``MTL (seed 3)``.

    Names that are not a study's conditions are shown as they are.
    """
    condition, seed = condition_of(name), seed_of(name)
    if condition not in LABELS:
        return name
    return LABELS[condition] if seed is None else f"{LABELS[condition]} (seed {seed})"


def colour(name: str) -> str:
    """The colour of a condition, or of a network by its condition."""
    condition = condition_of(name)
    if condition in COLOURS:
        return COLOURS[condition]
    return OTHER_COLOURS[zlib.crc32(condition.encode()) % len(OTHER_COLOURS)]


def marker(name: str) -> str:
    """The marker of a condition (or of a network by its condition); ``o`` for other names."""
    return MARKERS.get(condition_of(name), "o")


def sort_key(name: str) -> tuple[int, str, int]:
    """Order of conditions and networks: the study's conditions in ``CONDITIONS`` order, then other names
    alphabetically; the networks of one condition by seed."""
    condition = condition_of(name)
    rank = CONDITIONS.index(condition) if condition in CONDITIONS else len(CONDITIONS)
    seed = seed_of(name)
    return rank, condition, -1 if seed is None else seed


def in_order(names: Iterable[str]) -> list[str]:
    """``names`` without repeats, in the fixed order (``sort_key``)."""
    return sorted(dict.fromkeys(names), key=sort_key)


def one_per_condition(names: Iterable[str]) -> list[str]:
    """The first network (lowest seed) of each condition, in order: figures of examples show one network
    per condition, so their size does not grow with the number of seeds."""
    chosen: dict[str, str] = {}
    for name in in_order(names):
        chosen.setdefault(condition_of(name), name)
    return list(chosen.values())


def chance_level(n_classes: int) -> float:
    """Top-1 accuracy of guessing, ``1 / n_classes``; 0 when the number of classes is unknown (0)."""
    return 1.0 / n_classes if n_classes > 0 else 0.0


def format_percent(fraction: float, digits: int = 1) -> str:
    """``0.1234`` -> ``12.3%``: accuracies are fractions in the data and percentages where a person reads them."""
    return f"{100 * fraction:.{digits}f}%"


def accuracy_limits(values: Sequence[float], chance: float = 0.0) -> tuple[float, float]:
    """Axis limits (fractions) that fit ``values`` and the chance level, with a margin, within [0, 1].

    The chance level is always inside, so the reader sees how far above guessing the networks are; NaN
    values are ignored. Without any finite value the limits are [0, 1].
    """
    finite = [float(v) for v in values if v is not None and math.isfinite(v)]
    if not finite:
        return 0.0, 1.0
    points = [*finite, chance] if chance > 0 else finite
    lo, hi = min(points), max(points)
    # a margin of 8% of the span, at least one percentage point, so a flat line is not on the frame
    margin = max(0.08 * (hi - lo), 0.01)
    return max(0.0, lo - margin), min(1.0, hi + margin)


def percent_axis(ax: Axes, axis: str = "y") -> None:
    """Tick labels of ``axis`` as percentages of data given as fractions; call it after setting the limits:
    whole percents over a span of 5 points or more, one decimal below."""
    from matplotlib.ticker import PercentFormatter

    lo, hi = ax.get_ylim() if axis == "y" else ax.get_xlim()
    target = ax.yaxis if axis == "y" else ax.xaxis
    target.set_major_formatter(PercentFormatter(xmax=1.0, decimals=0 if abs(hi - lo) >= 0.05 else 1))


def draw_chance(ax: Axes, chance: float) -> None:
    """A dashed horizontal line at the chance level, labelled in the legend; nothing when it is unknown (0)."""
    if chance > 0:
        ax.axhline(
            chance, color=REFERENCE_COLOUR, lw=0.9, ls="--", label=f"chance ({format_percent(chance)})"
        )


def accuracy_axis(ax: Axes, values: Sequence[float], chance: float = 0.0) -> None:
    """An accuracy y axis: limits fitted to ``values`` and chance, percent ticks and the chance line."""
    ax.set_ylim(*accuracy_limits(values, chance))
    percent_axis(ax)
    draw_chance(ax, chance)


def condition_handles(names: Iterable[str], kind: str = "line") -> tuple[list, list[str]]:
    """Legend handles and labels, one per condition of ``names`` in the fixed order: the networks of one
    condition share its colour, so the legend names each condition once and without seeds."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    conditions = in_order(condition_of(n) for n in names)
    if kind == "patch":
        handles = [Patch(color=colour(c)) for c in conditions]
    else:
        handles = [Line2D([], [], color=colour(c), marker=marker(c), ms=4) for c in conditions]
    return handles, [label(c) for c in conditions]


def new_figure(height: float, width: float = FIG_WIDTH) -> Figure:
    """A bare matplotlib ``Figure`` (no pyplot: a library must not switch the process's backend), laid out
    with constrained layout so labels do not overlap."""
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout="constrained")


def save(fig: Figure, path: str | Path) -> Path:
    """Write ``fig`` as a PNG at ``DPI`` to ``path`` atomically (a reader never sees half a file)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, bbox_inches="tight")
    write_bytes(path, buf.getvalue())
    return Path(path)
