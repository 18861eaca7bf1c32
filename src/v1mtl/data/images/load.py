"""The entry point to classification sets: ``load_classification`` (Tiny-ImageNet-C, test-only, is
``v1mtl.data.images.tinyimagenet_c.TinyImageNetC``).

``load_classification`` detects the format of a folder (TinyImageNet-200, an image folder) or takes
``"builtin"`` and hands it to its reader; every reader returns a ``ClassificationData`` (``types``).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from v1mtl.common.errors import InputError
from v1mtl.data.images.cached_splits import ReadOptions
from v1mtl.data.images.types import (
    BUILTIN_COUNTS,
    DEFAULT_SPLIT_SEED,
    VAL_FRACTION,
    ClassificationData,
    ImageSplit,
)


def load_classification(
    source: str | Path,
    *,
    size: int = 64,
    seed: int = DEFAULT_SPLIT_SEED,
    cache_dir: str | Path | None = None,
    skip_bad: bool = False,
    builtin_counts: Sequence[int] = BUILTIN_COUNTS,
    val_fraction: float = VAL_FRACTION,
    color: bool = False,
    max_image_side: int | None = None,
) -> ClassificationData:
    """Load a classification set, decoding it once into a memory-mapped cache.

    Args:
        source: ``"builtin"`` for the built-in set, or a TinyImageNet-200 root or image folder (auto-detected).
        size: image side in pixels; larger images are center-cropped to a square and resized, smaller ones
            are an error.
        seed: the validation-split seed (1000 as in the reference); for ``builtin`` the generation seed.
        cache_dir: where decoded arrays are cached (default ``$V1MTL_CACHE`` or ``~/.cache/v1mtl``).
        skip_bad: skip unreadable image files with a warning instead of failing.
        builtin_counts: ``(train, val, test)`` image counts of the built-in set.
        val_fraction: the share of train held out for validation where the dataset has no validation split.
        color: keep RGB, ``(n, h, w, 3)``, instead of gray (not for ``builtin``, which is gray by design).
        max_image_side: the largest width or height an image file may declare, checked before decoding
            (default ``v1mtl.data.images.limits.MAX_IMAGE_SIDE``, 8192).
    """
    if str(source) == "builtin":
        from v1mtl.data.images.builtin import make_builtin

        data = make_builtin(size=size, counts=tuple(builtin_counts), seed=seed, cache_dir=cache_dir)
        if color:
            for name in ("train", "val", "test"):
                s = data.split(name)
                setattr(data, name, ImageSplit(np.repeat(s.images[..., None], 3, axis=-1), s.labels))
        return data
    from v1mtl.data.images.inspect import detect_image_format

    root = Path(source)
    if not root.exists():
        raise InputError("no such file or folder", path=root)
    fmt = detect_image_format(root)
    opts = ReadOptions(
        size=size,
        seed=seed,
        val_fraction=val_fraction,
        cache_dir=cache_dir,
        skip_bad=skip_bad,
        color=color,
        max_image_side=max_image_side,
    )
    if fmt == "tinyimagenet":
        from v1mtl.data.images.tinyimagenet import load_tinyimagenet

        return load_tinyimagenet(root, opts)
    if fmt == "imagefolder":
        from v1mtl.data.images.imagefolder import load_image_folder

        return load_image_folder(root, opts)
    if fmt == "tiny-imagenet-c":
        raise InputError(
            "this is a Tiny-ImageNet-C folder, a test-only set; load it with TinyImageNetC", path=root
        )
    raise InputError(
        "not a classification dataset (expected TinyImageNet-200 with wnids.txt and train/, or an image "
        "folder root/<class>/*.png, optionally split into train/ val/ test/)",
        path=root,
    )
