"""What the two analysis stages (constrained reconstruction, saliency sensitivity) share.

- ``prepare_inputs``: load the networks, cut them at the layer, load the images.
- ``StageResult`` and ``write_tables``: the three tables every analysis writes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from v1mtl.analysis.images import load_analysis_images
from v1mtl.analysis.network_inputs import extractors_at, load_networks
from v1mtl.analysis.reconstruction import FeatureFn
from v1mtl.analysis.stage_config import AnalysisStageConfig
from v1mtl.common.tables import write_csv
from v1mtl.training import LoadedNetwork


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
    """Check ``cfg`` (a bad setting fails before any file is read), load ``checkpoints`` onto ``device``, cut
    them at ``cfg.layer`` and load ``cfg.n_images`` images."""
    cfg.validate()
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
