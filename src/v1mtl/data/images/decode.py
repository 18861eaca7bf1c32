"""Decode image files into fixed-size uint8 arrays (gray with PIL's luma weights, or RGB), in parallel.

PIL releases the GIL while decoding, so a thread pool scales on the available cores.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image
from tqdm import tqdm

from v1mtl.common.errors import InputError
from v1mtl.data.images.gray import rgb_to_gray_np

IMAGE_EXTENSIONS = frozenset(
    {".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".ppm", ".pgm"}
)


class UnreadableImageError(InputError):
    """A file that PIL cannot decode (truncated, corrupt, not an image): the kind ``skip_bad`` skips."""


def is_image_file(path: Path) -> bool:
    return path.suffix.lower() in IMAGE_EXTENSIONS


def list_images(folder: Path) -> list[Path]:
    """Image files anywhere under ``folder``, sorted by path (torchvision ``ImageFolder`` order)."""
    return sorted(p for p in folder.rglob("*") if p.is_file() and is_image_file(p))


def decode_image(path: str | Path, size: int, color: bool = False) -> np.ndarray:
    """One file -> ``(size, size)`` uint8 gray (or ``(size, size, 3)`` RGB).

    Gray uses PIL's luma weights (``v1mtl.data.images.gray``). Non-square or larger images are center-cropped to
    a square and resized with PIL's antialiased bilinear filter; images smaller than ``size`` are an error.
    """
    try:
        with Image.open(path) as im:
            im.load()
            img = im.convert("RGB") if (color or im.mode != "L") else im.copy()
    except (OSError, ValueError, Image.DecompressionBombError) as err:
        raise UnreadableImageError(f"cannot read image: {err}", path=path) from err
    w, h = img.size
    if min(w, h) < size:
        raise InputError(f"image is {w}x{h} px, smaller than the requested size {size}", path=path)
    if not color and img.mode != "L":
        gray = np.clip(np.rint(rgb_to_gray_np(np.asarray(img))), 0, 255).astype(np.uint8)
        img = Image.fromarray(gray, mode="L")
    if (w, h) != (size, size):
        side = min(w, h)
        left, top = (w - side) // 2, (h - side) // 2
        img = img.crop((left, top, left + side, top + side)).resize((size, size), Image.Resampling.BILINEAR)
    return np.asarray(img, dtype=np.uint8)


def decode_images(
    paths: Sequence[Path], size: int, *, color: bool = False, skip_bad: bool = False, desc: str = "decoding"
) -> tuple[np.ndarray, list[str]]:
    """Decode many files in parallel.

    Returns ``(images, skipped)``: ``(n_ok, size, size)`` uint8 (``(..., 3)`` with ``color``) in the order
    of ``paths`` minus the skipped files, and the skipped paths (empty unless ``skip_bad``).
    """
    shape = (len(paths), size, size, 3) if color else (len(paths), size, size)
    out = np.empty(shape, dtype=np.uint8)
    ok = np.ones(len(paths), dtype=bool)

    def work(i: int) -> None:
        try:
            out[i] = decode_image(paths[i], size, color)
        except UnreadableImageError:
            if not skip_bad:
                raise
            ok[i] = False

    workers = min(8, os.cpu_count() or 1)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        # map() re-raises the first error in input order, so the message names the first bad file.
        for _ in tqdm(
            pool.map(work, range(len(paths)), chunksize=64),
            total=len(paths),
            desc=desc,
            leave=False,
            disable=None,
        ):
            pass
    skipped = [str(p) for p, good in zip(paths, ok, strict=True) if not good]
    return (out if ok.all() else out[ok]), skipped


def decode_groups(
    groups: dict[str, tuple[Sequence[Path], np.ndarray]], size: int, *, color: bool, skip_bad: bool
) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Decode the files of each split into ``<split>_images`` / ``<split>_labels`` arrays for the cache.

    ``groups`` maps a split name to ``(files, labels)``; skipped files drop out of both arrays and are
    listed in the returned meta dict under ``skipped``.
    """
    arrays: dict[str, np.ndarray] = {}
    skipped: list[str] = []
    for split, (files, labels) in groups.items():
        images, bad = decode_images(files, size, color=color, skip_bad=skip_bad, desc=f"decoding {split}")
        bad_set = set(bad)
        keep = np.asarray([str(f) not in bad_set for f in files], dtype=bool)
        arrays[f"{split}_images"] = images
        arrays[f"{split}_labels"] = np.asarray(labels, dtype=np.int64)[keep]
        skipped += bad
    return arrays, {"skipped": skipped}


def warn_skipped(skipped: Sequence[str]) -> None:
    if skipped:
        warnings.warn(
            f"skipped {len(skipped)} unreadable image file(s), first: {skipped[0]}", UserWarning, stacklevel=2
        )
