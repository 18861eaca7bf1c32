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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from v1mtl.common.atomic import save_npy, write_json
from v1mtl.common.errors import InputError
from v1mtl.data.neural.files import INTEGER_KINDS, NUMBER_KINDS, inside, read_npy, resolved_root
from v1mtl.data.neural.limits import (
    MAX_ARRAY_ELEMENTS,
    MAX_MANIFEST_BYTES,
    ElementBudget,
    check_max_elements,
    one_line,
    shown,
)
from v1mtl.data.neural.recordings import (
    INT64_MAX,
    Session,
    V1Dataset,
    check_label,
    check_pixels_per_degree,
    session_field,
)

FORMAT_NAME = "v1mtl-neural"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
_SAFE_DIR = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
_SESSION_ARRAYS = ("train_image_ids", "train_responses", "test_image_ids", "test_responses")
_SESSION_COUNTS = ("n_neurons", "n_train_trials", "n_test_images", "n_repeats")


def is_native(path: str | Path) -> bool:
    """True if ``path`` is a folder meant to hold a native dataset (a manifest, or the arrays of one)."""
    path = Path(path)
    if not path.is_dir():
        return False
    manifest = path / MANIFEST
    if manifest.is_file():
        # A broken or oversized manifest is still ours: read_native reports what is wrong.
        try:
            if manifest.stat().st_size > MAX_MANIFEST_BYTES:
                return True
            content = json.loads(manifest.read_bytes())
        except (OSError, ValueError, RecursionError):
            return True
        return not isinstance(content, dict) or content.get("format") == FORMAT_NAME
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


@dataclass(frozen=True)
class _SessionEntry:
    """One checked ``sessions[k]`` entry of the manifest."""

    session_id: str
    subject_id: str
    folder: Path
    n_neurons: int
    n_train_trials: int
    n_test_images: int
    n_repeats: int


@dataclass(frozen=True)
class _Manifest:
    """The checked manifest: every field has the type and range the reader relies on."""

    path: Path
    n_images: int
    image_shape: tuple[int, int]
    image_dtype: str | None
    pixels_per_degree: float | None
    metadata: dict[str, Any]
    sessions: list[_SessionEntry]


def _load_manifest(root: Path, real_root: Path) -> dict[str, Any]:
    """The manifest's JSON object; ``InputError`` if it is missing, too big, not UTF-8 or not JSON."""
    path = root / MANIFEST
    if not path.is_file():
        raise InputError(
            "missing manifest.json: the folder is incomplete (an interrupted write?); write it again",
            path=path,
            field="manifest",
        )
    real = inside(real_root, path, "manifest")
    try:
        size = real.stat().st_size
        if size > MAX_MANIFEST_BYTES:
            raise InputError(
                f"{size:,} bytes, over the limit of {MAX_MANIFEST_BYTES:,}", path=path, field="manifest"
            )
        manifest = json.loads(real.read_bytes().decode("utf-8"))
    except OSError as err:
        raise InputError(f"cannot read: {err.strerror}", path=path, field="manifest") from err
    except UnicodeDecodeError as err:
        raise InputError(
            f"not UTF-8 text ({err.reason} at byte {err.start})", path=path, field="manifest"
        ) from err
    except RecursionError as err:
        raise InputError("not readable JSON: nested too deeply", path=path, field="manifest") from err
    except ValueError as err:  # JSONDecodeError, or an integer of more than 4300 digits
        raise InputError(f"not valid JSON ({one_line(str(err))})", path=path, field="manifest") from err
    if not isinstance(manifest, dict):
        raise InputError(
            f"expected a JSON object, got {type(manifest).__name__}", path=path, field="manifest"
        )
    return manifest


def _manifest(root: Path, real_root: Path) -> _Manifest:
    path = root / MANIFEST
    manifest = _load_manifest(root, real_root)
    for key in ("format", "format_version", "n_images", "image_shape", "sessions"):
        if key not in manifest:
            raise InputError("missing key", path=path, field=key)
    if manifest["format"] != FORMAT_NAME:
        raise InputError(
            f"expected '{FORMAT_NAME}', got {shown(manifest['format'])}", path=path, field="format"
        )
    version = manifest["format_version"]
    if not _is_int(version) or version != FORMAT_VERSION:
        raise InputError(
            f"unsupported version {shown(version)} (this reader knows {FORMAT_VERSION})",
            path=path,
            field="format_version",
        )
    shape = manifest["image_shape"]
    if not (isinstance(shape, list) and len(shape) == 2 and all(_is_int(n) and n >= 1 for n in shape)):
        raise InputError(
            f"expected [height, width] of positive integers, got {shown(shape)}",
            path=path,
            field="image_shape",
        )
    image_dtype = manifest.get("image_dtype")
    if image_dtype is not None and not isinstance(image_dtype, str):
        raise InputError(f"expected a dtype name, got {shown(image_dtype)}", path=path, field="image_dtype")
    metadata = manifest.get("metadata")
    if metadata is not None and not isinstance(metadata, dict):
        raise InputError(f"expected an object or null, got {shown(metadata)}", path=path, field="metadata")
    entries = manifest["sessions"]
    if not isinstance(entries, list):
        raise InputError(f"expected a list, got {shown(entries)}", path=path, field="sessions")
    return _Manifest(
        path=path,
        n_images=_count(manifest, "n_images", path, "n_images"),
        image_shape=(shape[0], shape[1]),
        image_dtype=image_dtype,
        pixels_per_degree=check_pixels_per_degree(manifest.get("pixels_per_degree"), path),
        metadata=metadata or {},
        sessions=[_session_entry(e, f"sessions[{k}]", root, real_root, path) for k, e in enumerate(entries)],
    )


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _count(entry: dict[str, Any], key: str, path: Path, field: str) -> int:
    value = entry[key]
    if not _is_int(value) or value < 0:
        raise InputError(f"expected a count (an integer >= 0), got {shown(value)}", path=path, field=field)
    return value


