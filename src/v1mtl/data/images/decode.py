"""Decode image files into fixed-size uint8 arrays (gray with PIL's luma weights, or RGB), in parallel.

PIL releases the GIL while decoding, so a thread pool scales on the available cores.

Decoding is strict, so that a damaged file is an error and never silently altered pixels:

- the declared width and height are checked against ``limits.MAX_IMAGE_SIDE`` on the header, before any
  pixel is decoded;
- PIL's ``ImageFile.LOAD_TRUNCATED_IMAGES`` must be off (a truncated file then raises instead of being
  filled in); decoding refuses to run when something in the process turned it on;
- a warning PIL gives while decoding (a TIFF tag cut short, an invalid APNG, ...) is an error for that
  file; PIL's decompression-bomb warning is silenced instead, because the side limit is the guard;
- a PNG whose pixel data is shorter than its header declares (which PIL zero-fills) or longer (which it
  decodes as shifted rows) is an error (``png``), and so is a JPEG too short to hold the image its header
  declares (which libjpeg fills in; ``jpeg``).
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageFile
from tqdm import tqdm

from v1mtl.common.errors import InputError
from v1mtl.data.images.checks import check_name, one_line, resolve_inside
from v1mtl.data.images.gray import rgb_to_gray_np
from v1mtl.data.images.jpeg import jpeg_can_hold_header
from v1mtl.data.images.limits import max_image_side
from v1mtl.data.images.png import png_data_matches_header

IMAGE_EXTENSIONS = frozenset(
    {".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".ppm", ".pgm"}
)

# Format -> a check that the file's data can be the image its header declares (MPO: a JPEG with more frames).
DATA_CHECKS = {"PNG": png_data_matches_header, "JPEG": jpeg_can_hold_header, "MPO": jpeg_can_hold_header}
# What PIL raises for a file it cannot decode; Warning: a PIL warning turned into an error (strict_decoding).
PIL_ERRORS = (OSError, ValueError, EOFError, Image.DecompressionBombError, Warning)


class UnreadableImageError(InputError):
    """A file that PIL cannot decode (truncated, corrupt, not an image): the kind ``skip_bad`` skips."""


def is_image_file(path: Path) -> bool:
    return path.suffix.lower() in IMAGE_EXTENSIONS


def list_images(folder: Path, root: Path | None = None) -> list[Path]:
    """Image files anywhere under ``folder``, sorted by path (torchvision ``ImageFolder`` order).

    Returns real paths (links followed). Every name below ``folder`` must be printable UTF-8 and every
    file must lie inside ``root`` (default: ``folder``), which is a real path; subfolders that are links
    are not entered.
    """
    root = folder.resolve() if root is None else root
    real_folder = resolve_inside(folder, root)
    try:
        found = sorted(p for p in real_folder.rglob("*") if p.is_file() and is_image_file(p))
    except OSError as err:
        raise InputError(f"cannot list the folder: {one_line(err)}", path=folder) from err
    for p in found:
        check_name(p, real_folder)
    return [resolve_inside(p, root) if p.is_symlink() else p for p in found]


@contextmanager
def strict_decoding() -> Iterator[None]:
    """Make PIL's warnings errors while decoding (see the module docstring).

    The warning filters are process-wide, so this is entered once around a whole batch of files (by the
    thread that starts the decoding threads), never inside the threads.
    """
    if ImageFile.LOAD_TRUNCATED_IMAGES:
        raise RuntimeError(
            "PIL.ImageFile.LOAD_TRUNCATED_IMAGES is on, so truncated images would decode as filled-in "
            "pixels; turn it off before loading a dataset"
        )
    with warnings.catch_warnings():
        warnings.filterwarnings("error", module=r"PIL\.")
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        yield


def decode_image(
    path: str | Path, size: int, color: bool = False, *, max_side: int | None = None
) -> np.ndarray:
    """One file -> ``(size, size)`` uint8 gray (or ``(size, size, 3)`` RGB), decoded strictly.

    Gray uses PIL's luma weights (``v1mtl.data.images.gray``). Non-square or larger images are center-cropped to
    a square and resized with PIL's antialiased bilinear filter; images smaller than ``size`` are an error,
    and so are images declaring a side over ``max_side`` (default ``limits.MAX_IMAGE_SIDE``).
    """
    with strict_decoding():
        return _decode(Path(path), size, color, max_image_side(max_side))


def _decode(path: Path, size: int, color: bool, max_side: int) -> np.ndarray:
    """``decode_image`` without entering ``strict_decoding`` (the caller has)."""
    with _open(path) as im:
        _check_declared_size(path, im.size, size, max_side)
        _check_data_fits_header(path, im.format)
        img = _pixels(im, path, color)
    w, h = img.size
    if not color and img.mode != "L":
        gray = np.clip(np.rint(rgb_to_gray_np(np.asarray(img))), 0, 255).astype(np.uint8)
        img = Image.fromarray(gray, mode="L")
    if (w, h) != (size, size):
        side = min(w, h)
        left, top = (w - side) // 2, (h - side) // 2
        img = img.crop((left, top, left + side, top + side)).resize((size, size), Image.Resampling.BILINEAR)
    return np.asarray(img, dtype=np.uint8)


def _open(path: Path) -> Image.Image:
    """Open ``path`` lazily: PIL reads the header only."""
    try:
        return Image.open(path)
    except PIL_ERRORS as err:
        raise UnreadableImageError(f"cannot read image: {one_line(err)}", path=path) from err


def header(path: Path, max_side: int | None = None) -> tuple[tuple[int, int], str]:
    """``((width, height), mode)`` from the header of ``path``, without decoding pixels; a file PIL
    cannot open, or a side over ``max_side`` (default ``limits.MAX_IMAGE_SIDE``), is an error."""
    with strict_decoding(), _open(path) as im:
        _check_declared_size(path, im.size, 1, max_image_side(max_side))
        return im.size, im.mode


def _check_declared_size(path: Path, declared: tuple[int, int], size: int, max_side: int) -> None:
    """The header's size, before any pixel is decoded: at most ``max_side`` and at least ``size``."""
    w, h = declared
    if max(w, h) > max_side:
        raise UnreadableImageError(
            f"the file declares {w}x{h} px, over the limit of {max_side} px per side "
            "(raise it with v1mtl --max-image-side N, or max_image_side=)",
            path=path,
        )
    if min(w, h) < size:
        raise InputError(f"image is {w}x{h} px, smaller than the requested size {size}", path=path)


