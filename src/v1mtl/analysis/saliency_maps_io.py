"""Read user-provided saliency maps (e.g. DeepGaze IIE) keyed by image id.

Accepted files:
- ``.npz``: one 2-D array per image, named by the image id (``np.savez(path, **{id: map})``);
- ``.npy``: one ``(n, H, W)`` array aligned with the image order of the analysis;
- ``.h5`` / ``.hdf5``: one 2-D dataset per image at the path given by its id (``f[id]``).
Maps may have any resolution: like the images (``v1mtl.data.images.decode``), a map is centre-cropped to a
square and resized bilinearly to the image size. ``log_density=True`` exponentiates the maps first, for
models such as DeepGaze that output log-densities.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from v1mtl.analysis.images import centre_square_resize
from v1mtl.common.errors import InputError

SALIENCY_SUFFIXES = (".npz", ".npy", ".h5", ".hdf5")


def load_saliency_maps(
    path: str | Path, ids: Sequence[str], size: int, *, log_density: bool = False
) -> np.ndarray:
    """Maps of the images ``ids`` as ``(len(ids), size, size)`` float64, in the order of ``ids``."""
    path = Path(path)
    if not path.is_file():
        raise InputError("saliency map file not found", path=path)
    suffix = path.suffix.lower()
    if suffix == ".npz":
        raw = _from_npz(path, ids)
    elif suffix == ".npy":
        raw = _from_npy(path, ids)
    elif suffix in (".h5", ".hdf5"):
        raw = _from_h5(path, ids)
    else:
        raise InputError(f"unsupported saliency file type; expected one of {SALIENCY_SUFFIXES}", path=path)
    maps = []
    for image_id, m in zip(ids, raw, strict=True):
        m = _check_map(np.asarray(m), path, image_id)
        maps.append(centre_square_resize(np.exp(m) if log_density else m, size, np.float64))
    return np.stack(maps)


def _from_npz(path: Path, ids: Sequence[str]) -> list[np.ndarray]:
    with np.load(path, allow_pickle=False) as data:
        missing = [i for i in ids if i not in data.files]
        if missing:
            raise InputError(
                f"no map for {len(missing)} image(s), e.g. {missing[:3]} (file has {len(data.files)} keys)",
                path=path,
                field=missing[0],
            )
        return [data[i] for i in ids]


def _from_npy(path: Path, ids: Sequence[str]) -> list[np.ndarray]:
    try:
        arr = np.load(path, allow_pickle=False)
    except ValueError as err:
        raise InputError(
            "cannot read without pickle; save maps keyed by id with np.savez instead", path=path
        ) from err
    if arr.ndim != 3:
        raise InputError(f"expected an (images, H, W) array, got shape {arr.shape}", path=path)
    if arr.shape[0] != len(ids):
        raise InputError(
            f"{arr.shape[0]} maps for {len(ids)} images (maps must follow the image order)", path=path
        )
    return list(arr)


def _from_h5(path: Path, ids: Sequence[str]) -> list[np.ndarray]:
    import h5py

    with h5py.File(path, "r") as f:
        out = []
        for image_id in ids:
            if image_id not in f or not isinstance(f[image_id], h5py.Dataset):
                raise InputError("no dataset for this image id", path=path, field=image_id)
            out.append(f[image_id][()])
        return out


def _check_map(m: np.ndarray, path: Path, image_id: str) -> np.ndarray:
    if m.ndim == 3 and m.shape[-1] == 1:
        m = m[..., 0]
    if m.ndim != 2 or min(m.shape) < 2:
        raise InputError(f"expected a 2-D map, got shape {m.shape}", path=path, field=image_id)
    if not np.issubdtype(m.dtype, np.number):
        raise InputError(f"expected numbers, got dtype {m.dtype}", path=path, field=image_id)
    if not np.isfinite(m).all():
        raise InputError("map contains NaN or inf", path=path, field=image_id)
    return m.astype(np.float64)
