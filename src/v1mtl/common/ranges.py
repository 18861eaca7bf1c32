"""The allowed range of a config number, declared in the schema's annotation and checked by the loader.

A schema field says what it accepts in its type: ``momentum: Annotated[float, Range(0, 1, high_open=True)]``
or one of the shared aliases below (``lr: PositiveFloat``, ``seed: Seed``). ``v1mtl.common.config`` checks
every layer (preset, file, ``--set``, flags) against these bounds, so an out-of-range value is refused with
the key as the user wrote it, before any stage runs; ``check_ranges`` checks a config built in Python the
same way. Every float must also be finite (no NaN or infinity), whatever its range.

This module imports nothing heavy, so that the configs' modules stay cheap to import.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated


@dataclass(frozen=True)
class Range:
    """``low <= value <= high`` (``<`` at an open end); None leaves that side unbounded."""

    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False

    def contains(self, value: float) -> bool:
        """Whether ``value`` lies in the range."""
        if self.low is not None and (value <= self.low if self.low_open else value < self.low):
            return False
        return self.high is None or (value < self.high if self.high_open else value <= self.high)

    def __str__(self) -> str:
        if self.low is not None and self.high is not None:
            left, right = "(" if self.low_open else "[", ")" if self.high_open else "]"
            return f"in {left}{_number(self.low)}, {_number(self.high)}{right}"
        if self.low is not None:
            return f"{'>' if self.low_open else '>='} {_number(self.low)}"
        if self.high is not None:
            return f"{'<' if self.high_open else '<='} {_number(self.high)}"
        return "any number"


def _number(x: float) -> str:
    """Floats in ``%g`` form (``1e-06``, ``0.5``); large ints next to a power of two as ``2**32 - 1``."""
    if isinstance(x, float):
        return f"{x:g}"
    if x > 2**16 and (x + 1) & x == 0:
        return f"2**{x.bit_length()} - 1"
    if x > 2**16 and x & (x - 1) == 0:
        return f"2**{x.bit_length() - 1}"
    return str(x)


# Ints beyond 32 bits are never meant and overflow C code downstream (torch, NumPy's legacy seeding).
INT_MAX = 2**31 - 1

Seed = Annotated[int, Range(0, 2**32 - 1)]
PositiveInt = Annotated[int, Range(1, INT_MAX)]
NonNegativeInt = Annotated[int, Range(0, INT_MAX)]
# images (or trials) per batch: beyond a million no batch fits in memory
BatchSize = Annotated[int, Range(1, 2**20)]
Epochs = Annotated[int, Range(1, 1_000_000)]
# images of a generated set (the built-in one): a million already take an hour to render
ImageCount = Annotated[int, Range(1, 1_000_000)]
# bootstrap resamples: a million already takes minutes and narrows no interval further
Resamples = Annotated[int, Range(1, 1_000_000)]
PositiveFloat = Annotated[float, Range(0, low_open=True)]
NonNegativeFloat = Annotated[float, Range(0)]
Probability = Annotated[float, Range(0, 1)]
# a share strictly between none and all (a train/validation split, a warm-up)
OpenFraction = Annotated[float, Range(0, 1, low_open=True, high_open=True)]
# [0, 1] pixel units of an image's intensity
PixelValue = Annotated[float, Range(0, 1)]
