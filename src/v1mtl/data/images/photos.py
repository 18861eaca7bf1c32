"""Real photographs that ship inside installed packages, so built-in data needs no download.

Sources (all installed with v1mtl's dependencies):
- scikit-image ``skimage.data`` (photographs only; synthetic test patterns are excluded);
- scikit-learn ``load_sample_images`` (china.jpg, flower.jpg);
- matplotlib sample data ``grace_hopper.jpg``.
Each photograph is returned as grayscale float32 in [0, 1] (PIL luma weights, see ``v1mtl.data.images.gray``).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import Image

from v1mtl.data.images.gray import rgb_to_gray_np

# Photograph name -> file shipped in ``skimage/data`` (synthetic patterns and scanned text are excluded).
SKIMAGE_PHOTOS = {
    "astronaut": "astronaut.png",
    "brick": "brick.png",
    "camera": "camera.png",
    "chelsea": "chelsea.png",
    "clock": "clock_motion.png",
    "coffee": "coffee.png",
    "coins": "coins.png",
    "grass": "grass.png",
    "gravel": "gravel.png",
    "hubble_deep_field": "hubble_deep_field.jpg",
    "immunohistochemistry": "ihc.png",
    "moon": "moon.png",
    "motorcycle_left": "motorcycle_left.png",
    "motorcycle_right": "motorcycle_right.png",
    "retina": "retina.jpg",
    "rocket": "rocket.jpg",
}


def _skimage_photo(name: str) -> np.ndarray:
    import skimage

    # Read the shipped files directly: some (e.g. the stereo pair) have no single-image loader function.
    return np.asarray(
        Image.open(Path(skimage.__file__).parent / "data" / SKIMAGE_PHOTOS[name]).convert("RGB")
    )


def _sklearn_photos() -> dict[str, np.ndarray]:
    from sklearn.datasets import load_sample_images

    bunch = load_sample_images()
    return {Path(f).stem: img for f, img in zip(bunch.filenames, bunch.images, strict=True)}


def _matplotlib_photo() -> np.ndarray:
    from matplotlib import cbook

    with cbook.get_sample_data("grace_hopper.jpg") as fh:
        return np.asarray(Image.open(fh).convert("RGB"))


def load_rgb_photographs() -> dict[str, np.ndarray]:
    """All bundled photographs, name -> ``(height, width, 3)`` uint8 RGB, in a fixed order."""
    rgb = {name: _skimage_photo(name) for name in SKIMAGE_PHOTOS}
    rgb.update(_sklearn_photos())
    rgb["grace_hopper"] = _matplotlib_photo()
    return rgb


@lru_cache(maxsize=1)
def load_photographs() -> dict[str, np.ndarray]:
    """All bundled photographs, name -> ``(height, width)`` float32 grayscale in [0, 1], in a fixed order."""
    out = {}
    for name, img in load_rgb_photographs().items():
        gray = rgb_to_gray_np(img) / 255.0
        gray.setflags(write=False)
        out[name] = gray
    return out
