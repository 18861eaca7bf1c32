"""The built-in classification set: textured object shapes on natural-photo backgrounds, generated offline.

No package ships a natural-image classification set of useful size offline (the usual sets, CIFAR and TinyImageNet, are downloaders), so the set is
rendered from the photographs that do ship (``v1mtl.data.images.photos``). Each image shows one object whose
outline is the class (``v1mtl.data.images.shapes``), filled with a natural texture patch and composited onto a
natural background, with random position, scale, rotation, aspect, figure-ground contrast, clutter (small
shapes of random classes) and occluding bars. All textures and backgrounds come from photo patches, so
the class is carried by the outline alone.

Every photograph is cut into three disjoint rectangles, one per split: train the left 60% of the width;
val the top 40% of the right part; test the bottom 60% of the right part. A split samples textures only
from its own rectangles, so the test set measures generalization to unseen image content.

The set is a pure function of ``(GENERATOR_VERSION, size, counts, seed)`` and is cached under that key;
``BuiltinConfig`` holds those settings for ``v1mtl data make-builtin``, which runs ``write_builtin``.
"""

from __future__ import annotations

import io
import math
import os
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
from PIL import Image
from tqdm import tqdm

from v1mtl.common.atomic import write_bytes, write_json
from v1mtl.common.config import config_to_dict
from v1mtl.common.errors import InputError
from v1mtl.data.images.cache import load_or_build
from v1mtl.data.images.shapes import SHAPES
from v1mtl.data.images.types import BUILTIN_COUNTS, DEFAULT_SPLIT_SEED, ClassificationData, ImageSplit

# Bump whenever the rendering changes, so caches of an older design are not reused.
GENERATOR_VERSION = 2
CLASS_NAMES = list(SHAPES)
SPLITS = ("train", "val", "test")
# Source-photo pixels per pixel of a 64-px image: texture scales; the 32-px set shows the same content.
ZOOMS = (1.0, 1.4, 1.8)
CHUNK = 1000

# Rendering parameters, as fractions of the image side unless noted.
CENTER_JITTER = 0.14
RADIUS_RANGE = (0.24, 0.38)
ASPECT_LOG_RANGE = 0.25  # object aspect ratio exp(U(-r, r))
MEAN_RANGE = (0.2, 0.8)  # background mean luminance
FIGURE_GROUND_RANGE = (0.12, 0.4)  # |object mean - background mean|
TEXTURE_GAIN_RANGE = (0.4, 1.0)  # texture contrast multiplier
N_CLUTTER = 2  # at most this many small distractor shapes
CLUTTER_PROB = 0.2
CLUTTER_RADIUS_RANGE = (0.06, 0.12)
OCCLUDER_PROB = 0.2
OCCLUDER_WIDTH_RANGE = (0.06, 0.15)


@dataclass
class BuiltinCounts:
    """Images per split of the built-in set.

    Attributes:
        train: training images.
        val: validation images.
        test: test images.
    """

    train: int = BUILTIN_COUNTS[0]
    val: int = BUILTIN_COUNTS[1]
    test: int = BUILTIN_COUNTS[2]


@dataclass
class BuiltinConfig:
    """Which built-in set to make: the config of ``v1mtl data make-builtin`` (``--config``, ``--set``).

    Attributes:
        size: image side in pixels, 32 or 64.
        seed: generation seed.
        counts: images per split.
    """

    size: Literal[32, 64] = 64
    seed: int = DEFAULT_SPLIT_SEED
    counts: BuiltinCounts = field(default_factory=BuiltinCounts)


def split_regions(height: int, width: int) -> dict[str, tuple[int, int, int, int]]:
    """Disjoint ``(top, bottom, left, right)`` rectangles of a ``height x width`` photo, one per split."""
    x_split = int(round(0.6 * width))
    y_split = int(round(0.4 * height))
    return {
        "train": (0, height, 0, x_split),
        "val": (0, y_split, x_split, width),
        "test": (y_split, height, x_split, width),
    }


def texture_bank(photos: Mapping[str, np.ndarray], split: str, size: int) -> list[np.ndarray]:
    """The split's photo rectangles resampled at every zoom for ``size``-px images; float32 [0, 1].

    Each rectangle is cut out before resampling, so no pixel of another split's rectangle leaks in.
    """
    bank = []
    for photo in photos.values():
        top, bottom, left, right = split_regions(*photo.shape)[split]
        region = Image.fromarray(np.asarray(photo[top:bottom, left:right], dtype=np.float32), mode="F")
        for zoom in ZOOMS:
            scale = size / (64.0 * zoom)
            w, h = int(region.width * scale), int(region.height * scale)
            if min(w, h) < size:
                continue
            bank.append(np.asarray(region.resize((w, h), Image.Resampling.BILINEAR), dtype=np.float32))
    if not bank:
        raise InputError(f"no photograph is large enough for {size}-px images", field="size")
    return bank


