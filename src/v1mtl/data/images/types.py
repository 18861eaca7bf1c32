"""Classification image datasets: the types every reader returns, the reference's constants and split.

Every reader (TinyImageNet-200, a generic image folder, the built-in set) returns a ``ClassificationData``
whose splits hold grayscale uint8 images, memory-mapped from a decode-once cache. Tiny-ImageNet-C, which is
a test-only set of many corrupted copies, has its own entry point ``TinyImageNetC``.

Images are stored gray because the paper trains on grayscale TinyImageNet (nntransfer_recipes,
``apply_grayscale=True``). Corrupting an image and converting it to gray do not commute: the paper corrupts
the RGB image first (neural_cotraining ``img_classification_loader.py``, ``fly_c_test``). Pre-rendered
Tiny-ImageNet-C files are already corrupted RGB,
so decoding them straight to gray follows that order; code that corrupts images itself and wants RGB
inputs passes ``color=True`` to get ``(n, h, w, 3)`` uint8 images instead.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from v1mtl.common.errors import InputError

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
