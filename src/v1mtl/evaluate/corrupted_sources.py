"""Where corrupted test images come from: one class per source, each streaming one condition at a time.

A *condition* is a ``(corruption, severity)`` pair; ``("clean", 0)`` is the uncorrupted test split. A source
lists its conditions and yields, for one condition, batches of ``(images, labels)`` with images
``(batch, 1, H, W)`` float in [0, 1] (gray) and labels ``(batch,)`` int64, so only one batch of one condition
is ever in memory.

Order of operations (neural_cotraining ``img_classification_loader.py``): the reference corrupts the 64 px
RGB image and then converts it to
gray. A split whose images are ``(n, H, W, 3)`` (``load_classification(..., color=True)``) is corrupted in
RGB and converted afterwards with the BT.601 luma weights (``space="rgb"``); a gray split ``(n, H, W)`` is
corrupted as an RGB image with equal channels (``space="gray"``, see ``v1mtl.corruptions``). On-the-fly
corrupted images are truncated to uint8 levels as the reference does (``np.uint8``); the gray conversion
itself is not rounded (the reference's PIL conversion is, a difference below 1/255 per pixel).

Every random draw depends only on (seed, original image index, corruption, severity), so every model sees
the same corrupted test set, whatever the batch size, device or ``limit``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np
import torch

from v1mtl.common.errors import InputError
from v1mtl.corruptions import PRESETS, RELEASED_JPEG_QUALITY, corrupt, names, to_uint8
from v1mtl.data.images import ImageSplit
from v1mtl.data.images.gray import rgb_to_gray_torch
from v1mtl.evaluate.robustness_table import CLEAN, GAUSSIAN_SWEEP

# The reference's validation-noise sweep (neural_cotraining ``validation_gauss``).
GAUSSIAN_SWEEP_STDS = (0.0, 0.05, 0.1, 0.2, 0.3, 0.5, 1.0)
SEVERITIES = (1, 2, 3, 4, 5)
# Tiny-ImageNet-C stores every corrupted image as JPEG quality 85 (hendrycks/robustness
# ``make_tinyimagenet_c.py``, see docs corruptions.md "Output").
JPEG_ROUNDTRIP_QUALITY = RELEASED_JPEG_QUALITY

Batch = tuple[torch.Tensor, torch.Tensor]


def evenly_spaced(n: int, limit: int | None) -> np.ndarray:
    """Indices of at most ``limit`` images spread evenly over ``range(n)`` (all of them for None).

    Spreading (rather than taking the first ``limit``) keeps every class represented in class-sorted sets.
    """
    if limit is None or limit >= n:
        return np.arange(n, dtype=np.int64)
    if limit < 1:
        raise InputError(f"must be at least 1, got {limit}", field="limit")
    return np.unique(np.round(np.linspace(0, n - 1, limit)).astype(np.int64))


def _space(split: ImageSplit) -> str:
    if split.images.ndim == 3:
        return "gray"
    if split.images.ndim == 4 and split.images.shape[-1] == 3:
        return "rgb"
    raise InputError(
        f"images must be (n, H, W) gray or (n, H, W, 3) RGB, got shape {tuple(split.images.shape)}",
        field="images",
    )


def _unit_batches(split: ImageSplit, indices: np.ndarray, batch_size: int, device: str) -> Iterator[tuple]:
    """``(original indices, images (B, C, H, W) float in [0, 1] on device, labels (B,))`` per batch."""
    if batch_size < 1:
        raise InputError(f"must be at least 1, got {batch_size}", field="batch_size")
    for start in range(0, len(indices), batch_size):
        idx = indices[start : start + batch_size]
        raw = torch.from_numpy(np.asarray(split.images[idx]))
        x = raw.unsqueeze(1) if raw.ndim == 3 else raw.permute(0, 3, 1, 2)
        labels = torch.from_numpy(np.asarray(split.labels[idx], dtype=np.int64))
        yield idx, x.to(device=device, dtype=torch.float32) / 255.0, labels


def _to_gray(x: torch.Tensor) -> torch.Tensor:
    return rgb_to_gray_torch(x) if x.shape[1] == 3 else x


class CorruptedSource(ABC):
    """A stream of corrupted versions of a test set, one condition at a time.

    Attributes:
        source: ``on-the-fly``, ``pre-rendered`` or ``gaussian-sweep``.
        preset: the corruption parameter table (``none`` where there is none).
        jpeg_roundtrip: whether corrupted images pass through JPEG quality 85.
        space: ``rgb`` or ``gray``: where the corruption is applied.
    """

    source: str
    preset: str
    jpeg_roundtrip: bool
    space: str

    @abstractmethod
    def conditions(self) -> list[tuple[str, float]]:
        """The ``(corruption, severity)`` pairs, ``("clean", 0)`` first where the source has clean images."""

    @abstractmethod
    def batches(self, corruption: str, severity: float, batch_size: int, device: str) -> Iterator[Batch]:
        """``(images (B, 1, H, W) float in [0, 1], labels (B,) int64)`` for one condition."""

    @abstractmethod
    def describe(self) -> dict[str, Any]:
        """The protocol as a JSON-ready dict (saved next to the results)."""


class _SplitSource(CorruptedSource):
    """Shared part of the sources that corrupt a clean split themselves."""

    def __init__(self, split: ImageSplit, *, seed: int, limit: int | None):
        self.split = split
        self.space = _space(split)
        self.seed = int(seed)
        self.limit = limit
        self.indices = evenly_spaced(len(split), limit)

    @abstractmethod
    def _corrupt(self, x: torch.Tensor, idx: np.ndarray, corruption: str, severity: float) -> torch.Tensor:
        """``(B, C, H, W)`` in [0, 1] -> the same shape corrupted, in [0, 1]."""

    def batches(self, corruption: str, severity: float, batch_size: int, device: str) -> Iterator[Batch]:
        for idx, x, labels in _unit_batches(self.split, self.indices, batch_size, device):
            if corruption != CLEAN:
                x = self._corrupt(x, idx, corruption, severity)
            yield _to_gray(x), labels

    def _common(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "preset": self.preset,
            "jpeg_roundtrip": self.jpeg_roundtrip,
            "jpeg_quality": JPEG_ROUNDTRIP_QUALITY if self.jpeg_roundtrip else None,
            "space": self.space,
            "seed": self.seed,
            "limit": self.limit,
            "n_images": int(len(self.indices)),
        }


class OnTheFlySource(_SplitSource):
    """The test split corrupted on the fly with ``v1mtl.corruptions.corrupt`` and an explicit preset.

    Args:
        split: the clean test split (gray or RGB uint8).
        corruptions: corruption names (see ``v1mtl.corruptions.names``).
        severities: severities, each in 1..5.
        preset: the parameter table (``tiny-imagenet`` = the 64 px Tiny-ImageNet-C values).
        seed: seed of the per-image random draws.
        jpeg_roundtrip: pass corrupted images through JPEG quality 85 (before the gray conversion), as
            Tiny-ImageNet-C's files.
        limit: evaluate at most this many images, spread evenly over the split.
    """

    source = "on-the-fly"

    def __init__(
        self,
        split: ImageSplit,
        corruptions: Sequence[str],
        severities: Sequence[int] = SEVERITIES,
        *,
        preset: str = "tiny-imagenet",
        seed: int = 0,
        jpeg_roundtrip: bool = False,
        limit: int | None = None,
    ):
        super().__init__(split, seed=seed, limit=limit)
        self.jpeg_roundtrip = bool(jpeg_roundtrip)
        known = names("all")
        unknown = [c for c in corruptions if c not in known]
        if unknown:
            raise InputError(
                f"unknown corruption(s) {', '.join(unknown)}; known: {', '.join(known)}", field="corruptions"
            )
        if not corruptions:
            raise InputError("no corruptions given", field="corruptions")
        bad = [s for s in severities if int(s) != s or not 1 <= s <= 5]
        if bad or not severities:
            raise InputError(
                f"severities must be integers in 1..5, got {list(severities)}", field="severities"
            )
        if preset not in PRESETS:
            raise InputError(f"unknown preset {preset!r}; valid: {', '.join(PRESETS)}", field="preset")
        self.corruptions = list(corruptions)
        self.severities = [int(s) for s in severities]
        self.preset = preset

    def conditions(self) -> list[tuple[str, float]]:
        return [(CLEAN, 0.0)] + [(c, float(s)) for c in self.corruptions for s in self.severities]

    def _corrupt(self, x: torch.Tensor, idx: np.ndarray, corruption: str, severity: float) -> torch.Tensor:
        quality = JPEG_ROUNDTRIP_QUALITY if self.jpeg_roundtrip else None
        out = corrupt(
            x,
            corruption,
            int(severity),
            preset=self.preset,
            seed=self.seed,
            indices=idx.tolist(),
            jpeg_roundtrip_quality=quality,
        )
        # The reference stores the corrupted image as uint8 (``np.uint8``, truncating) before ToTensor.
        return to_uint8(out).to(x.dtype) / 255.0

    def describe(self) -> dict[str, Any]:
        return {**self._common(), "corruptions": self.corruptions, "severities": self.severities}


class GaussianSweepSource(_SplitSource):
    """The reference's additive Gaussian-noise sweep: ``clamp(x + N(0, std^2), 0, 1)`` per pixel.

    The noise is added in [0, 1] space to every channel independently, then clamped, then (for RGB splits)
    the image is converted to gray, as the reference's ``validation_gauss`` (docs/reference-implementation.md,
    'Robustness test sets'). On a
    gray split the noise is added to the gray image, which is harsher: after the RGB->gray conversion the
    reference's noise std shrinks by about 0.669 (the norm of the luma weights).
    Rows use corruption ``gaussian_sweep`` with severity = std; std 0 reproduces the clean accuracy.
    """

    source = "gaussian-sweep"
    preset = "none"
    jpeg_roundtrip = False

    def __init__(
        self,
        split: ImageSplit,
        stds: Sequence[float] = GAUSSIAN_SWEEP_STDS,
        *,
        seed: int = 0,
        limit: int | None = None,
    ):
        super().__init__(split, seed=seed, limit=limit)
        if not stds or any(s < 0 for s in stds):
            raise InputError(f"noise stds must be non-negative, got {list(stds)}", field="stds")
        self.stds = [float(s) for s in stds]

    def conditions(self) -> list[tuple[str, float]]:
        return [(CLEAN, 0.0)] + [(GAUSSIAN_SWEEP, s) for s in self.stds]

    def _corrupt(self, x: torch.Tensor, idx: np.ndarray, corruption: str, severity: float) -> torch.Tensor:
        noise = torch.stack([self._noise(int(i), severity, tuple(x.shape[1:])) for i in idx])
        return (x + severity * noise.to(x.device)).clamp_(0.0, 1.0)

    def _noise(self, index: int, std: float, shape: tuple[int, ...]) -> torch.Tensor:
        """Unit-normal noise of one image, seeded by (seed, image index, std) only."""
        key = np.random.SeedSequence([self.seed, index, round(std * 1_000_000)]).generate_state(1, np.uint64)[
            0
        ]
        g = torch.Generator().manual_seed(int(key >> np.uint64(1)))
        return torch.randn(shape, generator=g)

    def describe(self) -> dict[str, Any]:
        return {**self._common(), "stds": self.stds}


class PreRenderedSource(CorruptedSource):
    """Pre-rendered Tiny-ImageNet-C sets, ``(corruption, severity) -> ImageSplit`` (``TinyImageNetC``).

    The sets' labels must already index the model's classes (pass the model's TinyImageNet wnids to
    ``TinyImageNetC``). ``clean`` is the clean test split the clean row is measured on (None: no clean
    row, so no relative mCE). The files are JPEG quality 85, so ``jpeg_roundtrip`` is recorded as True.

    Args:
        sets: mapping ``(corruption, severity) -> ImageSplit`` of corrupted images (gray or RGB).
        clean: the clean test split, or None.
        corruptions, severities: restrict to these (None: every corruption / severity present).
        limit: at most this many images per set, spread evenly.
        root: the folder, recorded in the protocol.
    """

    source = "pre-rendered"
    preset = "tiny-imagenet"
    jpeg_roundtrip = True
    space = "rgb"

    def __init__(
        self,
        sets: Mapping[tuple[str, int], ImageSplit],
        clean: ImageSplit | None = None,
        *,
        corruptions: Sequence[str] | None = None,
        severities: Sequence[int] | None = None,
        limit: int | None = None,
        root: str | None = None,
    ):
        available = list(sets.keys())
        present = sorted({c for c, _ in available})
        if corruptions is not None:
            missing = [c for c in corruptions if c not in present]
            if missing:
                raise InputError(
                    f"corruption(s) {', '.join(missing)} not in the pre-rendered folder (it has {', '.join(present)})",
                    path=root,
                    field="corruptions",
                )
        keep_c = present if corruptions is None else list(corruptions)
        self._keys = [
            (c, s)
            for c in keep_c
            for s in sorted(s for cc, s in available if cc == c)
            if severities is None or s in severities
        ]
        if not self._keys:
            raise InputError("no (corruption, severity) sets left to evaluate", path=root, field="severities")
        self.sets = sets
        self.clean = clean
        self.limit = limit
        self.root = root

    def conditions(self) -> list[tuple[str, float]]:
        clean = [(CLEAN, 0.0)] if self.clean is not None else []
        return clean + [(c, float(s)) for c, s in self._keys]

    def batches(self, corruption: str, severity: float, batch_size: int, device: str) -> Iterator[Batch]:
        split = self.clean if corruption == CLEAN else self.sets[(corruption, int(severity))]
        indices = evenly_spaced(len(split), self.limit)
        for _, x, labels in _unit_batches(split, indices, batch_size, device):
            yield _to_gray(x), labels

    def describe(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "preset": self.preset,
            "jpeg_roundtrip": True,
            "jpeg_quality": JPEG_ROUNDTRIP_QUALITY,
            "space": self.space,
            "root": self.root,
            "limit": self.limit,
            "conditions": [[c, s] for c, s in self._keys],
            "clean_split": self.clean is not None,
        }
