"""Read legacy pickles without letting them run code or run away, and check the fields they hold.

A pickle is a small program: loading one can call any importable function (``os.system`` included). The
legacy V1 formats (Cadena et al. 2019, nnvision) are pickles, so they are read through an unpickler that
resolves only an allow-list of globals: the NumPy functions and types needed to rebuild arrays, dtypes and
scalars, and the plain builtin containers and numbers. Any other global is refused with an ``InputError``
before anything is called.

A pickle can also refer to one object many times (its memo), so a file of a few hundred bytes can describe
a nested structure of billions of elements. Nothing here expands one without a bound:

- arrays may declare at most ``max_elements`` elements, and the field helpers below read the shape a
  nested list declares (along its first elements, which costs nothing) before converting it;
- dict keys and set members must be numbers or strings: hashing a tuple walks every element of every
  nested tuple, each time it is referenced;
- ``bytes(n)`` and ``bytearray(n)`` (n zero bytes) and ``str(obj)`` of a container are refused;
- the file itself may hold at most ``BYTES_PER_ELEMENT * max_elements`` bytes (plus 1 MiB), and is
  read into memory first, so a length field that points past the end cannot make the reader wait or
  allocate.

The unpickler is Python's pure-Python one (``pickle._Unpickler``): it keeps its memo in a dict, while the
C unpickler allocates memo slots up to the largest index a file names (13 bytes can make it clear 4 GB),
and only the Python one lets the opcodes that insert dict keys be checked.

Pickles written by Python 2 store ``str`` as bytes; they are decoded as latin-1, which NumPy recommends for
loading Python 2 array pickles (``numpy.load`` docs, ``encoding``) and which leaves Python 3 pickles unchanged.
"""

from __future__ import annotations

import io
import math
import pickle
import stat
import struct
from collections import OrderedDict
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import numpy as np

from v1mtl.common.errors import InputError
from v1mtl.data.neural.limits import (
    BYTES_PER_ELEMENT,
    MAX_ARRAY_ELEMENTS,
    MAX_DIMS,
    ElementBudget,
    check_max_elements,
    one_line,
    shown,
)
from v1mtl.data.neural.recordings import INT64_MAX, check_label, dtype_text

# What a malformed pickle makes the pure-Python unpickler raise: its own UnpicklingError and EOFError,
# struct.error and IndexError for short reads and an empty stack, and TypeError, ValueError,
# AttributeError, KeyError and OverflowError from calling an allowed type or NumPy's __setstate__ with
# wrong arguments; numpy.dtype() parses a text spec with ast (SyntaxError) and a nested one recursively.
_UNPICKLING_ERRORS = (
    pickle.UnpicklingError,
    EOFError,
    struct.error,
    IndexError,
    TypeError,
    ValueError,
    AttributeError,
    KeyError,
    OverflowError,
    SyntaxError,
    RecursionError,
)
_HASHABLE = (str, bytes, int, float, complex, bool, type(None), np.generic)
_FLOATS_EXACT = 2**53  # floats hold every integer below this exactly
PICKLE_OVERHEAD_BYTES = 2**20
"""A pickle may hold this much beyond its elements' bytes (keys, dtypes, labels, opcodes)."""


def _numpy_core(name: str) -> Callable[..., Any]:
    """A private NumPy helper (it moved from ``numpy.core`` to ``numpy._core`` in NumPy 2)."""
    from numpy._core import multiarray, numeric

    for module in (multiarray, numeric):
        if hasattr(module, name):
            return getattr(module, name)
    raise AttributeError(name)


def _refuse(path: str, message: str) -> InputError:
    return InputError(message, path=path, field="pickle")


