"""How big a V1 input may be, and how much of a bad value an error message may show.

A file says how big its arrays are (a ``.npy`` header, the nested lists of a pickle) before a reader
allocates them. Every reader checks those declared sizes against ``max_elements`` first, so a small
hostile file cannot make it allocate gigabytes or run for minutes. The default fits the largest
published dataset read here (Cadena et al. 2019: 7250 x 140 x 140 = 142 million pixels) with room to
spare. To read a larger one, pass ``max_elements=`` to ``read_v1`` or to the format's reader, or set the
environment variable ``V1MTL_MAX_ARRAY_ELEMENTS`` (``v1mtl --max-array-elements N ...`` sets it, for a
study's workers too; ``v1mtl.common.limits``), which ``read_v1`` uses when it is not given a limit.
"""

from __future__ import annotations

import math
import reprlib
from collections.abc import Sequence
from pathlib import Path

from v1mtl.common.errors import InputError
from v1mtl.common.limits import MAX_ARRAY_ELEMENTS_ENV, from_environment

MAX_ARRAY_ELEMENTS = 2**28
"""Default most array elements one file may declare (about 268 million; 2 GiB as float64)."""

MAX_MANIFEST_BYTES = 16 * 2**20
"""Largest ``manifest.json`` read (a manifest lists sessions: 16 MiB is ~80,000 of them)."""

BYTES_PER_ELEMENT = 8
"""Widest real dtype the readers accept (float64, int64): a pickle may be that many bytes per element."""

MAX_DIMS = 64
"""NumPy's most dimensions (``NPY_MAXDIMS``); a deeper nested list is refused before converting it."""

_MESSAGE_CHARS = 160


class _ShortRepr(reprlib.Repr):
    """``reprlib`` bounds depth and length; integers past ~4300 digits cannot even be printed."""

    def repr_int(self, x: int, level: int) -> str:
        if x.bit_length() > 128:
            return f"<an integer of {x.bit_length()} bits>"
        return super().repr_int(x, level)


_REPR = _ShortRepr()
_REPR.maxstring = 60
_REPR.maxother = 60


def one_line(text: str, limit: int = _MESSAGE_CHARS) -> str:
    """``text`` with every run of whitespace (newlines included) made one space, cut to ``limit`` chars."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


def shown(value: object) -> str:
    """A short one-line ``repr`` of a bad value for an error message, however big or deep the value."""
    try:
        return one_line(_REPR.repr(value))
    except (ValueError, RecursionError):  # an object array holding a huge int or a deep list
        return f"<{type(value).__name__}>"


def max_array_elements(value: int | None = None) -> int:
    """``value`` if given, else ``V1MTL_MAX_ARRAY_ELEMENTS`` if set, else ``MAX_ARRAY_ELEMENTS``."""
    return from_environment(MAX_ARRAY_ELEMENTS_ENV, MAX_ARRAY_ELEMENTS) if value is None else value


def check_max_elements(max_elements: int) -> int:
    """``max_elements`` itself: a positive integer, else ``InputError`` on the option."""
    if isinstance(max_elements, bool) or not isinstance(max_elements, int) or max_elements < 1:
        raise InputError(f"must be a positive integer, got {shown(max_elements)}", field="max_elements")
    return max_elements


class ElementBudget:
    """Counts the array elements declared so far for one output; refuses any that pass ``max_elements``.

    One budget per file (a pickle holds several arrays), or per stacked array built from many files
    (nnvision's one-file-per-image stimuli).
    """

    def __init__(self, max_elements: int = MAX_ARRAY_ELEMENTS):
        self.max_elements = check_max_elements(max_elements)
        self.used = 0

    def take(self, shape: Sequence[int], path: str | Path, field: str) -> None:
        """Count an array of ``shape`` (already known to be non-negative ints) before it is allocated."""
        n = math.prod(shape)
        self.used += n
        if self.used > self.max_elements:
            raise InputError(
                f"declares {n:,} array elements (shape {tuple(shape)}), {self.used:,} in all, over the "
                f"limit of {self.max_elements:,}; raise it with v1mtl --max-array-elements N (or max_elements=)",
                path=path,
                field=field,
            )
