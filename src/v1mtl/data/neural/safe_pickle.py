"""Read legacy pickles without letting them run code, and check the fields they hold.

A pickle is a small program: loading one can call any importable function (``os.system`` included). The
legacy V1 formats (Cadena et al. 2019, nnvision) are pickles, so they are read through an unpickler that
resolves only an allow-list of globals: the NumPy functions and types needed to rebuild arrays, dtypes and
scalars, and the plain builtin containers and numbers. Any other global is refused with an ``InputError``
before anything is called.

Pickles written by Python 2 store ``str`` as bytes; they are decoded as latin-1, which NumPy recommends for
loading Python 2 array pickles (``numpy.load`` docs, ``encoding``) and which leaves Python 3 pickles unchanged.
"""

from __future__ import annotations

import pickle
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import numpy as np

from v1mtl.common.errors import InputError


def _numpy_core(name: str) -> Callable[[], Any]:
    """Resolve a private NumPy helper lazily (it moved from ``numpy.core`` to ``numpy._core`` in NumPy 2)."""

    def get() -> Any:
        from numpy._core import multiarray, numeric

        for module in (multiarray, numeric):
            if hasattr(module, name):
                return getattr(module, name)
        raise AttributeError(name)

    return get


_NUMPY_HELPERS = {"_reconstruct", "scalar", "_frombuffer"}
_BUILTINS = {
    "dict": dict,
    "list": list,
    "tuple": tuple,
    "set": set,
    "frozenset": frozenset,
    "int": int,
    "float": float,
    "complex": complex,
    "bool": bool,
    "str": str,
    "bytes": bytes,
    "bytearray": bytearray,
}


def _allowed(module: str, name: str) -> Callable[[], Any] | None:
    if module in ("numpy", "numpy.core.multiarray", "numpy._core.multiarray") and name in (
        "ndarray",
        "dtype",
    ):
        return lambda: getattr(np, name)
    core_modules = (
        "numpy.core.multiarray",
        "numpy._core.multiarray",
        "numpy.core.numeric",
        "numpy._core.numeric",
    )
    if module in core_modules and name in _NUMPY_HELPERS:
        return _numpy_core(name)
    if module in ("builtins", "__builtin__") and name in _BUILTINS:
        return lambda: _BUILTINS[name]
    if module == "collections" and name == "OrderedDict":
        from collections import OrderedDict

        return lambda: OrderedDict
    if module == "_codecs" and name == "encode":
        # Python 3 writes ``bytes`` in protocol <= 2 as ``_codecs.encode(text, "latin1")``: a pure conversion.
        import codecs

        return lambda: codecs.encode
    return None


class _RestrictedUnpickler(pickle.Unpickler):
    def __init__(self, fh: IO[bytes], path: str):
        super().__init__(fh, encoding="latin1")
        self._path = path

    def find_class(self, module: str, name: str) -> Any:
        getter = _allowed(module, name)
        if getter is None:
            raise InputError(
                f"refused to load '{module}.{name}': legacy pickles may hold only NumPy arrays, dtypes and "
                "scalars, numbers, strings, lists, tuples and dicts (a pickle can run code when loaded)",
                path=self._path,
                field="pickle",
            )
        return getter()

    def persistent_load(self, pid: Any) -> Any:
        raise InputError("refused a persistent reference", path=self._path, field="pickle")


def safe_load(path: str | Path) -> Any:
    """Load a pickle file, admitting only NumPy arrays/dtypes/scalars and builtin containers and numbers.

    Raises ``InputError`` (naming the file) when a pickle refers to anything else, is truncated or is not a
    pickle at all. Nothing outside the allow-list is ever imported or called.
    """
    path = Path(path)
    try:
        fh = path.open("rb")
    except OSError as err:
        raise InputError(f"cannot read: {err.strerror}", path=path) from err
    with fh:
        try:
            return _RestrictedUnpickler(fh, str(path)).load()
        except InputError:
            raise
        except Exception as err:  # malformed pickles raise many different types
            raise InputError(f"not a readable pickle ({type(err).__name__}: {err})", path=path) from err


def require_key(content: Any, key: str, path: str | Path) -> Any:
    """``content[key]`` of a loaded dict; ``InputError`` naming the file and the key when it is missing."""
    if not isinstance(content, dict):
        raise InputError(f"expected a dict of fields, got {type(content).__name__}", path=path, field=key)
    if key not in content:
        raise InputError(f"missing key (present: {sorted(map(str, content))})", path=path, field=key)
    return content[key]


def numeric_array(
    value: Any, path: str | Path, field: str, ndim: int | None = None, finite: bool = False
) -> np.ndarray:
    """Return ``value`` as a numeric NumPy array, or raise ``InputError`` naming the file and field.

    ``ndim`` checks the number of dimensions; ``finite`` forbids NaN and inf.
    """
    try:
        arr = np.asarray(value)
    except Exception as err:
        raise InputError(f"not an array ({err})", path=path, field=field) from err
    if arr.dtype == object:
        try:
            arr = arr.astype(np.float64)
        except (TypeError, ValueError) as err:
            raise InputError("expected numbers, got non-numeric values", path=path, field=field) from err
    if not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        raise InputError(f"expected numbers, got dtype {arr.dtype}", path=path, field=field)
    if ndim is not None and arr.ndim != ndim:
        raise InputError(f"expected {ndim} dimensions, got shape {arr.shape}", path=path, field=field)
    if finite and np.issubdtype(arr.dtype, np.inexact) and not np.isfinite(arr).all():
        raise InputError("contains NaN or inf", path=path, field=field)
    return arr


def integer_ids(value: Any, path: str | Path, field: str) -> np.ndarray:
    """Flatten ``value`` to ``(n,)`` int64 ids; ``InputError`` if any is not a whole number."""
    arr = numeric_array(value, path, field).reshape(-1)
    if np.issubdtype(arr.dtype, np.inexact):
        if not np.isfinite(arr).all() or not np.array_equal(arr, np.round(arr)):
            raise InputError("image ids must be whole numbers", path=path, field=field)
    return arr.astype(np.int64)