def _array_shape(shape: Any, path: str, max_elements: int) -> None:
    """Refuse an array shape past ``max_elements`` before NumPy allocates it."""
    dims = (shape,) if isinstance(shape, int) else shape
    if not (isinstance(dims, tuple) and all(isinstance(n, int) and n >= 0 for n in dims)):
        raise _refuse(path, f"not an array shape: {shown(shape)}")
    if math.prod(dims) > max_elements:
        raise _refuse(
            path,
            f"an array declares shape {dims}, over the limit of {max_elements:,} elements; pass "
            "max_elements= to the reader to allow more",
        )


def _check_array_state(state: Any, path: str, max_elements: int) -> None:
    """An ndarray's pickled state ``([version,] shape, dtype, fortran, data)`` must be self-consistent."""
    if not (isinstance(state, tuple) and len(state) in (4, 5)):
        raise _refuse(path, "not a NumPy array state")
    shape, dtype, _, data = state[-4:]
    _array_shape(shape, path, max_elements)
    if not isinstance(dtype, np.dtype) or dtype.fields is not None or dtype.subdtype is not None:
        raise _refuse(path, f"arrays of plain dtypes only, got {shown(dtype)}")
    n = math.prod((shape,) if isinstance(shape, int) else shape)
    if dtype.hasobject:
        consistent = isinstance(data, list) and len(data) == n
    else:
        consistent = isinstance(data, (bytes, bytearray, str)) and len(data) == n * dtype.itemsize
    if not consistent:
        raise _refuse(path, f"an array's data does not match its shape {shape} and dtype {dtype}")


def _check_dtype_state(dtype: np.dtype, state: Any, path: str) -> None:
    """A dtype's pickled state must be the one NumPy writes for it, up to byte order: NumPy does not
    check a state's layout (records, sizes, flags) and can crash on an inconsistent one."""
    own = dtype.__reduce__()[2]
    if not (
        isinstance(state, tuple)
        and len(state) == len(own)
        and state[1] in ("<", ">", "|", "=")
        and state[:1] + state[2:] == own[:1] + own[2:]
    ):
        raise _refuse(path, f"a dtype state NumPy would not write: {shown(state)}")


def _check_hashable(items: Iterable[Any], path: str) -> None:
    for item in items:
        if not isinstance(item, _HASHABLE):
            raise _refuse(
                path,
                f"a dict key or set member is a {type(item).__name__}; only numbers and strings are allowed",
            )


def _ndarray_stand_in(path: str) -> Callable[..., Any]:
    """What a pickle gets for ``numpy.ndarray``: an argument for ``_reconstruct``, which checks the shape;
    calling it (``ndarray(shape)`` allocates any shape) is refused."""

    def ndarray(*args: Any) -> Any:
        raise _refuse(path, "refused to call numpy.ndarray directly")

    return ndarray