def _session_entry(entry: object, where: str, root: Path, real_root: Path, path: Path) -> _SessionEntry:
    if not isinstance(entry, dict):
        raise InputError(f"expected an object, got {shown(entry)}", path=path, field=where)
    for key in ("id", "subject", "dir", *_SESSION_COUNTS):
        if key not in entry:
            raise InputError("missing key", path=path, field=f"{where}.{key}")
    folder_name = entry["dir"]
    if not isinstance(folder_name, str) or not folder_name:
        raise InputError(f"expected a folder name, got {shown(folder_name)}", path=path, field=f"{where}.dir")
    folder = root / folder_name
    if not inside(real_root, folder, f"{where}.dir", named_in=path).is_dir():
        raise InputError(f"{shown(folder_name)} is not a folder", path=path, field=f"{where}.dir")
    counts = {key: _count(entry, key, path, f"{where}.{key}") for key in _SESSION_COUNTS}
    return _SessionEntry(
        session_id=check_label(entry["id"], path, f"{where}.id"),
        subject_id=check_label(entry["subject"], path, f"{where}.subject"),
        folder=folder,
        **counts,
    )


@dataclass(frozen=True)
class _Arrays:
    """Loads the arrays of one native folder: each inside ``root`` and within the element limit."""

    root: Path
    max_elements: int
    mmap: bool

    def numbers(self, file: Path, field: str, shape: tuple[int, ...]) -> np.ndarray:
        budget = ElementBudget(self.max_elements)
        return read_npy(file, self.root, field, budget, NUMBER_KINDS, shape, self.mmap)

    def ids(self, file: Path, field: str, length: int) -> np.ndarray:
        """An id array as int64: the file must hold integers, and unsigned ones must fit int64."""
        budget = ElementBudget(self.max_elements)
        ids = read_npy(file, self.root, field, budget, INTEGER_KINDS, (length,), self.mmap)
        if ids.dtype.kind == "u" and ids.size and ids.max() > INT64_MAX:
            raise InputError(f"ids beyond int64: {int(ids.max())}", path=file, field=field)
        return ids.astype(np.int64, copy=False)


def _read_session(e: _SessionEntry, arrays: _Arrays) -> tuple[Session, dict[str, Path]]:
    """One session's four arrays, and the file that holds each of its fields (for error messages)."""
    files = {session_field(e.session_id, name): e.folder / f"{name}.npy" for name in _SESSION_ARRAYS}

    def load(name: str, shape: tuple[int, ...]) -> np.ndarray:
        field = session_field(e.session_id, name)
        if name.endswith("_ids"):
            return arrays.ids(files[field], field, shape[0])
        return arrays.numbers(files[field], field, shape)

    session = Session(
        session_id=e.session_id,
        subject_id=e.subject_id,
        train_image_ids=load("train_image_ids", (e.n_train_trials,)),
        train_responses=load("train_responses", (e.n_train_trials, e.n_neurons)),
        test_image_ids=load("test_image_ids", (e.n_test_images,)),
        test_responses=load("test_responses", (e.n_test_images, e.n_repeats, e.n_neurons)),
    )
    return session, files


def read_native(path: str | Path, mmap: bool = True, max_elements: int = MAX_ARRAY_ELEMENTS) -> V1Dataset:
    """Read a native dataset folder; arrays are read-only memory maps when ``mmap`` is True.

    ``max_elements`` bounds the array elements each ``.npy`` file may declare (see ``limits``).
    """
    root = Path(path)
    check_max_elements(max_elements)
    if not root.is_dir():
        raise InputError("not a folder (a native dataset is a folder with manifest.json)", path=root)
    real_root = resolved_root(root)
    m = _manifest(root, real_root)
    arrays = _Arrays(real_root, max_elements, mmap)
    images = arrays.numbers(root / "images.npy", "images", (m.n_images, *m.image_shape))
    if m.image_dtype is not None and m.image_dtype != str(images.dtype):
        raise InputError(
            f"the manifest says {shown(m.image_dtype)}, images.npy holds {images.dtype}",
            path=m.path,
            field="image_dtype",
        )
    image_ids = arrays.ids(root / "image_ids.npy", "image_ids", m.n_images)
    files: dict[str, Path] = {
        "images": root / "images.npy",
        "image_ids": root / "image_ids.npy",
        "pixels_per_degree": m.path,
        "metadata": m.path,
        "sessions": m.path,
    }
    sessions = []
    for e in m.sessions:
        session, session_files = _read_session(e, arrays)
        sessions.append(session)
        files |= session_files | {f"sessions[{e.session_id}]": m.path}
    dataset = V1Dataset(
        images=images,
        image_ids=image_ids,
        sessions=sessions,
        pixels_per_degree=m.pixels_per_degree,
        metadata=dict(m.metadata),
    )
    return dataset.validate(root, files=files)
