"""Opening the files of a dataset folder safely.

- Every path is resolved (symlinks followed) and must stay inside the resolved dataset folder, so a
  manifest entry like ``../other`` or a symlink out of the folder cannot make a reader use foreign data.
  A symlink loop or a missing target is an ``InputError``, as is anything that is not a regular file
  (a FIFO would block the reader forever).
- A ``.npy`` file's header is read and checked first: a real numeric dtype of an allowed kind, a declared
  size within the element budget and a file exactly as long as the header says. Only then is the array
  loaded, so an empty, truncated, corrupted or size-inflated file is one clear error and never a large
  allocation.
"""

from __future__ import annotations

import math
import os
import tokenize
from pathlib import Path
from typing import BinaryIO

import numpy as np

from v1mtl.common.errors import InputError
from v1mtl.data.neural.limits import ElementBudget, one_line, shown
from v1mtl.data.neural.recordings import dtype_text

NUMBER_KINDS = "iuf"
"""dtype kinds of real numbers (signed and unsigned integers, floats); no bool, complex or objects."""

INTEGER_KINDS = "iu"

# What numpy's header parser raises on a corrupted header: its own ValueErrors, plus what the Python
# literal parser it uses lets through (TypeError for an unhashable key, the tokenizer's TokenError and
# SyntaxError from its Python 2 fallback, RecursionError for deep nesting).
_HEADER_ERRORS = (ValueError, TypeError, SyntaxError, tokenize.TokenError, RecursionError)


def resolved_root(root: Path) -> Path:
    """The dataset folder with every symlink resolved; ``InputError`` if it cannot be."""
    try:
        return Path(os.path.realpath(root, strict=True))
    except OSError as err:
        raise InputError(f"cannot open: {err.strerror}", path=root) from err


def inside(root: Path, path: Path, field: str, named_in: Path | None = None) -> Path:
    """Resolve ``path`` and check it lies inside the resolved folder ``root``; returns the resolved path.

    ``InputError`` for a missing target, a symlink loop or a path outside, naming ``path`` as given, or
    ``named_in`` (a manifest that names ``path``) with ``path`` in the message.
    """
    source, target = (path, "") if named_in is None else (named_in, f"{shown(str(path))}: ")
    try:
        real = Path(os.path.realpath(path, strict=True))
    except OSError as err:
        raise InputError(f"{target}cannot open: {err.strerror}", path=source, field=field) from err
    except ValueError as err:  # a NUL character in a name taken from a manifest
        raise InputError(f"{target}not a usable path ({err})", path=source, field=field) from err
    if not real.is_relative_to(root):
        raise InputError(
            f"{target}resolves to {one_line(str(real), 300)}, outside the dataset folder {one_line(str(root), 300)}",
            path=source,
            field=field,
        )
    return real


def read_npy(
    path: Path,
    root: Path,
    field: str,
    budget: ElementBudget,
    kinds: str = NUMBER_KINDS,
    expected_shape: tuple[int, ...] | None = None,
    mmap: bool = False,
) -> np.ndarray:
    """Load the ``.npy`` file ``path`` (inside the resolved folder ``root``) after checking its header.

    ``kinds`` are the allowed dtype kinds; ``expected_shape``, when given, is checked before loading;
    ``mmap`` returns a read-only memory map.
    """
    real = inside(root, path, field)
    if not real.is_file():
        raise InputError("not a regular file", path=path, field=field)
    try:
        actual = real.stat().st_size
        if actual == 0:
            raise InputError("an empty file", path=path, field=field)
        with real.open("rb") as fh:
            shape, dtype = _header(fh, path, field)
            data_start = fh.tell()
    except OSError as err:
        raise InputError(f"cannot read: {err.strerror}", path=path, field=field) from err
    _check_dtype(dtype, kinds, path, field)
    if expected_shape is not None:
        _check_shape(shape, expected_shape, path, field)
    budget.take(shape, path, field)
    declared = data_start + math.prod(shape) * dtype.itemsize
    if actual != declared:
        raise InputError(
            f"the header declares {declared:,} bytes in all, the file has {actual:,} (truncated or corrupted)",
            path=path,
            field=field,
        )
    try:
        return np.load(real, mmap_mode="r" if mmap else None, allow_pickle=False)
    except (OSError, ValueError) as err:  # the file changed since its header was read
        raise InputError(f"not a readable .npy array ({one_line(str(err))})", path=path, field=field) from err


def _header(fh: BinaryIO, path: Path, field: str) -> tuple[tuple[int, ...], np.dtype]:
    """Shape and dtype from a ``.npy`` header (format versions 1.0 and 2.0, the ones ``np.save`` writes)."""
    fmt = np.lib.format
    readers = {(1, 0): fmt.read_array_header_1_0, (2, 0): fmt.read_array_header_2_0}
    try:
        version = fmt.read_magic(fh)
        read_header = readers.get(version)
        if read_header is not None:
            shape, _, dtype = read_header(fh)
    except _HEADER_ERRORS as err:
        raise InputError(f"not a readable .npy array ({one_line(str(err))})", path=path, field=field) from err
    if read_header is None:
        raise InputError(f"unsupported .npy format version {version}", path=path, field=field)
    if any(n < 0 for n in shape):
        raise InputError(f"the header declares a negative length: shape {shape}", path=path, field=field)
    return shape, dtype


def _check_dtype(dtype: np.dtype, kinds: str, path: Path, field: str) -> None:
    if dtype.kind not in kinds:
        want = "integers" if kinds == INTEGER_KINDS else "real numbers"
        raise InputError(f"expected {want}, got {dtype_text(dtype)}", path=path, field=field)


def _check_shape(shape: tuple[int, ...], expected: tuple[int, ...], path: Path, field: str) -> None:
    if tuple(shape) != tuple(expected):
        raise InputError(f"expected shape {tuple(expected)}, got {shape}", path=path, field=field)
