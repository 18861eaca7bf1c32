"""Checkpoint files of every fit: written atomically, read back on the CPU as plain dicts.

A checkpoint is a ``torch.save`` dict of plain values and tensors, so it loads with ``weights_only=True``
(no code runs from the file). The V1 model fit (``v1mtl.neural_model``) and the co-training run
(``v1mtl.training``) each put their own fields in it.

Reading checks, before a field is used: the file is a torch zip archive whose stored CRC-32 checksums
match (a flipped bit in a tensor is an error, not a silently different weight), it unpickles weights-only,
and it holds a dict with string keys. Every failure is one ``InputError`` line naming the file; the
readers of the fields check each one they use (``require``, ``check_state_dict``, ``load_weights``).
"""

from __future__ import annotations

import math
import pickle
import re
import warnings
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from torch import nn

from v1mtl.common.atomic import write_with
from v1mtl.common.errors import InputError

# What torch.load raises for a damaged or foreign file (found by mutating real checkpoints): the zip reader
# raises RuntimeError, the unpickler UnpicklingError, EOFError or UnicodeDecodeError (a ValueError), a
# damaged record index KeyError, and the OS OSError.
LOAD_ERRORS = (RuntimeError, OSError, EOFError, ValueError, KeyError, IndexError, pickle.UnpicklingError)
# What zipfile raises while checking an archive that is not sound.
ZIP_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError, NotImplementedError)
MAX_QUOTED = 200
# torch's weights-only refusal wraps its one informative sentence (which global or opcode it refused) in
# paragraphs of advice, some of them in ANSI bold.
_REASON = re.compile(r"((?:Unsupported|Trying to load) .*?)(?:\. |\.?$)", re.MULTILINE)
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def save_checkpoint(path: str | Path, payload: dict[str, Any]) -> None:
    """``torch.save`` to a temporary sibling, then rename (a killed process leaves the old file)."""
    write_with(path, lambda fh: torch.save(payload, fh))


def load_checkpoint(path: str | Path) -> dict[str, Any]:
    """Load a checkpoint dict on the CPU, weights-only; a missing, damaged or foreign file, or one that
    needs code to load (refused: nothing from it runs), is a one-line ``InputError`` naming it."""
    path = Path(path)
    if not path.is_file():
        raise InputError("no such checkpoint file", path=path)
    _check_archive(path)
    try:
        with warnings.catch_warnings():
            # torch warns about a pickle protocol it did not write before it refuses or reads the file;
            # the outcome is reported in one line either way
            warnings.filterwarnings("ignore", message="Detected pickle protocol", category=UserWarning)
            ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as err:
        raise InputError(
            f"refused: not loadable weights-only, nothing from it was run ({_refusal(err)})", path=path
        ) from err
    except LOAD_ERRORS as err:
        raise InputError(f"not a readable torch checkpoint ({one_line(err)})", path=path) from err
    if not isinstance(ckpt, dict):
        raise InputError(f"expected a checkpoint dict, got {type(ckpt).__name__}", path=path)
    bad = [k for k in ckpt if not isinstance(k, str)]
    if bad:
        raise InputError(f"keys must be strings, got {one_line(repr(bad[0]))}", path=path)
    return ckpt


def _check_archive(path: Path) -> None:
    """A torch zip archive must be sound: every member's CRC-32 matches its data. Files that are not zip
    archives (the legacy format, or junk) are left to ``torch.load``."""
    if not zipfile.is_zipfile(path):
        return
    try:
        with zipfile.ZipFile(path) as archive:
            damaged = archive.testzip()
    except ZIP_ERRORS as err:
        raise InputError(f"damaged checkpoint archive ({one_line(err)})", path=path) from err
    if damaged is not None:
        raise InputError(f"damaged checkpoint: checksum mismatch in {one_line(damaged)}", path=path)


def _refusal(err: Exception) -> str:
    """The informative sentence of torch's weights-only refusal (which global or opcode it refused)."""
    text = _ANSI.sub("", str(err))
    found = _REASON.search(text)
    return one_line(found.group(1) if found else text or type(err).__name__)


