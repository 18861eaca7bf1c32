"""A user's own data in the layouts the ``paper`` preset reads, built in code (not a test module itself).

- ``make_tiny_imagenet``: a TinyImageNet-200 folder (``wnids.txt``, ``words.txt``, ``train/<wnid>/images``,
  ``val/images`` with ``val_annotations.txt``) of textured images whose brightness and stripes depend on the
  class;
- ``make_cadena_pickle``: ``cadena_ploscb_data.pkl`` as Cadena et al. 2019 released it (the layout the
  reader's own tests write, ``tests/data/neural/test_cadena.py``): float 0-255 images, responses
  ``(4 repeats, images, neurons)``, the neurons of the 2-repeat session NaN in repeat slots 3-4. Half the
  neurons of each session respond to the images, half are noise, as real recordings hold unreliable neurons;
- ``make_nnvision``: the same recordings in an nnvision session folder;
- ``make_tiny_imagenet_c``: pre-rendered Tiny-ImageNet-C (``<corruption>/<severity>/<wnid>/*.JPEG``).
"""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
from PIL import Image

from v1mtl.corruptions.presets import COMMON

WNIDS = ["n04000000", "n01000000", "n03000000", "n02000000"]  # not sorted: readers sort them


def _texture(rng: np.random.Generator, label: int, size: int) -> np.ndarray:
    """A noisy gray image ``(size, size)`` uint8 whose level and stripe period encode ``label``."""
    x = np.arange(size)
    stripes = 40 * np.sin(2 * np.pi * x / (4 + 3 * label))[None, :]
    img = 50 + 45 * label + stripes + rng.normal(0, 20, size=(size, size))
    return np.clip(img, 0, 255).astype(np.uint8)


def _save(path: Path, img: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.stack([img] * 3, -1)).save(path, format="JPEG", quality=95)


def make_tiny_imagenet(root: Path, n_train: int = 40, n_val: int = 10, size: int = 64, seed: int = 0) -> Path:
    """The TinyImageNet-200 layout with ``len(WNIDS)`` classes of ``n_train`` + ``n_val`` images each."""
    rng = np.random.default_rng(seed)
    root.mkdir(parents=True, exist_ok=True)
    (root / "wnids.txt").write_text("\n".join(WNIDS) + "\n")
    (root / "words.txt").write_text("".join(f"{w}\tclass {w[-7]}\n" for w in WNIDS))
    labels = {w: i for i, w in enumerate(sorted(WNIDS))}
    annotations = []
    for wnid in WNIDS:
        for i in range(n_train):
            _save(root / "train" / wnid / "images" / f"{wnid}_{i}.JPEG", _texture(rng, labels[wnid], size))
        (root / "train" / wnid / f"{wnid}_boxes.txt").write_text("")
        for _ in range(n_val):
            name = f"val_{len(annotations)}.JPEG"
            _save(root / "val" / "images" / name, _texture(rng, labels[wnid], size))
            annotations.append(f"{name}\t{wnid}\t0\t0\t{size - 1}\t{size - 1}\n")
    (root / "val" / "val_annotations.txt").write_text("".join(annotations))
    return root


def make_tiny_imagenet_c(root: Path, n: int = 2, size: int = 64, seed: int = 1) -> Path:
    """Every benchmark corruption at severities 1-5, ``n`` images per class."""
    rng = np.random.default_rng(seed)
    labels = {w: i for i, w in enumerate(sorted(WNIDS))}
    for corruption in COMMON:
        for severity in range(1, 6):
            for wnid in WNIDS:
                for i in range(n):
                    path = root / corruption / str(severity) / wnid / f"{wnid}_{i}.JPEG"
                    _save(path, _texture(rng, labels[wnid], size))
    return root


def cadena_content(n_images: int = 300, size: int = 120, neurons: tuple[int, int] = (6, 6), seed: int = 0):
    """The pickle dict: session 1 (4 repeats) and session 2 (2 repeats). Each image is noise under a contrast
    gain per region of a 3 x 3 grid; in each session the first half of the neurons fire with the gain of
    their own region, the rest at a constant rate (noise only)."""
    rng = np.random.default_rng(seed)
    gains = rng.uniform(0.1, 1.0, size=(n_images, 3, 3))
    cell = -(-size // 3)
    pattern = np.kron(gains, np.ones((cell, cell)))[:, :size, :size]
    images = 255 * pattern * rng.uniform(0, 1, size=(n_images, size, size))
    n = sum(neurons)
    rate = np.full((n_images, n), 2.0)
    start = 0
    for count in neurons:
        for j in range(count // 2):
            rate[:, start + j] = 0.5 + 12 * gains[:, 1 + j % 2, j % 3] ** 2
        start += count
    responses = rng.poisson(rate[None], size=(4, n_images, n)).astype(np.float64)
    responses[2:, :, neurons[0] :] = np.nan  # the 2-repeat session
    return {
        "images": images,
        "responses": responses,
        "repetitions": np.array([4] * neurons[0] + [2] * neurons[1]),
        "image_ids": np.arange(1, n_images + 1)[:, None],
        "image_types": np.array([[np.array(["original"])] for _ in range(n_images)], dtype=object),
        "subject_id": np.array([1] * neurons[0] + [2] * neurons[1]),
        "session_id": np.array([1] * neurons[0] + [2] * neurons[1]),
    }


def make_cadena_pickle(path: Path, **kwargs) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(pickle.dumps(cadena_content(**kwargs), protocol=4))
    return path


def make_nnvision(root: Path, cadena_pickle: Path) -> Path:
    """The recordings of ``cadena_pickle`` as an nnvision session folder (uint8 images)."""
    from v1mtl.data.neural import read_v1
    from v1mtl.data.neural.nnvision import write_nnvision

    dataset = read_v1(cadena_pickle)
    dataset.images = np.round(dataset.images * 255).astype(np.uint8)
    write_nnvision(dataset, root)
    return root