def sample_patches(bank: Sequence[np.ndarray], n: int, size: int, rng: np.random.Generator) -> np.ndarray:
    """``(n, size, size)`` float32 random windows of random bank entries, each in one of 8 orientations."""
    out = np.empty((n, size, size), dtype=np.float32)
    which = rng.integers(0, len(bank), n)
    ar = np.arange(size)
    for j in np.unique(which):
        idx = np.flatnonzero(which == j)
        src = bank[j]
        ys = rng.integers(0, src.shape[0] - size + 1, len(idx))
        xs = rng.integers(0, src.shape[1] - size + 1, len(idx))
        out[idx] = src[ys[:, None, None] + ar[None, :, None], xs[:, None, None] + ar[None, None, :]]
    flips = rng.random((n, 3)) < 0.5
    out = np.where(flips[:, 0, None, None], out[:, ::-1, :], out)
    out = np.where(flips[:, 1, None, None], out[:, :, ::-1], out)
    return np.where(flips[:, 2, None, None], out.transpose(0, 2, 1), out)


def _shape_areas() -> np.ndarray:
    """Area of each class shape in unit coordinates, to give all classes the same expected area."""
    y, x = np.mgrid[-1.5:1.5:301j, -1.5:1.5:301j]
    return np.array([(f(x, y) > 0).mean() * 9.0 for f in SHAPES.values()])


_AREAS = _shape_areas()
_AREA_SCALE = np.sqrt(_AREAS.mean() / _AREAS)


def render_shapes(
    labels: np.ndarray,
    cx: np.ndarray,
    cy: np.ndarray,
    radius: np.ndarray,
    angle: np.ndarray,
    log_aspect: np.ndarray,
    size: int,
) -> np.ndarray:
    """Antialiased coverage masks ``(n, size, size)`` float32 in [0, 1] of shapes of classes ``labels``.

    Centers and radii are in pixels; ``radius`` is scaled per class so every class covers the same area.
    """
    n = len(labels)
    grid = np.arange(size, dtype=np.float32) + 0.5
    dx = grid[None, None, :] - cx[:, None, None].astype(np.float32)
    dy = grid[None, :, None] - cy[:, None, None].astype(np.float32)
    r = (radius * _AREA_SCALE[labels]).astype(np.float32)
    a = np.exp(log_aspect).astype(np.float32)
    cos, sin = np.cos(angle).astype(np.float32), np.sin(angle).astype(np.float32)
    ru, rv = (r * a)[:, None, None], (r / a)[:, None, None]
    masks = np.empty((n, size, size), dtype=np.float32)
    for k, outline in enumerate(SHAPES.values()):
        idx = np.flatnonzero(labels == k)
        if len(idx) == 0:
            continue
        c, s = cos[idx, None, None], sin[idx, None, None]
        u = (dx[idx] * c + dy[idx] * s) / ru[idx]
        v = (dy[idx] * c - dx[idx] * s) / rv[idx]
        # Shape units -> pixels with the smaller axis scale, so edges are never sharper than one pixel.
        d = outline(u, v) * np.minimum(ru[idx], rv[idx])
        masks[idx] = np.clip(d + 0.5, 0.0, 1.0)
    return masks


def _textured(patches: np.ndarray, mean: np.ndarray, gain: np.ndarray) -> np.ndarray:
    """Recenter each patch on ``mean`` with its contrast scaled by ``gain`` (both ``(n,)``)."""
    centered = patches - patches.mean(axis=(1, 2), keepdims=True)
    # float32 parameters keep the whole image pipeline in float32 (float64 would double its cost).
    return mean.astype(np.float32)[:, None, None] + gain.astype(np.float32)[:, None, None] * centered


