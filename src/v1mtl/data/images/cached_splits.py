"""Decode labelled image files of three splits once, cache them, and wrap them as ``ClassificationData``.

Shared by the file-based readers (TinyImageNet, image folders); the cache key and layout are
``v1mtl.data.images.cache``'s.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from v1mtl.data.images.cache import load_or_build
from v1mtl.data.images.decode import decode_groups, warn_skipped
from v1mtl.data.images.types import ClassificationData, ImageSplit

Groups = dict[str, tuple[list[Path], np.ndarray]]


def load_cached_splits(
    kind: str,
    root: Path,
    groups: Groups,
    *,
    params: dict[str, Any],
    files: Sequence[Path],
    size: int,
    color: bool,
    skip_bad: bool,
    cache_dir: str | Path | None,
    class_names: list[str],
    class_ids: list[str],
) -> ClassificationData:
    """``groups`` maps ``train``/``val``/``test`` to (files, labels ``(n,)``); ``files`` are all source files
    (their sizes and mtimes join ``kind`` and ``params`` in the cache key)."""
    arrays, meta = load_or_build(
        kind, params, files, lambda: decode_groups(groups, size, color=color, skip_bad=skip_bad), cache_dir
    )
    if meta["skipped"]:
        warn_skipped(meta["skipped"])
    return ClassificationData(
        train=ImageSplit(arrays["train_images"], arrays["train_labels"]),
        val=ImageSplit(arrays["val_images"], arrays["val_labels"]),
        test=ImageSplit(arrays["test_images"], arrays["test_labels"]),
        class_names=class_names,
        image_size=size,
        source=kind,
        root=str(root),
        class_ids=class_ids,
        skipped=list(meta["skipped"]),
    )
