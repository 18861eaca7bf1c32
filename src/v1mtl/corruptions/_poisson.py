"""Poisson photon counts ``Pois(x·rate)`` for images in [0, 1], fast when the images hold 8-bit values.

Images read from files hold multiples of 1/255, so ``x·rate`` takes one of 256 means per severity. For
those, each count is drawn by Walker's alias method (Walker 1977, "An efficient method for generating
discrete random variables with general distributions", ACM TOMS 3(3); table built as in Vose 1991, IEEE
TSE 17(9)) from one float64 uniform per value: its integer part picks a column of the level's table, its
fraction decides between the column and its alias. That is two table lookups per value instead of the
sequential sampler behind ``torch.poisson``, and the counts follow the Poisson law up to the float64
rounding of the table (checked against the pmf in the tests). Images with other values fall back to
``torch.poisson``, image by image, so a corrupted image never depends on the rest of its batch.
"""

from __future__ import annotations

import functools
import math

import torch

from v1mtl.corruptions._random import ImageRandom

MAX_LEVEL = 255
# A value counts as 8-bit when it lies this close to a multiple of 1/255: float32 rounding of k/255,
# however computed, is far smaller, and it moves the Poisson mean by at most rate·2⁻²⁰.
_LEVEL_TOLERANCE = 2.0**-20
# On the CPU images are drawn in groups of about this many values, so the float64 temporaries (1 MiB each)
# stay in a core's L2 cache: twice as fast as one pass over a whole 64-image chunk (measured, one thread).
# A GPU gets the whole batch at once, as in ``api.corrupt``.
_GROUP_VALUES = 2**17


def support(rate: float) -> int:
    """Counts ``0 .. support - 1`` are tabulated: the Poisson tail beyond, at mean ``rate``, is below 1e-20."""
    return math.ceil(rate + 12 * math.sqrt(rate) + 20)


def level_pmf(rate: float) -> torch.Tensor:
    """``(256, support(rate))`` float64: row k is the Poisson pmf at mean ``k / 255 · rate``, renormalised."""
    means = torch.arange(MAX_LEVEL + 1, dtype=torch.float64) / MAX_LEVEL * rate
    counts = torch.arange(support(rate), dtype=torch.float64)
    pmf = torch.exp(torch.xlogy(counts, means[:, None]) - means[:, None] - torch.lgamma(counts + 1))
    return pmf / pmf.sum(1, keepdim=True)


@functools.lru_cache(maxsize=32)
def alias_table(rate: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Flat alias tables for every level: ``(probability, alias)``, each ``(256 · support(rate),)`` float64.

    Column j of level k keeps j with the probability stored at ``k · support + j``, else takes the alias.
    """
    width = support(rate)
    probability, alias = [], []
    for row in (level_pmf(rate) * width).tolist():
        keep, other = [1.0] * width, list(range(width))
        small = [j for j, mass in enumerate(row) if mass < 1.0]
        large = [j for j, mass in enumerate(row) if mass >= 1.0]
        while small and large:
            j, donor = small.pop(), large[-1]
            keep[j], other[j] = row[j], donor
            row[donor] -= 1.0 - row[j]
            if row[donor] < 1.0:
                small.append(large.pop())
        # Whatever is left holds (up to rounding) exactly one column's worth: it keeps itself.
        probability.extend(keep)
        alias.extend(other)
    return torch.tensor(probability, dtype=torch.float64), torch.tensor(alias, dtype=torch.float64)


def eight_bit_levels(x: torch.Tensor) -> tuple[torch.Tensor, list[bool]]:
    """``x`` ``(B, ...)`` in [0, 1] -> its nearest levels ``round(255·x)`` (same shape and dtype), and per
    image whether every value is one of them."""
    levels = torch.round(x * MAX_LEVEL)
    gap = (levels / MAX_LEVEL).sub_(x).abs_().flatten(1).amax(1)
    return levels, (gap <= _LEVEL_TOLERANCE).tolist()


def _alias_counts(levels: torch.Tensor, rate: float, rng: ImageRandom) -> torch.Tensor:
    """Counts for ``(B, ...)`` integer-valued float levels -> float64, one uniform per value from each image's
    stream."""
    probability, alias = (t.to(levels.device) for t in alias_table(rate))
    width = support(rate)
    u = rng.uniform(levels.shape[1:]).mul_(width)
    column = u.floor()
    cell = levels.to(torch.float64).mul_(width).add_(column).to(torch.int64)
    keep = u.sub_(column) < probability.take(cell)
    return torch.where(keep, column, alias.take(cell))


def photon_counts(x: torch.Tensor, rate: float, rng: ImageRandom) -> torch.Tensor:
    """Poisson counts at means ``x · rate`` for ``x`` ``(B, ...)`` in [0, 1] -> same shape and dtype as ``x``."""
    counts = torch.empty_like(x)
    step = len(x) if x.device.type != "cpu" else max(1, _GROUP_VALUES // max(1, x[0].numel()))
    for start in range(0, len(x), step):
        group = range(start, min(start + step, len(x)))
        levels, eight_bit = eight_bit_levels(x[group.start : group.stop])
        fast = [i for i, ok in enumerate(eight_bit) if ok]
        slow = [i for i, ok in enumerate(eight_bit) if not ok]
        out = counts[group.start : group.stop]
        if not slow:
            out.copy_(_alias_counts(levels, rate, rng.subset(group)))
            continue
        if fast:
            out[fast] = _alias_counts(levels[fast], rate, rng.subset([group[i] for i in fast])).to(x.dtype)
        rows = [group[i] for i in slow]
        out[slow] = rng.subset(rows).poisson(x[rows] * rate).to(x.dtype)
    return counts
