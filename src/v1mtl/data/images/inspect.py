"""``v1mtl data inspect`` for image datasets: detect the layout and summarize it without decoding it all.

Counts come from the file lists (the same ones the readers use, so the checks and errors are the same);
``image_size`` and ``channels`` describe the files as stored (the first image of each split is opened).
Loading converts to gray, so a loaded set always has one channel.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from v1mtl.common.errors import InputError

_CHANNELS = {
    "1": 1,
    "L": 1,
    "I": 1,
    "F": 1,
    "I;16": 1,
    "P": 3,
    "RGB": 3,
    "YCbCr": 3,
    "CMYK": 4,
    "RGBA": 4,
    "LA": 2,
}


def detect_image_format(path: str | Path) -> str | None:
    """``builtin``, ``tinyimagenet``, ``tiny-imagenet-c``, ``imagefolder``, or None if none fits."""
    from v1mtl.data.images.imagefolder import looks_like_image_folder
    from v1mtl.data.images.tinyimagenet import is_tinyimagenet
    from v1mtl.data.images.tinyimagenet_c import is_tinyimagenet_c

    if str(path) == "builtin":
        return "builtin"
    root = Path(path)
    if not root.is_dir():
        return None
    if is_tinyimagenet(root):
        return "tinyimagenet"
    if is_tinyimagenet_c(root):
        return "tiny-imagenet-c"
    if looks_like_image_folder(root):
        return "imagefolder"
    return None


def inspect_images(path: str | Path, fmt: str) -> dict[str, Any]:
    """JSON-ready summary: format, n_classes, per-split counts, image_size, channels (+ format details)."""
    if fmt == "builtin":
        return _inspect_builtin()
    root = Path(path)
    if not root.is_dir():
        raise InputError("not a folder", path=root)
    if fmt == "tinyimagenet":
        return _inspect_tinyimagenet(root)
    if fmt == "imagefolder":
        return _inspect_image_folder(root)
    if fmt == "tiny-imagenet-c":
        return _inspect_tinyimagenet_c(root)
    raise InputError(f"unknown image format {fmt!r}", path=root)


def _probe(files: list[Path]) -> tuple[int | list[int], int]:
    """``(image size, channels)`` of the first file's header: an int side if square, else ``[width,
    height]``. The header is read as decoding reads it (``decode.header``): a side over the limit, or a
    file PIL cannot open, is an error."""
    from v1mtl.data.images.decode import header

    (w, h), mode = header(files[0])
    return (w if w == h else [w, h]), _CHANNELS.get(mode, 3)


def _summary(fmt: str, root: Path, classes: list[str], splits: dict[str, list[Path]]) -> dict[str, Any]:
    size, channels = _probe(next(files for files in splits.values() if files))
    return {
        "format": fmt,
        "path": str(root),
        "n_classes": len(classes),
        "splits": {name: len(files) for name, files in splits.items()},
        "image_size": size,
        "channels": channels,
        "loaded_as": "gray uint8, 1 channel",
    }


def _inspect_builtin() -> dict[str, Any]:
    from v1mtl.data.images.builtin import CLASS_NAMES, GENERATOR_VERSION
    from v1mtl.data.images.types import BUILTIN_COUNTS

    return {
        "format": "builtin",
        "path": "builtin",
        "n_classes": len(CLASS_NAMES),
        "class_names": CLASS_NAMES,
        "splits": dict(zip(("train", "val", "test"), BUILTIN_COUNTS, strict=True)),
        "image_size": 64,
        "sizes_available": [32, 64],
        "channels": 1,
        "loaded_as": "gray uint8, 1 channel",
        "generator_version": GENERATOR_VERSION,
    }


def _inspect_tinyimagenet(root: Path) -> dict[str, Any]:
    from v1mtl.data.images.tinyimagenet import list_tinyimagenet
    from v1mtl.data.images.types import VAL_FRACTION, split_seeded

    listing = list_tinyimagenet(root)
    keep, held = split_seeded(len(listing.train_files), VAL_FRACTION, 1000)
    out = _summary(
        "tinyimagenet",
        root,
        listing.wnids,
        {
            "train": [listing.train_files[i] for i in keep],
            "val": [listing.train_files[i] for i in held],
            "test": listing.test_files,
        },
    )
    out["protocol"] = "val = seeded 10% of train/ (seed 1000), test = official val/"
    return out


def _inspect_image_folder(root: Path) -> dict[str, Any]:
    from v1mtl.data.images.imagefolder import list_image_folder, split_folders

    classes, groups = list_image_folder(root)
    out = _summary("imagefolder", root, classes, {s: groups[s][0] for s in ("train", "val", "test")})
    out["split_folders"] = sorted(split_folders(root))
    out["class_names"] = classes
    return out


def _inspect_tinyimagenet_c(root: Path) -> dict[str, Any]:
    from v1mtl.data.images.tinyimagenet_c import class_folder_names, list_corrupted_set, list_tinyimagenet_c

    root = root.resolve()
    folders = list_tinyimagenet_c(root)
    wnids = class_folder_names(folders.values(), root)
    splits = {f"{c}/{s}": list_corrupted_set(folder, wnids, root)[0] for (c, s), folder in folders.items()}
    out = _summary("tiny-imagenet-c", root, wnids, splits)
    out["corruptions"] = sorted({c for c, _ in folders})
    out["severities"] = sorted({s for _, s in folders})
    return out
