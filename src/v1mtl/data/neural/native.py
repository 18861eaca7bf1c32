"""The native on-disk V1 format ("v1mtl-neural", version 1): ``.npy`` arrays plus a JSON manifest.

Layout of a dataset folder (every array is a plain ``.npy``, so it can be memory-mapped)::

    manifest.json                       format name, version, counts, sessions, pixels_per_degree, metadata
    images.npy                          (n_images, height, width) uint8 or float32
    image_ids.npy                       (n_images,) int64, unique
    sessions/<dir>/train_image_ids.npy  (trials,) int64
    sessions/<dir>/train_responses.npy  (trials, neurons) float32, NaN = not recorded
    sessions/<dir>/test_image_ids.npy   (test_images,) int64
    sessions/<dir>/test_responses.npy   (test_images, repeats, neurons) float32, NaN = not recorded

Every file is written to a temporary sibling and renamed. The manifest is written last (and removed first
when a folder is overwritten), so a folder without a manifest is an interrupted write and is rejected.
Files the manifest does not name (a simulator's ground truth, notes) are ignored by the reader.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np

from v1mtl.common.atomic import save_npy, write_json
from v1mtl.common.errors import InputError
from v1mtl.data.neural.recordings import Session, V1Dataset

FORMAT_NAME = "v1mtl-neural"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
_SAFE_DIR = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


def is_native(path: str | Path) -> bool:
    """True if ``path`` is a folder meant to hold a native dataset (a manifest, or the arrays of one)."""
    path = Path(path)
    if not path.is_dir():
        return False
    manifest = path / MANIFEST
    if manifest.is_file():
        try:
            return json.loads(manifest.read_text()).get("format") == FORMAT_NAME
        except (OSError, ValueError, AttributeError):
            return True  # a broken manifest is still ours; read_native reports what is wrong
    return (path / "images.npy").is_file() and (path / "sessions").is_dir()


def _session_dirs(sessions: list[Session]) -> list[str]:
    """Folder name per session: the id when it is a safe, unique file name, else its index."""
    names: list[str] = []
    for i, s in enumerate(sessions):
        name = s.session_id if _SAFE_DIR.match(s.session_id) else f"{i:04d}"
        if name in names:
            name = f"{i:04d}"
        names.append(name)
    return names


def write_native(dataset: V1Dataset, out_dir: str | Path) -> None:
    """Validate ``dataset`` and write it to the folder ``out_dir`` (created if needed; unknown files kept)."""
    dataset.validate()
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise InputError("exists and is not a folder", path=out)
    out.mkdir(parents=True, exist_ok=True)
    (out / MANIFEST).unlink(missing_ok=True)

    images = np.asarray(dataset.images)
    if images.dtype != np.uint8:
        images = images.astype(np.float32)
    save_npy(out / "images.npy", images)
    save_npy(out / "image_ids.npy", np.asarray(dataset.image_ids, dtype=np.int64))
    session_entries = []
    for s, name in zip(dataset.sessions, _session_dirs(dataset.sessions), strict=True):
        folder = out / "sessions" / name
        save_npy(folder / "train_image_ids.npy", np.asarray(s.train_image_ids, dtype=np.int64))
        save_npy(folder / "train_responses.npy", np.asarray(s.train_responses, dtype=np.float32))
        save_npy(folder / "test_image_ids.npy", np.asarray(s.test_image_ids, dtype=np.int64))
        save_npy(folder / "test_responses.npy", np.asarray(s.test_responses, dtype=np.float32))
        session_entries.append(
            {
                "id": s.session_id,
                "subject": s.subject_id,
                "dir": f"sessions/{name}",
                "n_neurons": s.n_neurons,
                "n_train_trials": s.n_train_trials,
                "n_test_images": s.n_test_images,
                "n_repeats": s.n_repeats,
            }
        )
    manifest = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "n_images": int(images.shape[0]),
        "image_shape": list(dataset.image_shape),
        "image_dtype": str(images.dtype),
        "pixels_per_degree": dataset.pixels_per_degree,
        "sessions": session_entries,
        "metadata": dataset.metadata,
    }
    write_json(out / MANIFEST, manifest)


def _manifest(path: Path) -> dict[str, Any]:
    manifest_path = path / MANIFEST
    if not path.is_dir():
        raise InputError("not a folder (a native dataset is a folder with manifest.json)", path=path)
    if not manifest_path.is_file():
        raise InputError(
            "missing manifest.json: the folder is incomplete (an interrupted write?); write it again",
            path=manifest_path,
            field="manifest",
        )
    try:
        manifest = json.loads(manifest_path.read_text())
    except (OSError, ValueError) as err:
        raise InputError(f"not valid JSON ({err})", path=manifest_path, field="manifest") from err
    if not isinstance(manifest, dict):
        raise InputError("expected a JSON object", path=manifest_path, field="manifest")
    for key in ("format", "format_version", "n_images", "image_shape", "sessions"):
        if key not in manifest:
            raise InputError("missing key", path=manifest_path, field=key)
    if manifest["format"] != FORMAT_NAME:
        raise InputError(
            f"expected '{FORMAT_NAME}', got {manifest['format']!r}", path=manifest_path, field="format"
        )
    if manifest["format_version"] != FORMAT_VERSION:
        raise InputError(
            f"unsupported version {manifest['format_version']!r} (this reader knows {FORMAT_VERSION})",
            path=manifest_path,
            field="format_version",
        )
    if not isinstance(manifest["sessions"], list):
        raise InputError("expected a list", path=manifest_path, field="sessions")
    return manifest


def _load(file: Path, mmap: bool, shape: tuple[int | None, ...], field: str) -> np.ndarray:
    """Load one array and check its shape (``None`` = any length) against the manifest."""
    if not file.is_file():
        raise InputError("missing array file", path=file, field=field)
    try:
        arr = np.load(file, mmap_mode="r" if mmap else None, allow_pickle=False)
    except (OSError, ValueError) as err:
        raise InputError(f"not a readable .npy array ({err})", path=file, field=field) from err
    if arr.ndim != len(shape) or any(
        want is not None and got != want for got, want in zip(arr.shape, shape, strict=True)
    ):
        want_text = tuple("*" if w is None else w for w in shape)
        raise InputError(f"expected shape {want_text}, got {arr.shape}", path=file, field=field)
    if not (np.issubdtype(arr.dtype, np.number)):
        raise InputError(f"expected numbers, got dtype {arr.dtype}", path=file, field=field)
    return arr


def read_native(path: str | Path, mmap: bool = True) -> V1Dataset:
    """Read a native dataset folder; arrays are read-only memory maps when ``mmap`` is True."""
    path = Path(path)
    manifest = _manifest(path)
    manifest_path = path / MANIFEST
    n_images = manifest["n_images"]
    height, width = manifest["image_shape"]
    images = _load(path / "images.npy", mmap, (n_images, height, width), "images")
    image_ids = _load(path / "image_ids.npy", mmap, (n_images,), "image_ids")
    sessions = []
    for k, entry in enumerate(manifest["sessions"]):
        where = f"sessions[{k}]"
        for key in ("id", "subject", "dir", "n_neurons", "n_train_trials", "n_test_images", "n_repeats"):
            if not isinstance(entry, dict) or key not in entry:
                raise InputError("missing key", path=manifest_path, field=f"{where}.{key}")
        folder = path / entry["dir"]
        if path.resolve() not in folder.resolve().parents:
            raise InputError(
                "session folder lies outside the dataset", path=manifest_path, field=f"{where}.dir"
            )
        trials, neurons = entry["n_train_trials"], entry["n_neurons"]
        n_test, repeats = entry["n_test_images"], entry["n_repeats"]
        sessions.append(
            Session(
                session_id=str(entry["id"]),
                subject_id=str(entry["subject"]),
                train_image_ids=_load(folder / "train_image_ids.npy", mmap, (trials,), "train_image_ids"),
                train_responses=_load(
                    folder / "train_responses.npy", mmap, (trials, neurons), "train_responses"
                ),
                test_image_ids=_load(folder / "test_image_ids.npy", mmap, (n_test,), "test_image_ids"),
                test_responses=_load(
                    folder / "test_responses.npy", mmap, (n_test, repeats, neurons), "test_responses"
                ),
            )
        )
    dataset = V1Dataset(
        images=images,
        image_ids=image_ids,
        sessions=sessions,
        pixels_per_degree=manifest.get("pixels_per_degree"),
        metadata=dict(manifest.get("metadata") or {}),
    )
    return dataset.validate(path)