def one_line(text: object) -> str:
    """``text`` as one printable line of at most ``MAX_QUOTED`` characters (ANSI escapes dropped)."""
    cleaned = "".join(ch if ch.isprintable() else " " for ch in _ANSI.sub("", str(text)))
    flat = " ".join(cleaned.split())
    return flat if len(flat) <= MAX_QUOTED else flat[: MAX_QUOTED - 3] + "..."


def require(ckpt: Mapping[str, Any], key: str, kind: type | tuple[type, ...], path: str | Path) -> Any:
    """``ckpt[key]``, which must be there and of type ``kind`` (bool is never an int)."""
    if key not in ckpt:
        raise InputError("missing key", path=path, field=key)
    return check_type(ckpt[key], kind, path, key)


def check_type(value: Any, kind: type | tuple[type, ...], path: str | Path, field: str) -> Any:
    """``value`` if it is a ``kind`` (bool does not count as int or float), else an ``InputError``."""
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if isinstance(value, bool) and bool not in kinds:
        ok = False
    else:
        ok = isinstance(value, kinds)
    if not ok:
        names = " or ".join(k.__name__ for k in kinds)
        raise InputError(f"expected {names}, got {type(value).__name__}", path=path, field=field)
    return value


def positive_int(value: Any, path: str | Path, field: str) -> int:
    """``value``, which must be an int >= 1."""
    if check_type(value, int, path, field) < 1:
        raise InputError(f"must be at least 1, got {value}", path=path, field=field)
    return value


def finite_float(value: Any, path: str | Path, field: str, *, positive: bool = False) -> float:
    """``value`` as a float, which must be a finite number (and > 0 with ``positive``)."""
    number = float(check_type(value, (int, float), path, field))
    if not math.isfinite(number) or (positive and number <= 0):
        need = "a finite positive number" if positive else "a finite number"
        raise InputError(f"must be {need}, got {value}", path=path, field=field)
    return number


def check_state_dict(value: Any, path: str | Path, field: str = "state_dict") -> dict[str, torch.Tensor]:
    """A state dict: string names -> dense tensors of a real dtype with finite values."""
    check_type(value, dict, path, field)
    for name, tensor in value.items():
        check_type(name, str, path, f"{field} key")
        where = f"{field}[{one_line(repr(name))}]"
        check_type(tensor, torch.Tensor, path, where)
        if tensor.layout != torch.strided or tensor.is_complex():
            raise InputError(
                f"expected a dense real tensor, got {tensor.layout} {tensor.dtype}", path=path, field=where
            )
        if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all()):
            raise InputError("holds NaN or infinite values", path=path, field=where)
    return value


def load_weights(
    net: nn.Module, state: Mapping[str, torch.Tensor], path: str | Path, field: str = "state_dict"
) -> None:
    """Load ``state`` into ``net`` after checking, one line each, that the names, shapes and kinds of
    dtype (floating point or integer) are exactly the network's."""
    expected = net.state_dict()
    missing = [k for k in expected if k not in state]
    if missing:
        raise InputError(f"missing {len(missing)} weight(s), e.g. {missing[0]!r}", path=path, field=field)
    extra = [k for k in state if k not in expected]
    if extra:
        raise InputError(
            f"{len(extra)} weight(s) the network does not have, e.g. {one_line(repr(extra[0]))}",
            path=path,
            field=field,
        )
    for name, want in expected.items():
        got = state[name]
        if got.shape != want.shape:
            raise InputError(
                f"shape {list(got.shape)}, the network needs {list(want.shape)}",
                path=path,
                field=f"{field}[{name!r}]",
            )
        if got.is_floating_point() != want.is_floating_point():
            raise InputError(
                f"dtype {got.dtype}, the network needs {want.dtype}", path=path, field=f"{field}[{name!r}]"
            )
    net.load_state_dict(state)
