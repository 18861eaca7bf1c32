"""Classification images: TinyImageNet-200, image folders, Tiny-ImageNet-C and the built-in set."""

from v1mtl.data.images.builtin import make_builtin
from v1mtl.data.images.load import load_classification, load_tinyimagenet_c
from v1mtl.data.images.loader import iterate_batches
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
    "iterate_batches",
    "load_classification",
    "load_tinyimagenet_c",
    "make_builtin",
    "split_seeded",
]