class _RestrictedUnpickler(pickle._Unpickler):
    dispatch = dict(pickle._Unpickler.dispatch)

    def __init__(self, data: bytes, path: str, max_elements: int):
        super().__init__(io.BytesIO(data), encoding="latin1")
        self._path = path
        self._max_elements = max_elements
        self._size = len(data)
        self._globals = self._allowed_globals()

    def _allowed_globals(self) -> dict[tuple[str, str], Any]:
        path = self._path
        reconstruct, scalar, frombuffer = (_numpy_core(n) for n in ("_reconstruct", "scalar", "_frombuffer"))
        ndarray = _ndarray_stand_in(path)

        def checked_reconstruct(subtype: Any, shape: Any, dtype: Any) -> np.ndarray:
            # always a plain ndarray, whichever subtype the pickle names
            _array_shape(shape, path, self._max_elements)
            return reconstruct(np.ndarray, shape, dtype)

        def checked_dtype(spec: Any, align: Any = False, copy: Any = False) -> np.dtype:
            # Pickles call numpy.dtype with a short type code such as 'f8' or 'U5', and flags that
            # Python 2 NumPy wrote as 0 and 1.
            flags_ok = all(type(flag) in (bool, int) and flag in (0, 1) for flag in (align, copy))
            if not (isinstance(spec, str) and len(spec) <= 16 and flags_ok):
                raise _refuse(path, f"refused numpy.dtype{shown((spec, align, copy))}")
            return np.dtype(spec, bool(align), bool(copy))

        def from_text(kind: type) -> Callable[..., Any]:
            # Python writes bytes as bytes(), bytearray(bytes) or _codecs.encode(text, 'latin1'); a number
            # (n zero bytes) or str(container) would build something of any size from a few bytes.
            def build(*args: Any) -> Any:
                if args and not isinstance(args[0], (str, bytes, bytearray)):
                    raise _refuse(
                        path, f"refused {kind.__name__}() of {type(args[0]).__name__} {shown(args[0])}"
                    )
                return kind(*args)

            return build

        def of_hashables(kind: type) -> Callable[..., Any]:
            def build(*args: Any) -> Any:
                if args and not isinstance(args[0], dict):  # a dict's keys were checked when it was built
                    keys = [pair[0] for pair in args[0]] if issubclass(kind, dict) else args[0]
                    _check_hashable(keys, path)
                return kind(*args)

            return build

        def latin1(text: Any, encoding: Any = "utf-8") -> bytes:
            if encoding not in ("latin1", "latin-1") or not isinstance(text, str):
                raise _refuse(path, f"refused _codecs.encode with encoding {shown(encoding)}")
            return text.encode("latin-1")

        allowed: dict[tuple[str, str], Any] = {}
        for module in ("numpy.core.multiarray", "numpy._core.multiarray"):
            allowed[(module, "_reconstruct")] = checked_reconstruct
            allowed[(module, "scalar")] = scalar
        for module in ("numpy.core.numeric", "numpy._core.numeric"):
            allowed[(module, "_frombuffer")] = frombuffer
        for module in ("numpy", "numpy.core.multiarray", "numpy._core.multiarray"):
            allowed[(module, "ndarray")] = ndarray
            allowed[(module, "dtype")] = checked_dtype
        for module in ("builtins", "__builtin__"):
            for kind in (list, tuple, int, float, complex, bool):
                allowed[(module, kind.__name__)] = kind
            for kind in (str, bytes, bytearray):
                allowed[(module, kind.__name__)] = from_text(kind)
            for kind in (dict, set, frozenset):
                allowed[(module, kind.__name__)] = of_hashables(kind)
        allowed[("collections", "OrderedDict")] = of_hashables(OrderedDict)
        allowed[("_codecs", "encode")] = latin1
        return allowed

    def find_class(self, module: str, name: str) -> Any:
        found = self._globals.get((module, name))
        if found is None:
            raise InputError(
                f"refused to load '{module}.{name}': legacy pickles may hold only NumPy arrays, dtypes and "
                "scalars, numbers, strings, lists, tuples and dicts (a pickle can run code when loaded)",
                path=self._path,
                field="pickle",
            )
        return found

    def persistent_load(self, pid: Any) -> Any:
        raise InputError("refused a persistent reference", path=self._path, field="pickle")

    def _load_build(self) -> None:
        # NumPy's __setstate__ trusts the state it is given: it allocates the declared shape first, and
        # reads past the end of an object array's list that is too short (a crash, or memory contents).
        if len(self.stack) >= 2:
            inst, state = self.stack[-2], self.stack[-1]
            if isinstance(inst, np.ndarray):
                _check_array_state(state, self._path, self._max_elements)
            elif isinstance(inst, np.dtype):
                _check_dtype_state(inst, state, self._path)
        pickle._Unpickler.load_build(self)

    dispatch[pickle.BUILD[0]] = _load_build

    def _load_bytearray8(self) -> None:
        # The base allocates (and zero-fills) the declared length before reading: check it first.
        (size,) = struct.unpack("<Q", self.read(8))
        if size > self._size:
            raise _refuse(self._path, f"a bytearray declares {size:,} bytes, more than the whole file")
        buf = bytearray(size)
        self.readinto(buf)
        self.append(buf)

    dispatch[pickle.BYTEARRAY8[0]] = _load_bytearray8


