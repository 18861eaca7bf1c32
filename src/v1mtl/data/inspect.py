"""Summaries of datasets for ``v1mtl data inspect``: dispatches to the neural or the image side."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from v1mtl.common.errors import InputError

NEURAL_FORMATS = ("native", "cadena2019", "nnvision")


def inspect_dataset(path: str | Path, fmt: str | None = None) -> dict[str, Any]:
    """Return the JSON-ready summary of the dataset at ``path`` (format auto-detected when ``fmt`` is None)."""
    from v1mtl.data.images import inspect as image_inspect
    from v1mtl.data.neural import inspect as neural_inspect

    if fmt is None:
        fmt = neural_inspect.detect_neural_format(path) or image_inspect.detect_image_format(path)
        if fmt is None:
            raise InputError(
                "unknown dataset format (expected a V1 dataset: native, cadena2019, nnvision; or images: "
                "tinyimagenet, imagefolder, tiny-imagenet-c, builtin); pass --format",
                path=path,
            )
    if fmt in NEURAL_FORMATS:
        return neural_inspect.inspect_neural(path, fmt)
    return image_inspect.inspect_images(path, fmt)
