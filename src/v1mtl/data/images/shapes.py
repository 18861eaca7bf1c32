"""Signed-distance-like fields of the built-in set's object shapes, vectorized over whole batches.

Each field takes shape coordinates ``u, v`` (any equal shapes, e.g. ``(n, height, width)``) in which the
shape fits the unit disc, and returns a value that is positive inside, negative outside and close to the
Euclidean distance to the outline near it (exact for discs and boxes, a good approximation for unions),
so ``clip(field * radius_px + 0.5, 0, 1)`` is an antialiased coverage mask.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

Field = Callable[[np.ndarray, np.ndarray], np.ndarray]


def _box(u: np.ndarray, v: np.ndarray, half_w: float, half_h: float) -> np.ndarray:
    return np.minimum(half_w - np.abs(u), half_h - np.abs(v))


def _disc(u: np.ndarray, v: np.ndarray, radius: float) -> np.ndarray:
    return radius - np.hypot(u, v)


def _polygon(u: np.ndarray, v: np.ndarray, n: int, apothem: float, phase: float = 0.0) -> np.ndarray:
    """Regular ``n``-gon: intersection of half-planes whose normals point at angles ``phase + 2 pi k / n``."""
    out = None
    for k in range(n):
        a = phase + 2 * math.pi * k / n
        d = apothem - (u * math.cos(a) + v * math.sin(a))
        out = d if out is None else np.minimum(out, d)
    return out


def arrow(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    shaft = _box(u + 0.3, v, 0.6, 0.17)
    # Head: triangle with tip (0.95, 0) and base corners (0.2, +-0.6).
    slope = math.atan2(0.6, 0.75)
    n1 = (math.sin(slope), math.cos(slope))
    head = np.minimum(
        u - 0.2,
        np.minimum(
            (0.95 - u) * n1[0] - v * n1[1],
            (0.95 - u) * n1[0] + v * n1[1],
        ),
    )
    return np.maximum(shaft, head)


def crescent(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    return np.minimum(_disc(u, v, 0.92), -_disc(u - 0.45, v, 0.72))


def cross(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    return np.maximum(_box(u, v, 0.9, 0.27), _box(u, v, 0.27, 0.9))


def disc(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    return _disc(u, v, 0.85)


def ell(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """An L: a vertical bar and a horizontal foot."""
    return np.maximum(_box(u + 0.4, v, 0.25, 0.9), _box(u, v - 0.65, 0.65, 0.25))


def ring(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    r = np.hypot(u, v)
    return np.minimum(0.92 - r, r - 0.52)


def semicircle(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    v = v + 0.35
    return np.minimum(_disc(u, v, 0.95), v)


def square(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    return _box(u, v, 0.72, 0.72)


def star(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Five-pointed star, outer radius 1.0, inner radius 0.42, computed in one sector by symmetry."""
    outer, inner, n = 1.0, 0.42, 5
    sector = 2 * math.pi / n
    # Angle to the nearest tip, folded to [0, sector / 2]: the star is symmetric about every tip.
    phi = np.abs(np.mod(np.arctan2(v, u) + sector / 2, sector) - sector / 2)
    r = np.hypot(u, v)
    px, py = r * np.cos(phi), r * np.sin(phi)
    # In the folded frame the star is the triangle (origin, tip A, inner corner B): distance to edge AB,
    # positive on the origin's side.
    ax = outer
    bx, by = inner * math.cos(sector / 2), inner * math.sin(sector / 2)
    ex, ey = bx - ax, by
    return (ex * py - ey * (px - ax)) / math.hypot(ex, ey)


def triangle(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    return _polygon(u, v, 3, 0.5, phase=math.pi)


# Sorted by name: the image folder that ``make-builtin`` writes reads back with the same class indices.
SHAPES: dict[str, Field] = {
    "arrow": arrow,
    "crescent": crescent,
    "cross": cross,
    "disc": disc,
    "ell": ell,
    "ring": ring,
    "semicircle": semicircle,
    "square": square,
    "star": star,
    "triangle": triangle,
}
