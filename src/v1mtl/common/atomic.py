"""Crash-safe writes: every file is written to a temporary sibling, flushed, then renamed into place.

A killed process therefore leaves either the old file or the new one, never half of one. What it does leave
is the temporary: ``.NAME.XXXXXXXX.tmp`` (a file) or ``.NAME.XXXXXXXX.partial`` (a folder), with
``XXXXXXXX`` the 8 random characters of ``tempfile``. ``remove_stale_temporaries`` removes those of a folder
when the run that owns it starts again.
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import numpy as np


@contextmanager
def atomic_open(path: str | Path, mode: str = "wb") -> Iterator[IO[Any]]:
    """Open a temporary file next to ``path``; on clean exit fsync and rename it onto ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    # mkstemp creates the file private (0600); give it the permissions a plain open() would.
    os.chmod(tmp, 0o666 & ~_umask())
    try:
        with os.fdopen(fd, mode) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


@contextmanager
def atomic_folder(path: str | Path) -> Iterator[Path]:
    """Yield a temporary sibling folder to fill; on clean exit rename it onto ``path``.

    A reader therefore sees the whole folder or none of it. An existing ``path`` must be empty (it is
    replaced); on an error the temporary folder is removed.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".partial", dir=path.parent))
    try:
        # mkdtemp makes the folder private (0700); the published folder gets the usual permissions.
        tmp.chmod(0o777 & ~_umask())
        yield tmp
        if path.exists():
            path.rmdir()
        os.replace(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


# The names ``tempfile.mkstemp``/``mkdtemp`` give with the prefix and suffixes above (``tempfile`` draws
# 8 characters from a-z, 0-9 and "_"); nothing else in a folder matches.
_TEMPORARY = re.compile(r"\..+\.[a-z0-9_]{8}\.(tmp|partial)")


def remove_stale_temporaries(folder: str | Path) -> list[Path]:
    """Remove the temporaries that killed writers left in ``folder``; return what was removed.

    Call it only where no other process can be writing into ``folder``: at the start of the run that owns
    it (a training run folder, a V1 model fit), before it writes anything. Symbolic links and entries whose
    kind does not match their suffix are left alone.
    """
    folder = Path(folder)
    if not folder.is_dir():
        return []
    removed = []
    for entry in sorted(folder.iterdir()):
        match = _TEMPORARY.fullmatch(entry.name)
        if match is None or entry.is_symlink():
            continue
        if match.group(1) == "tmp" and entry.is_file():
            entry.unlink()
        elif match.group(1) == "partial" and entry.is_dir():
            shutil.rmtree(entry)
        else:
            continue
        removed.append(entry)
    return removed


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_bytes(path: str | Path, data: bytes) -> None:
    with atomic_open(path, "wb") as fh:
        fh.write(data)


def write_text(path: str | Path, text: str) -> None:
    with atomic_open(path, "w") as fh:
        fh.write(text)


def write_json(path: str | Path, obj: Any) -> None:
    write_text(path, json.dumps(obj, indent=2, sort_keys=False, default=_json_default) + "\n")


def save_npy(path: str | Path, array: np.ndarray) -> None:
    """Write an ``.npy`` file atomically (readable later with ``np.load(mmap_mode='r')``)."""
    with atomic_open(path, "wb") as fh:
        np.save(fh, np.asarray(array), allow_pickle=False)


def write_with(path: str | Path, writer: Callable[[IO[bytes]], None]) -> None:
    """Atomically write whatever ``writer(fh)`` puts into a binary file handle (e.g. ``torch.save``)."""
    buf = io.BytesIO()
    writer(buf)
    write_bytes(path, buf.getvalue())


def _json_default(obj: Any) -> Any:
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"not JSON serializable: {type(obj).__name__}")
