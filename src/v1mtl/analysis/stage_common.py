"""What the two analysis stages (constrained reconstruction, saliency sensitivity) share.

- ``AnalysisStageConfig``: the settings of both, the base of ``ReconstructionConfig`` and ``SaliencyConfig``: which
  images, which layer, the bootstrap and the reconstruction optimizer (``v1mtl.analysis.reconstruction``, whose
  ``ReconstructionSettings`` holds the optimizer's defaults).
- ``prepare_inputs``: load the networks, cut them at the layer, load the images.
- ``StageResult`` and ``write_tables``: the three tables every analysis writes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import torch

from v1mtl.analysis.images import load_analysis_images
from v1mtl.analysis.network_inputs import extractors_at, load_networks
from v1mtl.analysis.reconstruction import CONSTRAINTS, FeatureFn, ReconstructionSettings
from v1mtl.common.errors import InputError
from v1mtl.common.stats import DEFAULT_N_BOOT
from v1mtl.common.tables import write_csv
from v1mtl.training import LoadedNetwork

_OPTIMIZER = ReconstructionSettings()


def require(ok: bool, key: str, message: str) -> None:
    """Raise the one-line ``InputError`` naming config key ``key`` unless ``ok``."""
    if not ok:
        raise InputError(message, field=key)


@dataclass
class AnalysisStageConfig:
    """Settings both analyses share.

    Attributes:
        images: ``builtin`` (the bundled photographs), an image folder, or an ``.npy``/``.npz`` of images.
        layer: the layer whose activations are analysed, a name (``relu3_1``) or a module count ``k``; empty:
            each network's shared layer.
        n_images: images analysed.
        size: image side in pixels; None: the first network's training size.
        batch_size: images processed together (results do not depend on it).
        n_boot: bootstrap resamples of the confidence intervals.
        seed: seed of the image crops, the noise, the probes and the bootstrap.
        steps: gradient steps per reconstruction (the reference runs 5000).
        lr: SGD step size on the mean-squared activation error (reference 5000).
        blur_sigma: pixels of the Gaussian that blurs every gradient (reference 1; 0 = off).
        constraint: ``sphere`` (norm exactly the budget, reference) or ``ball`` (at most the budget).
        recon_seed: seed of the random starting images (reference 1000).
    """

    images: str = "builtin"
    layer: str = ""
    n_images: int = 16
    size: int | None = None
    batch_size: int = 32
    n_boot: int = DEFAULT_N_BOOT
    seed: int = 0
    steps: int = _OPTIMIZER.steps
    lr: float = _OPTIMIZER.lr
    blur_sigma: float = _OPTIMIZER.blur_sigma
    constraint: Literal["sphere", "ball"] = "sphere"
    recon_seed: int = _OPTIMIZER.seed

    def validate(self) -> AnalysisStageConfig:
        """Check the shared settings; a bad one raises an ``InputError`` naming its key."""
        require(self.n_images >= 1, "n_images", f"must be at least 1, got {self.n_images}")
        require(self.size is None or self.size >= 1, "size", f"must be at least 1, got {self.size}")
        require(self.batch_size >= 1, "batch_size", f"must be at least 1, got {self.batch_size}")
        require(self.n_boot >= 1, "n_boot", f"must be at least 1, got {self.n_boot}")
        require(self.steps >= 1, "steps", f"must be at least 1, got {self.steps}")
        require(self.lr > 0, "lr", f"must be positive, got {self.lr}")
        require(self.blur_sigma >= 0, "blur_sigma", f"must be >= 0, got {self.blur_sigma}")
        require(
            self.constraint in CONSTRAINTS,
            "constraint",
            f"must be one of {CONSTRAINTS}, got {self.constraint!r}",
        )
        return self

    def reconstruction_settings(self) -> ReconstructionSettings:
        """The optimizer's settings (its ``log_every`` keeps the optimizer's default)."""
        return ReconstructionSettings(
            steps=self.steps,
            lr=self.lr,
            blur_sigma=self.blur_sigma,
            constraint=self.constraint,
            seed=self.recon_seed,
        )


@dataclass
class StageInputs:
    """The loaded networks cut at the layer, and the images.

    Attributes:
        networks: the loaded checkpoints, in the given order (the first is the reference of comparisons).
        extractors: model name -> frozen trunk, ``(batch, 1, H, W)`` normalized images -> activations.
        layers: model name -> ``{"layer", "layer_index", "checkpoint"}``.
        size: the image side in pixels.
        ids: the image ids.
        images: ``(n, size, size)`` gray images in [0, 1].
    """

    networks: list[LoadedNetwork]
    extractors: dict[str, FeatureFn]
    layers: dict[str, dict]
    size: int
    ids: list[str]
    images: np.ndarray


def prepare_inputs(
    cfg: AnalysisStageConfig,
    checkpoints: Sequence[str | Path],
    names: Sequence[str] | None,
    device: str,
) -> StageInputs:
    """Load ``checkpoints`` onto ``device``, cut them at ``cfg.layer`` and load ``cfg.n_images`` images."""
    loaded = load_networks([str(c) for c in checkpoints], names, device=device)
    trunks, layers = extractors_at(loaded, cfg.layer or None)
    extractors = {name: on_device(trunk, device) for name, trunk in trunks.items()}
    size = cfg.size or loaded[0].image_size
    ids, images = load_analysis_images(cfg.images, size=size, n=cfg.n_images, seed=cfg.seed)
    return StageInputs(loaded, extractors, layers, size, list(ids), images)


def on_device(extractor: FeatureFn, device: str) -> FeatureFn:
    """``extractor`` fed on ``device``: the analyses build their inputs on the CPU (seeded CPU generators), and
    ``Tensor.to`` is differentiable, so gradients still reach those CPU inputs (a no-op on the CPU)."""

    def fed(x: torch.Tensor) -> torch.Tensor:
        return extractor(x.to(device))

    return fed


@dataclass
class StageResult:
    """What an analysis stage wrote into ``out_dir``, as rows.

    Attributes:
        out_dir: the output folder.
        rows: ``per_image.csv``, one row per model x condition x image.
        summary: ``summary.csv``, means over images with bootstrap CIs.
        comparisons: ``comparisons.csv``, paired differences to the first model.
    """

    out_dir: Path
    rows: list[dict]
    summary: list[dict]
    comparisons: list[dict]


def write_tables(result: StageResult) -> None:
    """Write ``per_image.csv``, ``summary.csv`` and ``comparisons.csv`` into ``result.out_dir`` (created)."""
    result.out_dir.mkdir(parents=True, exist_ok=True)
    write_csv(result.out_dir / "per_image.csv", result.rows)
    write_csv(result.out_dir / "summary.csv", result.summary)
    write_csv(result.out_dir / "comparisons.csv", result.comparisons)
