"""Classification images: TinyImageNet-200, image folders, Tiny-ImageNet-C and the built-in set."""

from v1mtl.data.images.builtin import make_builtin
from v1mtl.data.images.load import load_classification
from v1mtl.data.images.loader import ClassificationBatches
from v1mtl.data.images.tinyimagenet_c import TinyImageNetC
from v1mtl.data.images.types import (
    BUILTIN_COUNTS,
    DEFAULT_SPLIT_SEED,
    IMAGE_FORMATS,
    TIN_GRAY_MEAN,
    TIN_GRAY_STD,
    VAL_FRACTION,
    ClassificationData,
    ImageSplit,
    gray_stats,
    split_seeded,
)

__all__ = [
    "BUILTIN_COUNTS",
    "ClassificationData",
    "DEFAULT_SPLIT_SEED",
    "IMAGE_FORMATS",
    "ImageSplit",
    "TIN_GRAY_MEAN",
    "TIN_GRAY_STD",
    "VAL_FRACTION",
    "gray_stats",
    "ClassificationBatches",
    "load_classification",
    "TinyImageNetC",
    "make_builtin",
    "split_seeded",
]
