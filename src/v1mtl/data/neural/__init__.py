"""V1 recordings: the common ``V1Dataset``, its readers and writers (Cadena 2019, nnvision, the native format) and the loaders that feed training."""

from v1mtl.common.lazy import lazy_exports

# public name -> the submodule that defines it (imported on first use: the readers pull in torch)
_EXPORTS = {
    "detect_v1_format": "io",
    "read_v1": "io",
    "read_native": "native",
    "write_native": "native",
    "ImageStats": "preprocess",
    "prepare_images": "preprocess",
    "Session": "recordings",
    "V1Dataset": "recordings",
    "split_image_ids": "split",
}
__all__ = sorted(_EXPORTS)
__getattr__ = lazy_exports(__name__, _EXPORTS)
