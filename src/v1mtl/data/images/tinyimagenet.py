"""TinyImageNet-200 reader with the paper's protocol.

Layout (cs231n.stanford.edu/tiny-imagenet-200.zip): ``wnids.txt``, ``words.txt``,
``train/<wnid>/images/*.JPEG``, ``val/images/*.JPEG`` + ``val/val_annotations.txt`` (tab-separated:
file, wnid, box). Protocol (neural_cotraining ``img_classification_loader.py``): a seeded 10% of train
is the validation split, the official
val set is the test split. Class indices follow the sorted wnids, which is the order torchvision's
``ImageFolder`` gives the reference; the same order labels Tiny-ImageNet-C.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from v1mtl.common.errors import InputError
from v1mtl.data.images.cached_splits import ReadOptions, load_cached_splits
from v1mtl.data.images.decode import is_image_file, list_images
from v1mtl.data.images.types import ClassificationData, split_seeded


@dataclass
class TinyImageNetFiles:
    """The file lists of a TinyImageNet root. Labels index ``wnids``."""

    wnids: list[str]
    names: list[str]
    train_files: list[Path]
    train_labels: np.ndarray
    test_files: list[Path]
    test_labels: np.ndarray


def is_tinyimagenet(root: Path) -> bool:
    return (root / "wnids.txt").is_file() and (root / "train").is_dir()


def read_wnids(root: Path) -> list[str]:
    path = root / "wnids.txt"
    wnids = [line.strip() for line in path.read_text().splitlines() if line.strip()]
    if not wnids:
        raise InputError("lists no classes", path=path)
    if len(set(wnids)) != len(wnids):
        raise InputError("lists a class twice", path=path)
    return sorted(wnids)


def read_class_names(root: Path, wnids: list[str]) -> list[str]:
    """The first synonym of each wnid in ``words.txt`` (``n01443537\\tgoldfish, Carassius auratus``)."""
    path = root / "words.txt"
    if not path.is_file():
        raise InputError("missing: TinyImageNet's class names file words.txt", path=path)
    words = {}
    for line in path.read_text().splitlines():
        wnid, _, text = line.partition("\t")
        words[wnid.strip()] = text.split(",")[0].strip()
    missing = [w for w in wnids if w not in words]
    if missing:
        raise InputError(f"no class name for {len(missing)} wnid(s), e.g. {missing[0]}", path=path)
    return [words[w] for w in wnids]


def list_tinyimagenet(root: str | Path) -> TinyImageNetFiles:
    """List and check every file of a TinyImageNet root; errors name the offending file or folder."""
    root = Path(root)
    wnids = read_wnids(root)
    names = read_class_names(root, wnids)
    index = {w: i for i, w in enumerate(wnids)}
    train_files: list[Path] = []
    train_labels: list[int] = []
    for wnid in wnids:
        folder = root / "train" / wnid / "images"
        if not folder.is_dir():
            raise InputError("missing training folder of a class listed in wnids.txt", path=folder)
        files = list_images(folder)
        if not files:
            raise InputError("empty class folder: no images", path=folder)
        train_files += files
        train_labels += [index[wnid]] * len(files)
    test_files, test_labels = _read_val(root, index)
    return TinyImageNetFiles(
        wnids=wnids,
        names=names,
        train_files=train_files,
        train_labels=np.asarray(train_labels, dtype=np.int64),
        test_files=test_files,
        test_labels=np.asarray(test_labels, dtype=np.int64),
    )


def _read_val(root: Path, index: dict[str, int]) -> tuple[list[Path], list[int]]:
    ann = root / "val" / "val_annotations.txt"
    if not ann.is_file():
        raise InputError("missing annotation file of the val set (val/val_annotations.txt)", path=ann)
    files, labels = [], []
    for lineno, line in enumerate(ann.read_text().splitlines(), start=1):
        if not line.strip():
            continue
        parts = line.split("\t")
        if len(parts) < 2:
            raise InputError(f"line {lineno}: expected 'file<TAB>wnid<TAB>box', got {line!r}", path=ann)
        name, wnid = parts[0].strip(), parts[1].strip()
        if wnid not in index:
            raise InputError(
                f"line {lineno}: class {wnid} of {name} is in val but not in train (wnids.txt)", path=ann
            )
        path = root / "val" / "images" / name
        if not path.is_file() or not is_image_file(path):
            raise InputError(f"line {lineno}: annotated image file not found: {path}", path=ann)
        files.append(path)
        labels.append(index[wnid])
    if not files:
        raise InputError("annotates no images", path=ann)
    order = sorted(range(len(files)), key=lambda i: files[i])
    return [files[i] for i in order], [labels[i] for i in order]


def load_tinyimagenet(root: str | Path, opts: ReadOptions) -> ClassificationData:
    """TinyImageNet-200 as train (90%), val (seeded 10% of train) and test (official val), cached."""
    root = Path(root).resolve()
    listing = list_tinyimagenet(root)
    keep, held = split_seeded(len(listing.train_files), opts.val_fraction, opts.seed)
    groups = {
        "train": ([listing.train_files[i] for i in keep], listing.train_labels[keep]),
        "val": ([listing.train_files[i] for i in held], listing.train_labels[held]),
        "test": (listing.test_files, listing.test_labels),
    }
    files = listing.train_files + listing.test_files
    return load_cached_splits(
        "tinyimagenet", root, groups, files, opts, class_names=listing.names, class_ids=listing.wnids
    )
