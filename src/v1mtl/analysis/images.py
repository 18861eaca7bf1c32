"""Load the images an analysis runs on, each with a string id (the key of user-provided saliency maps).

``source`` is one of:
- ``builtin``: the photographs that ship with the installed packages (``v1mtl.data.images.photos``), centre
  square crops first, then seeded random square crops when more images are asked for; ids are the photo
  names (``astronaut``, ``astronaut_crop1``, ...);
- a folder: every image file under it (sorted by path, ``v1mtl.data.images.decode``), centre-cropped and
  resized; the id of a file is its path relative to the folder without the extension (``val_12``,
  ``n01443537/images/n01443537_0``);
- an ``.npy`` file: ``(n, H, W)`` or ``(n, H, W, 3)`` images, uint8 in [0, 255] or float in [0, 1]; ids are
  the row numbers ``"0"``, ``"1"``, ...;
- an ``.npz`` file with ``images`` as above and optionally ``ids`` (``(n,)`` strings or integers).
Every image is returned gray, float32 in [0, 1], resized to ``size`` x ``size``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from v1mtl.common.errors import InputError
from v1mtl.data.images.gray import rgb_to_gray_np


def load_analysis_images(
    source: str | Path, *, size: int, n: int | None = None, seed: int = 0
) -> tuple[list[str], np.ndarray]:
    """Return ``(ids, images)`` with ``images`` ``(n, size, size)`` float32 in [0, 1]; at most ``n`` images."""
    if n is not None and n < 1:
        raise InputError(f"need at least one image, got n={n}", field="n_images")
    if str(source) == "builtin":
        return _builtin(size, n or 16, seed)
    path = Path(source)
    if path.is_dir():
        ids, images = _folder(path, size, n)
    elif path.suffix == ".npy" and path.is_file():
        images = _as_gray_unit(np.load(path, allow_pickle=False), path, "images")
        ids = [str(i) for i in range(len(images))]
    elif path.suffix == ".npz" and path.is_file():
        ids, images = _npz(path)
    else:
        raise InputError("expected 'builtin', an image folder, an .npy or an .npz file", path=path)
    if not len(images):
        raise InputError("no images found", path=path)
    if n is not None:
        ids, images = ids[:n], images[:n]
    return ids, _resize_all(images, size)


def _builtin(size: int, n: int, seed: int) -> tuple[list[str], np.ndarray]:
    from v1mtl.data.images.photos import load_photographs

    photos = load_photographs()
    ids, crops = [], []
    for name, img in photos.items():
        ids.append(name)
        crops.append(centre_square_resize(img, size))
    rng = np.random.default_rng(seed)
    names = list(photos)
    k = 0
    while len(ids) < n:
        name = names[k % len(names)]
        img = photos[name]
        side = int(rng.uniform(0.4, 0.8) * min(img.shape))
        top = int(rng.integers(0, img.shape[0] - side + 1))
        left = int(rng.integers(0, img.shape[1] - side + 1))
        ids.append(f"{name}_crop{k // len(names) + 1}")
        crops.append(centre_square_resize(img[top : top + side, left : left + side], size))
        k += 1
    return ids[:n], np.stack(crops[:n]).astype(np.float32)


def _folder(path: Path, size: int, n: int | None) -> tuple[list[str], np.ndarray]:
    from v1mtl.data.images.decode import decode_image, list_images

    files = list_images(path)[:n] if n is not None else list_images(path)
    ids = [str(f.relative_to(path).with_suffix("")) for f in files]
    images = [decode_image(f, size).astype(np.float32) / 255.0 for f in files]
    return ids, np.stack(images) if images else np.zeros((0, size, size), np.float32)


def _npz(path: Path) -> tuple[list[str], np.ndarray]:
    with np.load(path, allow_pickle=False) as data:
        if "images" not in data:
            raise InputError(
                f"missing array 'images' (found {sorted(data.files)})", path=path, field="images"
            )
        images = _as_gray_unit(data["images"], path, "images")
        if "ids" in data:
            ids = [str(i) for i in np.asarray(data["ids"]).tolist()]
            if len(ids) != len(images):
                raise InputError(f"{len(ids)} ids for {len(images)} images", path=path, field="ids")
            if len(set(ids)) != len(ids):
                raise InputError("ids are not unique", path=path, field="ids")
        else:
            ids = [str(i) for i in range(len(images))]
    return ids, images


def _as_gray_unit(arr: np.ndarray, path: Path, field: str) -> np.ndarray:
    """``(n, H, W)`` or ``(n, H, W, 3)`` uint8 / float -> ``(n, H, W)`` float32 in [0, 1]."""
    if arr.ndim == 4 and arr.shape[-1] == 3:
        arr = rgb_to_gray_np(arr)
    elif arr.ndim != 3:
        raise InputError(f"expected (n, H, W) or (n, H, W, 3), got shape {arr.shape}", path=path, field=field)
    if np.issubdtype(arr.dtype, np.integer) or arr.max(initial=0) > 1.0 + 1e-6:
        if arr.min(initial=0) < 0 or arr.max(initial=0) > 255:
            raise InputError("pixel values outside [0, 255]", path=path, field=field)
        arr = arr / 255.0
    if not np.isfinite(arr).all() or arr.min(initial=0) < 0:
        raise InputError("pixel values must be finite and non-negative", path=path, field=field)
    return arr.astype(np.float32)


def centre_square_resize(img: np.ndarray, size: int, dtype: type = np.float32) -> np.ndarray:
    """Centre square crop of a 2-D array, then bilinear resize to ``(size, size)``, as ``dtype``."""
    side = min(img.shape)
    top, left = (img.shape[0] - side) // 2, (img.shape[1] - side) // 2
    img = img[top : top + side, left : left + side]
    if img.shape == (size, size):
        return img.astype(dtype)
    pil = Image.fromarray(img.astype(np.float32), mode="F")
    return np.asarray(pil.resize((size, size), Image.Resampling.BILINEAR), dtype=dtype)


def _resize_all(images: np.ndarray, size: int) -> np.ndarray:
    return np.stack([np.clip(centre_square_resize(im, size), 0.0, 1.0) for im in images]).astype(np.float32)