def render_chunk(
    labels: np.ndarray, bank: Sequence[np.ndarray], size: int, rng: np.random.Generator
) -> np.ndarray:
    """Render one image per label: ``(n,)`` int64 -> ``(n, size, size)`` uint8."""
    n = len(labels)
    s = float(size)
    n_classes = len(SHAPES)

    bg_mean = rng.uniform(*MEAN_RANGE, n)
    canvas = _textured(sample_patches(bank, n, size, rng), bg_mean, rng.uniform(*TEXTURE_GAIN_RANGE, n))

    # Clutter: small shapes of random classes behind the object.
    for _ in range(N_CLUTTER):
        present = rng.random(n) < CLUTTER_PROB
        masks = render_shapes(
            rng.integers(0, n_classes, n),
            rng.uniform(0, s, n),
            rng.uniform(0, s, n),
            s * rng.uniform(*CLUTTER_RADIUS_RANGE, n),
            rng.uniform(0, 2 * math.pi, n),
            rng.uniform(-ASPECT_LOG_RANGE, ASPECT_LOG_RANGE, n),
            size,
        )
        tex = _textured(
            sample_patches(bank, n, size, rng),
            rng.uniform(*MEAN_RANGE, n),
            rng.uniform(*TEXTURE_GAIN_RANGE, n),
        )
        alpha = masks * present[:, None, None]
        canvas = canvas * (1 - alpha) + tex * alpha

    # The object: its mean differs from the background's by a random figure-ground contrast of random sign.
    contrast = rng.uniform(*FIGURE_GROUND_RANGE, n) * rng.choice([-1.0, 1.0], n)
    obj_mean = np.clip(bg_mean + contrast, 0.05, 0.95)
    masks = render_shapes(
        labels,
        s * (0.5 + rng.uniform(-CENTER_JITTER, CENTER_JITTER, n)),
        s * (0.5 + rng.uniform(-CENTER_JITTER, CENTER_JITTER, n)),
        s * rng.uniform(*RADIUS_RANGE, n),
        rng.uniform(0, 2 * math.pi, n),
        rng.uniform(-ASPECT_LOG_RANGE, ASPECT_LOG_RANGE, n),
        size,
    )
    tex = _textured(sample_patches(bank, n, size, rng), obj_mean, rng.uniform(*TEXTURE_GAIN_RANGE, n))
    canvas = canvas * (1 - masks) + tex * masks

    # Occluder: a textured bar across the object.
    present = rng.random(n) < OCCLUDER_PROB
    bar = _bar_masks(n, size, rng) * present[:, None, None]
    tex = _textured(
        sample_patches(bank, n, size, rng), rng.uniform(*MEAN_RANGE, n), rng.uniform(*TEXTURE_GAIN_RANGE, n)
    )
    canvas = canvas * (1 - bar) + tex * bar
    return np.clip(np.rint(canvas * 255.0), 0, 255).astype(np.uint8)


def _bar_masks(n: int, size: int, rng: np.random.Generator) -> np.ndarray:
    """``(n, size, size)`` antialiased infinite bars of random width and angle through the central region."""
    s = float(size)
    grid = np.arange(size, dtype=np.float32) + 0.5
    angle = rng.uniform(0, math.pi, n).astype(np.float32)
    offset = (s * rng.uniform(-0.25, 0.25, n)).astype(np.float32)
    half = (0.5 * s * rng.uniform(*OCCLUDER_WIDTH_RANGE, n)).astype(np.float32)
    dist = (grid[None, None, :] - s / 2) * np.cos(angle)[:, None, None] + (
        grid[None, :, None] - s / 2
    ) * np.sin(angle)[:, None, None]
    return np.clip(half[:, None, None] - np.abs(dist - offset[:, None, None]) + 0.5, 0.0, 1.0)


def render_split(
    split: str, count: int, size: int, seed: int, photos: Mapping[str, np.ndarray] | None = None
):
    """``(images (count, size, size) uint8, labels (count,) int64)`` of one split, balanced over classes."""
    if photos is None:
        from v1mtl.data.images.photos import load_photographs

        photos = load_photographs()
    bank = texture_bank(photos, split, size)
    code = SPLITS.index(split)
    labels = np.arange(count, dtype=np.int64) % len(SHAPES)
    np.random.default_rng([seed, code, 0]).shuffle(labels)
    images = np.empty((count, size, size), dtype=np.uint8)

    # Each chunk has its own seed, so the result does not depend on the order the threads finish in.
    def work(i: int) -> None:
        start = i * CHUNK
        rng = np.random.default_rng([seed, code, i + 1])
        images[start : start + CHUNK] = render_chunk(labels[start : start + CHUNK], bank, size, rng)

    n_chunks = -(-count // CHUNK)
    # NumPy releases the GIL in its array loops, so threads use the cores.
    with ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 1)) as pool:
        for _ in tqdm(
            pool.map(work, range(n_chunks)),
            total=n_chunks,
            desc=f"rendering {split}",
            leave=False,
            disable=None,
        ):
            pass
    return images, labels


