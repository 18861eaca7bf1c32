"""Small image datasets built in code with the exact on-disk layouts of the real ones.

Every image is a flat gray level that encodes its class (``level(label)``), so a test can check that a
reader attached the right label to every image after decoding.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

# Deliberately not sorted: readers must index classes by the sorted wnids.
WNIDS = ["n03000000", "n01000000", "n02000000"]


def level(label: int) -> int:
    return 30 + 80 * label


def write_image(path: Path, value: int, size: int = 64, fmt: str = "JPEG", rgb: bool = True) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    arr = np.full((size, size), value, dtype=np.uint8)
    img = Image.fromarray(np.stack([arr] * 3, -1) if rgb else arr)
    img.save(path, format=fmt, quality=95)


def make_tinyimagenet(root: Path, n_train: int = 10, n_val: int = 2, size: int = 64) -> Path:
    """``root/{wnids.txt,words.txt,train/<wnid>/images,train/<wnid>/<wnid>_boxes.txt,val/...}``."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "wnids.txt").write_text("\n".join(WNIDS) + "\n")
    words = [f"{w}\tname{w[-7]}, synonym" for w in WNIDS] + ["n09999999\tunused class"]
    (root / "words.txt").write_text("\n".join(words) + "\n")
    sorted_ids = sorted(WNIDS)
    ann = []
    k = 0
    for wnid in WNIDS:
        label = sorted_ids.index(wnid)
        for i in range(n_train):
            write_image(root / "train" / wnid / "images" / f"{wnid}_{i}.JPEG", level(label), size)
        (root / "train" / wnid / f"{wnid}_boxes.txt").write_text("")
        for _ in range(n_val):
            write_image(root / "val" / "images" / f"val_{k}.JPEG", level(label), size)
            ann.append(f"val_{k}.JPEG\t{wnid}\t0\t0\t63\t63")
            k += 1
    (root / "val" / "val_annotations.txt").write_text("\n".join(ann) + "\n")
    return root


def make_tinyimagenet_c(
    root: Path,
    corruptions=("fog", "gaussian_noise"),
    severities=(1, 2),
    n: int = 2,
    wnids=WNIDS,
    size: int = 64,
) -> Path:
    """``root/<corruption>/<severity>/<wnid>/*.JPEG``; levels encode the sorted-wnid label."""
    sorted_ids = sorted(WNIDS)
    for c in corruptions:
        for s in severities:
            for wnid in wnids:
                for i in range(n):
                    path = root / c / str(s) / wnid / f"{wnid}_{i}.JPEG"
                    write_image(path, level(sorted_ids.index(wnid)), size)
    return root


def make_image_folder(
    root: Path, classes=("cat", "dog", "emu"), n: int = 10, splits=None, size: int = 64, fmt: str = "PNG"
) -> Path:
    """``root/<class>/*.png``, or ``root/<split>/<class>/*.png`` for each split in ``splits``."""
    ext = ".png" if fmt == "PNG" else ".jpg"
    for split in splits or [None]:
        base = root if split is None else root / split
        for label, cls in enumerate(classes):
            for i in range(n):
                write_image(base / cls / f"{i}{ext}", level(label), size, fmt=fmt, rgb=False)
    return root


def assert_levels_match(images: np.ndarray, labels: np.ndarray) -> None:
    """Every image's mean gray level equals the level of its label (within JPEG rounding)."""
    means = np.asarray(images, dtype=np.float64).reshape(len(images), -1).mean(axis=1)
    expected = np.array([level(int(y)) for y in labels])
    assert np.all(np.abs(means - expected) < 2.0), (means, expected)


def fake_photographs() -> dict[str, np.ndarray]:
    """Stand-ins for ``load_photographs()``: smoothed noise 'photos', gray float32 in [0, 1] (fast to make)."""
    rng = np.random.default_rng(0)
    out = {}
    for name, shape in (("a", (300, 400)), ("b", (256, 256)), ("c", (320, 480))):
        noise = rng.random((shape[0] // 8, shape[1] // 8)).astype(np.float32)
        out[name] = np.asarray(
            Image.fromarray(noise, mode="F").resize(shape[::-1], Image.Resampling.BICUBIC)
        ).clip(0, 1)
    return out
