"""Generic image-folder reader: ``root/<class>/*.{jpg,png,...}``, optionally split into subfolders.

With split subfolders (``root/train/<class>/...`` plus any of ``val`` / ``valid`` / ``validation`` and
``test``), the classes are the folders of ``train``; every split that is missing is carved out of train
as a seeded share (``val_fraction``, the reference's 10%), val first, then test. Without split subfolders
both val and test are carved out of the whole set that way. Class indices follow the sorted class folder
names, as in torchvision's ``ImageFolder``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from v1mtl.common.errors import InputError
from v1mtl.data.images.cached_splits import ReadOptions, load_cached_splits
from v1mtl.data.images.checks import check_unique, list_folders, resolve_inside
from v1mtl.data.images.decode import is_image_file, list_images
from v1mtl.data.images.types import ClassificationData, split_seeded

SPLIT_FOLDERS = {"train": ("train",), "val": ("val", "valid", "validation"), "test": ("test",)}


def split_folders(root: Path) -> dict[str, Path]:
    """The split subfolders present under ``root`` (empty when the root holds class folders directly)."""
    found = {}
    if (root / "train").is_dir():
        for split, names in SPLIT_FOLDERS.items():
            for name in names:
                if (root / name).is_dir():
                    found[split] = root / name
                    break
    return found


def looks_like_image_folder(root: Path) -> bool:
    """True if ``root`` (or its ``train`` folder) holds class folders with at least one image file."""
    base = split_folders(root).get("train", root)
    try:
        for cls in base.iterdir():
            if cls.is_dir() and not cls.name.startswith("."):
                if any(p.is_file() and is_image_file(p) for p in cls.rglob("*")):
                    return True
    except OSError:  # a predicate: an unreadable folder is simply not an image folder
        return False
    return False


def list_split(
    folder: Path, classes: list[str] | None, root: Path | None = None
) -> tuple[list[str], list[Path], np.ndarray]:
    """``(class names, files, labels)`` of one split folder. ``classes`` fixes the class list (from train).

    Files are real paths inside ``root`` (default: ``folder``), a real path.
    """
    root = folder.resolve() if root is None else root
    found = list_folders(resolve_inside(folder, root), root)
    if not found:
        raise InputError("no class folders (expected <class>/<image files>)", path=folder)
    if classes is None:
        classes = list(found)
    else:
        extra = sorted(set(found) - set(classes))
        if extra:
            raise InputError(
                f"class folder {extra[0]!r} is not a class of the training split", path=folder / extra[0]
            )
    index = {c: i for i, c in enumerate(classes)}
    files: list[Path] = []
    labels: list[int] = []
    for name, real in found.items():
        images = list_images(real, root)
        if not images:
            raise InputError("empty class folder: no image files", path=folder / name)
        files += images
        labels += [index[name]] * len(images)
    return classes, files, np.asarray(labels, dtype=np.int64)


def list_image_folder(
    root: str | Path, *, seed: int = 1000, val_fraction: float = 0.1
) -> tuple[list[str], dict[str, tuple[list[Path], np.ndarray]]]:
    """``(class names, {split: (files, labels)})`` with missing splits carved out of train.

    Files are real paths inside the (resolved) root, none listed twice.
    """
    root = Path(root).resolve()
    folders = split_folders(root)
    classes, train_files, train_labels = list_split(folders.get("train", root), None, root)
    groups = {"train": (train_files, train_labels)}
    for split in ("val", "test"):
        if split in folders:
            _, files, labels = list_split(folders[split], classes, root)
            groups[split] = (files, labels)
    check_unique(f for files, _ in groups.values() for f in files)
    for split in ("val", "test"):
        if split not in groups:
            files, labels = groups["train"]
            # A different seed per carved split keeps val and test draws independent of each other.
            keep, held = split_seeded(len(files), val_fraction, seed + (split == "test"))
            if len(held) == 0:
                raise InputError(
                    f"too few images to hold out a {split} split ({len(files)} training images)", path=root
                )
            groups["train"] = ([files[i] for i in keep], labels[keep])
            groups[split] = ([files[i] for i in held], labels[held])
    return classes, groups


def load_image_folder(root: str | Path, opts: ReadOptions) -> ClassificationData:
    """An image folder as train / val / test, decoded once and cached."""
    root = Path(root).resolve()
    classes, groups = list_image_folder(root, seed=opts.seed, val_fraction=opts.val_fraction)
    files = [f for split in ("train", "val", "test") for f in groups[split][0]]
    return load_cached_splits(
        "imagefolder", root, groups, files, opts, class_names=list(classes), class_ids=list(classes)
    )
