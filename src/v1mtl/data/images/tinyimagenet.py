"""TinyImageNet-200 reader with the paper's protocol.

Layout (cs231n.stanford.edu/tiny-imagenet-200.zip): ``wnids.txt``, ``words.txt``,
``train/<wnid>/images/*.JPEG``, ``val/images/*.JPEG`` + ``val/val_annotations.txt`` (tab-separated:
file, wnid, box). Protocol (neural_cotraining ``img_classification_loader.py``): a seeded 10% of train
is the validation split, the official
val set is the test split. Class indices follow the sorted wnids, which is the order torchvision's
``ImageFolder`` gives the reference; the same order labels Tiny-ImageNet-C.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from v1mtl.common.errors import InputError
from v1mtl.data.images.cached_splits import ReadOptions, load_cached_splits
from v1mtl.data.images.checks import check_component, check_relative, check_unique, read_lines, resolve_inside
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
    """The sorted class ids of ``wnids.txt``: one plain folder name per line, each once."""
    path = root / "wnids.txt"
    wnids = []
    for lineno, line in enumerate(read_lines(path), start=1):
        wnid = line.strip()
        if wnid:
            check_component(wnid, path, f"line {lineno}")
            wnids.append(wnid)
    if not wnids:
        raise InputError("lists no classes", path=path)
    twice = sorted(w for w, n in Counter(wnids).items() if n > 1)
    if twice:
        raise InputError(f"lists the class {twice[0]} twice", path=path)
    return sorted(wnids)


def read_class_names(root: Path, wnids: list[str]) -> list[str]:
    """The first synonym of each wnid in ``words.txt`` (``n01443537\\tgoldfish, Carassius auratus``)."""
    path = root / "words.txt"
    if not path.is_file():
        raise InputError("missing: TinyImageNet's class names file words.txt", path=path)
    words = {}
    for line in read_lines(path):
        wnid, _, text = line.partition("\t")
        words[wnid.strip()] = text.split(",")[0].strip()
    missing = [w for w in wnids if not words.get(w)]
    if missing:
        raise InputError(f"no class name for {len(missing)} wnid(s), e.g. {missing[0]}", path=path)
    unprintable = [w for w in wnids if not words[w].isprintable()]
    if unprintable:
        raise InputError(f"the class name of {unprintable[0]} is not printable", path=path)
    return [words[w] for w in wnids]


def list_tinyimagenet(root: str | Path) -> TinyImageNetFiles:
    """List and check every file of a TinyImageNet root; errors name the offending file or folder.

    Files come back as real paths inside the (resolved) root, and no file is both a training and a test
    image.
    """
    root = Path(root).resolve()
    wnids = read_wnids(root)
    index = {w: i for i, w in enumerate(wnids)}
    train_files: list[Path] = []
    train_labels: list[int] = []
    for wnid in wnids:
        folder = root / "train" / wnid / "images"
        if not folder.is_dir():
            raise InputError(f"missing: the training folder of {wnid}, a class wnids.txt lists", path=folder)
        files = list_images(folder, root)
        if not files:
            raise InputError("empty class folder: no images", path=folder)
        train_files += files
        train_labels += [index[wnid]] * len(files)
    # after the folders: a wnid with neither a folder nor a name is reported as a bad line of wnids.txt
    names = read_class_names(root, wnids)
    test_files, test_labels = _read_val(root, index)
    check_unique(train_files + test_files)
    return TinyImageNetFiles(
        wnids=wnids,
        names=names,
        train_files=train_files,
        train_labels=np.asarray(train_labels, dtype=np.int64),
        test_files=test_files,
        test_labels=np.asarray(test_labels, dtype=np.int64),
    )


def _read_val(root: Path, index: dict[str, int]) -> tuple[list[Path], list[int]]:
    """Files and labels of ``val/val_annotations.txt`` (``file<TAB>wnid<TAB>box``), sorted by file."""
    ann = root / "val" / "val_annotations.txt"
    if not ann.is_file():
        raise InputError("missing annotation file of the val set (val/val_annotations.txt)", path=ann)
    images = root / "val" / "images"
    files, labels = [], []
    seen: set[str] = set()
    for lineno, line in enumerate(read_lines(ann), start=1):
        if not line.strip():
            continue
        parts = line.split("\t")
        if len(parts) < 2:
            raise InputError(f"line {lineno}: expected 'file<TAB>wnid<TAB>box', got {ascii(line)}", path=ann)
        name, wnid = parts[0].strip(), parts[1].strip()
        check_relative(name, ann, f"line {lineno}")
        if name in seen:
            raise InputError(f"line {lineno}: {name} is annotated twice", path=ann)
        seen.add(name)
        if wnid not in index:
            raise InputError(
                f"line {lineno}: class {ascii(wnid)} of {name} is in val but not in train (wnids.txt)",
                path=ann,
            )
        path = images / name
        if not path.is_file() or not is_image_file(path):
            raise InputError(f"line {lineno}: annotated image file not found: {path}", path=ann)
        files.append(resolve_inside(path, root))
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
