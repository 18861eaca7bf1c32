"""Decode labelled image files of three splits once, cache them, and wrap them as ``ClassificationData``.

Shared by the file-based readers (TinyImageNet, image folders); the cache key and layout are
``v1mtl.data.images.cache``'s.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from v1mtl.data.images.cache import load_or_build
from v1mtl.data.images.decode import decode_groups, warn_skipped
from v1mtl.data.images.types import DEFAULT_SPLIT_SEED, VAL_FRACTION, ClassificationData, ImageSplit

Groups = dict[str, tuple[list[Path], np.ndarray]]


@dataclass(frozen=True)
class ReadOptions:
    """How a file-based reader decodes and splits a set (the arguments of ``load_classification``).

    Attributes:
        size: image side in pixels.
        seed: the validation-split seed.
        val_fraction: the share of train held out for validation where the set has no validation split.
        cache_dir: where decoded arrays are cached (None: ``$V1MTL_CACHE`` or ``~/.cache/v1mtl``).
        skip_bad: skip unreadable files with a warning instead of failing.
        color: keep RGB ``(n, h, w, 3)`` instead of gray.
        max_image_side: the largest side an image file may declare (None: ``limits.MAX_IMAGE_SIDE``).
    """

    size: int = 64
    seed: int = DEFAULT_SPLIT_SEED
    val_fraction: float = VAL_FRACTION
    cache_dir: str | Path | None = None
    skip_bad: bool = False
    color: bool = False
    max_image_side: int | None = None


def load_cached_splits(
    kind: str,
    root: Path,
    groups: Groups,
    files: Sequence[Path],
    opts: ReadOptions,
    *,
    class_names: list[str],
    class_ids: list[str],
) -> ClassificationData:
    """``groups`` maps ``train``/``val``/``test`` to (files, labels ``(n,)``); ``files`` are all source files
    (their sizes and mtimes join ``kind`` and the options that change the arrays in the cache key)."""
    params = {"root": str(root), "size": opts.size, "seed": opts.seed, "val_fraction": opts.val_fraction}
    params["color"] = opts.color
    arrays, meta = load_or_build(
        kind,
        params,
        files,
        lambda: decode_groups(
            groups, opts.size, color=opts.color, skip_bad=opts.skip_bad, max_side=opts.max_image_side
        ),
        opts.cache_dir,
    )
    if meta["skipped"]:
        warn_skipped(meta["skipped"])
    return ClassificationData(
        train=ImageSplit(arrays["train_images"], arrays["train_labels"]),
        val=ImageSplit(arrays["val_images"], arrays["val_labels"]),
        test=ImageSplit(arrays["test_images"], arrays["test_labels"]),
        class_names=class_names,
        image_size=opts.size,
        source=kind,
        root=str(root),
        class_ids=class_ids,
        skipped=list(meta["skipped"]),
    )
