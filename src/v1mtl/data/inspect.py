"""Summaries of datasets for ``v1mtl data inspect``: dispatches to the neural or the image side."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from v1mtl.common.errors import InputError

if TYPE_CHECKING:
    from v1mtl.data.neural.nwb import NwbOptions

NEURAL_FORMATS = ("native", "cadena2019", "nnvision", "nwb")


def inspect_dataset(
    path: str | Path, fmt: str | None = None, nwb: NwbOptions | None = None
) -> dict[str, Any]:
    """Return the JSON-ready summary of the dataset at ``path`` (format auto-detected when ``fmt`` is None).

    ``nwb``: where an NWB file keeps its stimuli and the counting window (``read_v1``).
    """
    from v1mtl.data.images import inspect as image_inspect
    from v1mtl.data.neural import inspect as neural_inspect

    if fmt is None:
        fmt = neural_inspect.detect_neural_format(path) or image_inspect.detect_image_format(path)
        if fmt is None:
            raise InputError(
                "unknown dataset format (expected a V1 dataset: native, cadena2019, nnvision, nwb; or images: "
                "tinyimagenet, imagefolder, tiny-imagenet-c, builtin); pass --format",
                path=path,
            )
    if fmt in NEURAL_FORMATS:
        return neural_inspect.inspect_neural(path, fmt, nwb=nwb)
    return image_inspect.inspect_images(path, fmt)
