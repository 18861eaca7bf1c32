"""Natural-image stimuli: random square crops of the bundled photographs (``v1mtl.data.images.photos``).

Each crop takes a random photograph, a random side between ``min_fraction`` and ``max_fraction`` of the
photograph's shorter side (log-uniform, so scales are spread evenly), a random position and a random
horizontal flip, and is resampled (antialiased bilinear) to ``size`` x ``size`` pixels.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from v1mtl.data.images.photos import load_photographs


def photo_crops(
    n: int,
    size: int,
    rng: np.random.Generator,
    min_fraction: float = 0.15,
    max_fraction: float = 0.6,
) -> np.ndarray:
    """``n`` grayscale crops, ``(n, size, size)`` uint8, drawn with ``rng``."""
    photos = [Image.fromarray(p, mode="F") for p in load_photographs().values()]
    out = np.empty((n, size, size), dtype=np.uint8)
    which = rng.integers(len(photos), size=n)
    log_frac = rng.uniform(np.log(min_fraction), np.log(max_fraction), size=n)
    u = rng.random((n, 2))
    flip = rng.random(n) < 0.5
    for i in range(n):
        photo = photos[which[i]]
        w, h = photo.size
        side = max(2, int(round(np.exp(log_frac[i]) * min(w, h))))
        left = int(u[i, 0] * (w - side))
        top = int(u[i, 1] * (h - side))
        crop = photo.resize((size, size), Image.Resampling.BILINEAR, box=(left, top, left + side, top + side))
        arr = np.asarray(crop)
        if flip[i]:
            arr = arr[:, ::-1]
        out[i] = np.clip(np.rint(arr * 255.0), 0, 255).astype(np.uint8)
    return out
