"""V1 recordings: the common ``V1Dataset``, its readers and writers (Cadena 2019, nnvision, the native format) and the loaders that feed training."""

from v1mtl.data.neural.io import detect_v1_format, read_v1
from v1mtl.data.neural.native import read_native, write_native
from v1mtl.data.neural.preprocess import ImageStats, prepare_images
from v1mtl.data.neural.recordings import Session, V1Dataset
from v1mtl.data.neural.split import split_image_ids

__all__ = [
    "ImageStats",
    "Session",
    "V1Dataset",
    "detect_v1_format",
    "prepare_images",
    "read_native",
    "read_v1",
    "split_image_ids",
    "write_native",
]
