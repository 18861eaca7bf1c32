"""Classification images: TinyImageNet-200, image folders, Tiny-ImageNet-C and the built-in set."""

from v1mtl.common.lazy import lazy_exports

# public name -> the submodule that defines it (imported on first use: the readers pull in torch)
_EXPORTS = {
    "make_builtin": "builtin",
    "load_classification": "load",
    "ClassificationBatches": "loader",
    "TinyImageNetC": "tinyimagenet_c",
    "BUILTIN_COUNTS": "types",
    "DEFAULT_SPLIT_SEED": "types",
    "IMAGE_FORMATS": "types",
    "TIN_GRAY_MEAN": "types",
    "TIN_GRAY_STD": "types",
    "VAL_FRACTION": "types",
    "ClassificationData": "types",
    "ImageSplit": "types",
    "gray_stats": "types",
    "split_seeded": "types",
}
__all__ = sorted(_EXPORTS)
__getattr__ = lazy_exports(__name__, _EXPORTS)