def make_builtin(
    size: int = 64,
    counts: Sequence[int] = BUILTIN_COUNTS,
    seed: int = 1000,
    cache_dir: str | Path | None = None,
) -> ClassificationData:
    """The built-in set with ``counts = (train, val, test)`` images of ``size`` px, generated once and cached."""
    if size not in (32, 64):
        raise InputError(f"the built-in set comes in 32 or 64 px, not {size}", field="size")
    counts = tuple(int(c) for c in counts)
    if len(counts) != 3 or min(counts) < 1:
        raise InputError(f"expected three positive counts (train, val, test), got {counts}", field="counts")
    params = {"version": GENERATOR_VERSION, "size": size, "counts": list(counts), "seed": seed}

    def build():
        arrays = {}
        for split, count in zip(SPLITS, counts, strict=True):
            arrays[f"{split}_images"], arrays[f"{split}_labels"] = render_split(split, count, size, seed)
        return arrays, {}

    arrays, _ = load_or_build("builtin", params, [], build, cache_dir)
    return ClassificationData(
        train=ImageSplit(arrays["train_images"], arrays["train_labels"]),
        val=ImageSplit(arrays["val_images"], arrays["val_labels"]),
        test=ImageSplit(arrays["test_images"], arrays["test_labels"]),
        class_names=list(CLASS_NAMES),
        image_size=size,
        source="builtin",
        root="builtin",
        class_ids=list(CLASS_NAMES),
    )


def write_builtin(
    cfg: BuiltinConfig,
    out_dir: str | Path,
    *,
    grid: str | Path | None = None,
    cache_dir: str | Path | None = None,
) -> dict[str, Any]:
    """Make the built-in set of ``cfg`` (cached) and write it to ``out_dir`` as an image folder.

    Args:
        cfg: which set.
        out_dir: gets ``config.json`` (the settings and the generator version), ``classes.json`` and
            ``<split>/<class>/<index>.png``.
        grid: also save a PNG grid of test examples per class here.
        cache_dir: cache folder of ``make_builtin``.

    Returns:
        ``{"out": ..., "splits": {split: count}, "n_classes": ...}``.
    """
    out = Path(out_dir)
    record = {"command": "data make-builtin", "out": str(out), **config_to_dict(cfg)}
    write_json(out / "config.json", record | {"generator_version": GENERATOR_VERSION})
    counts = (cfg.counts.train, cfg.counts.val, cfg.counts.test)
    data = make_builtin(size=cfg.size, counts=counts, seed=cfg.seed, cache_dir=cache_dir)
    written = write_image_folder(data, out)
    if grid:
        save_example_grid(data, grid)
    return {"out": str(out), "splits": written, "n_classes": data.n_classes}


def write_image_folder(data: ClassificationData, out_dir: str | Path) -> dict[str, int]:
    """Write ``out_dir/<split>/<class>/<index>.png`` for every image; returns the count per split.

    Every file is written atomically, which costs one fsync each; many threads overlap those waits.
    """
    out_dir = Path(out_dir)

    def write_one(split: ImageSplit, split_name: str, i: int) -> None:
        buf = io.BytesIO()
        Image.fromarray(np.asarray(split.images[i]), mode="L").save(buf, format="PNG")
        name = data.class_names[int(split.labels[i])]
        write_bytes(out_dir / split_name / name / f"{i:06d}.png", buf.getvalue())

    counts = {}
    with ThreadPoolExecutor(max_workers=32) as pool:
        for split_name in SPLITS:
            s = data.split(split_name)
            jobs = pool.map(lambda i, s=s, n=split_name: write_one(s, n, i), range(len(s)))
            for _ in tqdm(jobs, total=len(s), desc=f"writing {split_name}", leave=False, disable=None):
                pass
            counts[split_name] = len(s)
    write_json(out_dir / "classes.json", {"class_names": data.class_names})
    return counts


def save_example_grid(
    data: ClassificationData, path: str | Path, per_class: int = 8, split: str = "test"
) -> None:
    """A PNG with one row per class (``per_class`` examples of ``split``), labelled with the class names."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    s = data.split(split)
    labels = np.asarray(s.labels)
    fig, axes = plt.subplots(
        data.n_classes, per_class, figsize=(per_class * 0.9 + 1.2, data.n_classes * 0.9), squeeze=False
    )
    for k, name in enumerate(data.class_names):
        rows = np.flatnonzero(labels == k)[:per_class]
        for j in range(per_class):
            ax = axes[k, j]
            ax.set_xticks([])
            ax.set_yticks([])
            for spine in ax.spines.values():
                spine.set_visible(False)
            if j < len(rows):
                ax.imshow(s.images[rows[j]], cmap="gray", vmin=0, vmax=255, interpolation="nearest")
        axes[k, 0].set_ylabel(name, rotation=0, ha="right", va="center", fontsize=9)
    fig.tight_layout(pad=0.2)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    plt.close(fig)
    write_bytes(path, buf.getvalue())