def _check_data_fits_header(path: Path, fmt: str | None) -> None:
    """The PNG and JPEG data checks of ``png`` and ``jpeg``: data that cannot be the image the header
    declares, which PIL would fill in, is an error."""
    check = DATA_CHECKS.get(fmt or "")
    if check is None:
        return
    try:
        with open(path, "rb") as fh:
            fits = check(fh)
    except OSError as err:
        raise UnreadableImageError(f"cannot read image: {one_line(err)}", path=path) from err
    if not fits:
        raise UnreadableImageError(
            f"the {fmt} data does not fit the size its header declares (truncated or damaged)", path=path
        )


def _pixels(im: Image.Image, path: Path, color: bool) -> Image.Image:
    """Decode the opened ``im``: RGB, or L as stored when ``color`` is off."""
    try:
        im.load()
        return im.convert("RGB") if (color or im.mode != "L") else im.copy()
    except PIL_ERRORS as err:
        raise UnreadableImageError(f"cannot read image: {one_line(err)}", path=path) from err


def decode_images(
    paths: Sequence[Path],
    size: int,
    *,
    color: bool = False,
    skip_bad: bool = False,
    desc: str = "decoding",
    max_side: int | None = None,
) -> tuple[np.ndarray, list[str]]:
    """Decode many files in parallel, strictly (``decode_image``).

    Returns ``(images, skipped)``: ``(n_ok, size, size)`` uint8 (``(..., 3)`` with ``color``) in the order
    of ``paths`` minus the skipped files, and the skipped paths (empty unless ``skip_bad``).
    """
    limit = max_image_side(max_side)
    shape = (len(paths), size, size, 3) if color else (len(paths), size, size)
    out = np.empty(shape, dtype=np.uint8)
    ok = np.ones(len(paths), dtype=bool)

    def work(i: int) -> None:
        try:
            out[i] = _decode(Path(paths[i]), size, color, limit)
        except UnreadableImageError:
            if not skip_bad:
                raise
            ok[i] = False

    workers = min(8, os.cpu_count() or 1)
    with strict_decoding(), ThreadPoolExecutor(max_workers=workers) as pool:
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
    groups: dict[str, tuple[Sequence[Path], np.ndarray]],
    size: int,
    *,
    color: bool,
    skip_bad: bool,
    max_side: int | None = None,
) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Decode the files of each split into ``<split>_images`` / ``<split>_labels`` arrays for the cache.

    ``groups`` maps a split name to ``(files, labels)``; skipped files drop out of both arrays and are
    listed in the returned meta dict under ``skipped``.
    """
    arrays: dict[str, np.ndarray] = {}
    skipped: list[str] = []
    for split, (files, labels) in groups.items():
        images, bad = decode_images(
            files, size, color=color, skip_bad=skip_bad, desc=f"decoding {split}", max_side=max_side
        )
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
