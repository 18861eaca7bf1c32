"""Decode-once cache of image arrays as memory-mapped ``.npy`` files.

An entry is a folder ``<cache root>/<kind>/<key>/`` holding one ``.npy`` per array and ``manifest.json``,
written last, so an entry without a manifest is incomplete and gets rebuilt. The key hashes the reader's
parameters and the size and modification time of every source file, so a changed dataset is never served
stale.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from v1mtl.common.atomic import save_npy, write_json

CACHE_FORMAT = 1


def cache_root(cache_dir: str | Path | None = None) -> Path:
    """``cache_dir`` if given, else ``$V1MTL_CACHE``, else ``~/.cache/v1mtl``."""
    if cache_dir is not None:
        return Path(cache_dir)
    env = os.environ.get("V1MTL_CACHE")
    return Path(env) if env else Path.home() / ".cache" / "v1mtl"


def cache_key(params: dict[str, Any], files: Sequence[Path] = ()) -> str:
    """Hex digest of the parameters and of every file's path, size and mtime (ns)."""
    h = hashlib.sha256()
    h.update(json.dumps({"format": CACHE_FORMAT, "params": params}, sort_keys=True, default=str).encode())
    for f in files:
        st = os.stat(f)
        h.update(f"\n{f}\t{st.st_size}\t{st.st_mtime_ns}".encode())
    return h.hexdigest()[:24]


def load_or_build(
    kind: str,
    params: dict[str, Any],
    files: Sequence[Path],
    build: Callable[[], tuple[dict[str, np.ndarray], dict[str, Any]]],
    cache_dir: str | Path | None = None,
) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Return ``(arrays, meta)`` from the cache, calling ``build()`` and storing its result on a miss.

    Arrays come back as read-only memory maps. ``meta`` is any JSON-ready dict ``build`` returned.
    """
    entry = cache_root(cache_dir) / kind / cache_key(params, files)
    cached = _read(entry)
    if cached is not None:
        return cached
    arrays, meta = build()
    for name, arr in arrays.items():
        save_npy(entry / f"{name}.npy", arr)
    manifest = {
        "format": CACHE_FORMAT,
        "params": params,
        "n_files": len(files),
        "arrays": {name: {"shape": list(a.shape), "dtype": str(a.dtype)} for name, a in arrays.items()},
        "meta": meta,
    }
    write_json(entry / "manifest.json", manifest)
    out = _read(entry)
    assert out is not None
    return out


def _read(entry: Path) -> tuple[dict[str, np.ndarray], dict[str, Any]] | None:
    manifest_path = entry / "manifest.json"
    if not manifest_path.is_file():
        return None
    try:
        manifest = json.loads(manifest_path.read_text())
        arrays = {}
        for name, spec in manifest["arrays"].items():
            # An empty array cannot be memory-mapped.
            mode = "r" if int(np.prod(spec["shape"])) > 0 else None
            arr = np.load(entry / f"{name}.npy", mmap_mode=mode, allow_pickle=False)
            if list(arr.shape) != spec["shape"] or str(arr.dtype) != spec["dtype"]:
                return None
            arrays[name] = arr
    except (OSError, ValueError, KeyError):
        # A damaged entry is rebuilt rather than trusted.
        return None
    return arrays, manifest.get("meta", {})
