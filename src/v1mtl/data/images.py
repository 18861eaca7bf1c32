"""Classification image datasets: the shared types and one entry point, ``load_classification``.

Every reader (TinyImageNet-200, a generic image folder, the built-in set) returns a ``ClassificationData``
whose splits hold grayscale uint8 images, memory-mapped from a decode-once cache. Tiny-ImageNet-C, which is
a test-only set of many corrupted copies, has its own entry point ``load_tinyimagenet_c``.

Images are stored gray because the paper trains on grayscale TinyImageNet (nntransfer_recipes,
``apply_grayscale=True``). Corrupting an image and converting it to gray do not commute: the paper corrupts
the RGB image first (neural_cotraining ``img_classification_loader.py``, ``fly_c_test``). Pre-rendered
Tiny-ImageNet-C files are already corrupted RGB,
so decoding them straight to gray follows that order; code that corrupts images itself and wants RGB
inputs passes ``color=True`` to get ``(n, h, w, 3)`` uint8 images instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from v1mtl.errors import InputError

# TinyImageNet grayscale statistics used by the reference for every grayscale run:
# ``Normalize(mean=0.4519, std=0.2221)`` in sinzlab/neural_cotraining ``configs/dataset.py``.
TIN_GRAY_MEAN = 0.4519
TIN_GRAY_STD = 0.2221

# The reference holds out a seeded 10% of the training images for validation
# (neural_cotraining ``img_classification_loader.py``).
VAL_FRACTION = 0.1
DEFAULT_SPLIT_SEED = 1000
BUILTIN_COUNTS = (20000, 2000, 5000)

IMAGE_FORMATS = ("tinyimagenet", "imagefolder", "tiny-imagenet-c", "builtin")


@dataclass
class ImageSplit:
    """One split of a classification set.

    Attributes:
        images: ``(n, height, width)`` uint8 gray images (or ``(n, height, width, 3)`` with ``color=True``);
            usually a read-only memory map of the cache.
        labels: ``(n,)`` int64 class indices into ``ClassificationData.class_names``.
    """

    images: np.ndarray
    labels: np.ndarray

    def __len__(self) -> int:
        return int(self.labels.shape[0])


@dataclass
class ClassificationData:
    """A classification set with the paper's three splits.

    Attributes:
        train, val, test: the splits (for TinyImageNet: 90% of train, a seeded 10% of train, official val).
        class_names: human-readable class names, index = label.
        image_size: side of the square images in pixels.
        source: the format name (``tinyimagenet``, ``imagefolder`` or ``builtin``).
        root: the dataset folder (``builtin`` for the built-in set).
        class_ids: the class identifiers in the files (TinyImageNet wnids, folder names), index = label.
        skipped: files that could not be decoded and were skipped (only with ``skip_bad=True``).
    """

    train: ImageSplit
    val: ImageSplit
    test: ImageSplit
    class_names: list[str]
    image_size: int
    source: str
    root: str
    class_ids: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)

    @property
    def n_classes(self) -> int:
        return len(self.class_names)

    def split(self, name: str) -> ImageSplit:
        if name not in ("train", "val", "test"):
            raise KeyError(f"unknown split {name!r} (expected train, val or test)")
        return getattr(self, name)


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
    """
    if str(source) == "builtin":
        from v1mtl.data.builtin import make_builtin

        data = make_builtin(size=size, counts=tuple(builtin_counts), seed=seed, cache_dir=cache_dir)
        if color:
            for name in ("train", "val", "test"):
                s = data.split(name)
                setattr(data, name, ImageSplit(np.repeat(s.images[..., None], 3, axis=-1), s.labels))
        return data
    from v1mtl.data.image_inspect import detect_image_format

    root = Path(source)
    if not root.exists():
        raise InputError("no such file or folder", path=root)
    fmt = detect_image_format(root)
    opts = dict(
        size=size, seed=seed, cache_dir=cache_dir, skip_bad=skip_bad, val_fraction=val_fraction, color=color
    )
    if fmt == "tinyimagenet":
        from v1mtl.data.tinyimagenet import load_tinyimagenet

        return load_tinyimagenet(root, **opts)
    if fmt == "imagefolder":
        from v1mtl.data.imagefolder import load_image_folder

        return load_image_folder(root, **opts)
    if fmt == "tiny-imagenet-c":
        raise InputError(
            "this is a Tiny-ImageNet-C folder, a test-only set; load it with load_tinyimagenet_c", path=root
        )
    raise InputError(
        "not a classification dataset (expected TinyImageNet-200 with wnids.txt and train/, or an image "
        "folder root/<class>/*.png, optionally split into train/ val/ test/)",
        path=root,
    )


def load_tinyimagenet_c(
    root: str | Path,
    wnids: Sequence[str] | None = None,
    *,
    size: int = 64,
    cache_dir: str | Path | None = None,
    skip_bad: bool = False,
    color: bool = False,
):
    """Pre-rendered Tiny-ImageNet-C as a lazy mapping ``(corruption, severity) -> ImageSplit``.

    Labels index ``wnids`` (pass ``ClassificationData.class_ids`` of the TinyImageNet you trained on; by
    default the sorted class folders, which is the order ``load_classification`` gives TinyImageNet).
    Each corrupted set is decoded and cached on first access. See ``v1mtl.data.tinyimagenet_c``.
    """
    from v1mtl.data.tinyimagenet_c import TinyImageNetC

    return TinyImageNetC(root, wnids, size=size, cache_dir=cache_dir, skip_bad=skip_bad, color=color)


def gray_stats(split: ImageSplit, max_images: int = 20000, seed: int = 0) -> tuple[float, float]:
    """Mean and std of pixel values in [0, 1] over (a seeded sample of at most ``max_images`` of) a split.

    The alternative to the fixed TinyImageNet statistics for other datasets.
    """
    n = len(split)
    if n == 0:
        raise InputError("cannot compute statistics of an empty split", field="images")
    rows = np.arange(n)
    if n > max_images:
        rows = np.sort(np.random.default_rng(seed).choice(n, size=max_images, replace=False))
    total = 0.0
    total_sq = 0.0
    count = 0
    for start in range(0, len(rows), 2048):
        block = np.asarray(split.images[rows[start : start + 2048]], dtype=np.float64) / 255.0
        total += float(block.sum())
        total_sq += float(np.square(block).sum())
        count += block.size
    mean = total / count
    return mean, float(np.sqrt(max(total_sq / count - mean * mean, 0.0)))


def split_seeded(n: int, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The reference's hold-out split of ``n`` items: ``(kept, held_out)`` sorted index arrays.

    Same draw as the reference (neural_cotraining ``img_classification_loader.py``):
    ``np.random.seed(seed); np.random.shuffle(indices)``, the
    first ``floor(fraction * n)`` shuffled indices are held out, so with TinyImageNet files listed in
    torchvision ``ImageFolder`` order the held-out set equals the reference's validation set.
    """
    indices = list(range(n))
    np.random.RandomState(seed).shuffle(indices)
    k = int(np.floor(fraction * n))
    return np.sort(np.asarray(indices[k:], dtype=np.int64)), np.sort(np.asarray(indices[:k], dtype=np.int64))