def _hashing(opcode: bytes, keys: Callable[[list[Any]], Iterable[Any]]) -> None:
    """Make ``opcode`` (one that inserts dict keys or set members) check ``keys(stack)`` first."""
    base = pickle._Unpickler.dispatch[opcode[0]]

    def load(self: _RestrictedUnpickler) -> None:
        _check_hashable(keys(self.stack), self._path)
        base(self)

    _RestrictedUnpickler.dispatch[opcode[0]] = load


# After a MARK the stack holds only the items since it: key, value, key, value... or set members.
_hashing(pickle.SETITEM, lambda stack: stack[-2:-1])
_hashing(pickle.SETITEMS, lambda stack: stack[0::2])
_hashing(pickle.DICT, lambda stack: stack[0::2])
_hashing(pickle.ADDITEMS, lambda stack: stack)
_hashing(pickle.FROZENSET, lambda stack: stack)


def safe_load(path: str | Path, max_elements: int = MAX_ARRAY_ELEMENTS) -> Any:
    """Load a pickle file, admitting only NumPy arrays/dtypes/scalars and builtin containers and numbers.

    Raises ``InputError`` (naming the file) when a pickle refers to anything else, declares an array of
    more than ``max_elements`` elements, is truncated or is not a pickle at all. Nothing outside the
    allow-list is ever imported or called.
    """
    path = Path(path)
    check_max_elements(max_elements)
    data = _read_bytes(path, BYTES_PER_ELEMENT * max_elements + PICKLE_OVERHEAD_BYTES)
    try:
        return _RestrictedUnpickler(data, str(path), max_elements).load()
    except InputError:
        raise
    except _UNPICKLING_ERRORS as err:
        raise InputError(
            f"not a readable pickle ({type(err).__name__}: {one_line(str(err))})", path=path, field="pickle"
        ) from err


def _read_bytes(path: Path, max_bytes: int) -> bytes:
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            raise InputError("not a regular file", path=path)
        if info.st_size > max_bytes:
            raise InputError(
                f"{info.st_size:,} bytes, more than a pickle within the element limit can hold "
                f"({max_bytes:,}); raise it with v1mtl --max-array-elements N (or max_elements=)",
                path=path,
            )
        return path.read_bytes()
    except OSError as err:
        raise InputError(f"cannot read: {err.strerror}", path=path) from err


def require_key(content: Any, key: str, path: str | Path) -> Any:
    """``content[key]`` of a loaded dict; ``InputError`` naming the file and the key when it is missing."""
    if not isinstance(content, dict):
        raise InputError(f"expected a dict of fields, got {type(content).__name__}", path=path, field=key)
    if key not in content:
        present = sorted(shown(k) for k in list(content)[:20])
        raise InputError(f"missing key (present: {', '.join(present)})", path=path, field=key)
    return content[key]


def declared_shape(value: Any, path: str | Path, field: str) -> tuple[int, ...]:
    """The shape ``numpy.asarray(value)`` would build, read along the first element at each level.

    Costs one step per dimension whatever the size: a nested list of many references to one sub-list
    declares its full size here before anything is expanded.
    """
    shape: list[int] = []
    while True:
        if len(shape) > MAX_DIMS:
            raise InputError(f"nested more than {MAX_DIMS} levels deep", path=path, field=field)
        if isinstance(value, (list, tuple)):
            shape.append(len(value))
            if not value:
                return tuple(shape)
            value = value[0]
        elif isinstance(value, np.ndarray):
            shape.extend(value.shape)
            if value.dtype != object or value.size == 0:
                return tuple(shape)
            value = value.reshape(-1)[0]  # an object array of lists expands when converted
        else:
            return tuple(shape)


