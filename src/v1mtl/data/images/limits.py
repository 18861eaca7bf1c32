"""Resource limits of the image readers.

Each limit is a module constant, the default, and a keyword argument of the functions that apply it
(``None`` there means: this constant, read at call time). Raise one for a single call with the keyword
(``load_classification(..., max_image_side=20000)``, ``TinyImageNetC(..., max_image_side=20000)``,
``decode_image(..., max_side=20000)``), or for the whole process by assigning the constant
(``v1mtl.data.images.limits.MAX_IMAGE_SIDE = 20000``), or for a whole study, workers included, with the
environment variable ``V1MTL_MAX_IMAGE_SIDE`` (``v1mtl --max-image-side N ...`` sets it;
``v1mtl.common.limits``), which takes precedence over the constant.
"""

from __future__ import annotations

from v1mtl.common.limits import MAX_IMAGE_SIDE_ENV, from_environment

# The largest width or height an image file may declare. It is checked on the header, before any pixel is
# decoded, so a file declaring a huge image costs nothing. 8192 px holds every camera photo up to 67
# megapixels and stays below PIL's own decompression-bomb warning (89 megapixels).
MAX_IMAGE_SIDE = 8192


def max_image_side(value: int | None = None) -> int:
    """``value`` if given, else ``V1MTL_MAX_IMAGE_SIDE`` if set, else the current ``MAX_IMAGE_SIDE``; a
    non-positive limit is a caller's bug."""
    side = from_environment(MAX_IMAGE_SIDE_ENV, MAX_IMAGE_SIDE) if value is None else value
    if side < 1:
        raise ValueError(f"max_image_side must be positive, got {side}")
    return side