def bounded_array(
    value: Any, path: str | Path, field: str, budget: ElementBudget | None = None
) -> np.ndarray:
    """``numpy.asarray(value)`` after counting its declared shape against ``budget`` (a fresh default one
    if None); an object array is converted once more, from its elements (``tolist``)."""
    budget = budget or ElementBudget()
    budget.take(declared_shape(value, path, field), path, field)
    try:
        arr = np.asarray(value)
        if arr.dtype == object:
            arr = np.asarray(arr.tolist())
    except (ValueError, TypeError, OverflowError) as err:  # ragged nesting, unconvertible elements
        raise InputError(f"not an array ({one_line(str(err))})", path=path, field=field) from err
    return arr


def object_array(value: Any, path: str | Path, field: str, budget: ElementBudget | None = None) -> np.ndarray:
    """``numpy.asarray(value, dtype=object)`` after counting its declared shape against ``budget``."""
    budget = budget or ElementBudget()
    budget.take(declared_shape(value, path, field), path, field)
    try:
        return np.asarray(value, dtype=object)
    except ValueError as err:  # nested arrays that cannot be laid out
        raise InputError(f"not an array ({one_line(str(err))})", path=path, field=field) from err


def numeric_array(
    value: Any,
    path: str | Path,
    field: str,
    budget: ElementBudget | None = None,
    ndim: int | None = None,
    finite: bool = False,
) -> np.ndarray:
    """Return ``value`` as an array of real numbers (integers or floats), or raise ``InputError`` naming
    the file and field. ``ndim`` checks the number of dimensions; ``finite`` forbids NaN and inf."""
    arr = bounded_array(value, path, field, budget)
    if arr.dtype.kind not in "iuf":
        raise InputError(f"expected real numbers, got {dtype_text(arr.dtype)}", path=path, field=field)
    if ndim is not None and arr.ndim != ndim:
        raise InputError(f"expected {ndim} dimensions, got shape {arr.shape}", path=path, field=field)
    if finite and arr.dtype.kind == "f" and not np.isfinite(arr).all():
        raise InputError("contains NaN or inf", path=path, field=field)
    return arr


def whole_numbers(
    value: Any, path: str | Path, field: str, budget: ElementBudget | None = None
) -> np.ndarray:
    """Flatten ``value`` to ``(n,)`` int64; ``InputError`` if any is not a whole number that int64 holds."""
    arr = numeric_array(value, path, field, budget).reshape(-1)
    if arr.dtype.kind == "f":
        if not np.isfinite(arr).all() or not np.array_equal(arr, np.round(arr)):
            raise InputError("expected whole numbers", path=path, field=field)
        if arr.size and np.abs(arr).max() >= _FLOATS_EXACT:
            raise InputError(
                "whole numbers stored as floats must be below 2**53 (larger ones are not exact)",
                path=path,
                field=field,
            )
    if arr.dtype.kind == "u" and arr.size and arr.max() > INT64_MAX:
        raise InputError(f"beyond int64: {shown(int(arr.max()))}", path=path, field=field)
    return arr.astype(np.int64)


def label_text(value: Any, path: str | Path, field: str) -> str:
    """A label (subject, session, image type) as text: a string or a whole number, possibly wrapped in
    one-element arrays or lists (as MATLAB exports write them)."""
    for _ in range(MAX_DIMS):
        if isinstance(value, np.ndarray) and value.size == 1:
            value = value.reshape(-1)[0]
        elif isinstance(value, (list, tuple)) and len(value) == 1:
            value = value[0]
        else:
            break
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, bytes):
        value = value.decode("latin-1")  # Python 2 text
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise InputError(f"expected a name or a number, got {shown(value)}", path=path, field=field)
    if isinstance(value, float) and not math.isfinite(value):
        raise InputError(f"expected a name or a number, got {shown(value)}", path=path, field=field)
    if isinstance(value, int) and abs(value) > INT64_MAX:
        raise InputError(f"a number beyond int64: {shown(value)}", path=path, field=field)
    return check_label(str(value), path, field)
