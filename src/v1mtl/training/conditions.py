"""What each condition needs before training: the neural targets, checked or made.

- ``baseline``, ``noise-augmented``: none.
- ``mtl``, ``mtl-shuffled``, ``mtl-random``: ``neural.targets``, a native V1 dataset written by
  ``v1mtl predict-responses``; the control it holds (recorded in its metadata) must match the condition.
- ``mtl-oracle``: ``neural.targets`` when given (a study makes them as two units of their own, with
  ``make_oracle_targets``' steps); otherwise made inside the run folder in two stages, each skipped when its
  output exists: ``oracle/v1_model/`` fits fresh readouts on the frozen shared block of a finished
  ``noise-augmented`` run (``fit_v1_model(core_from=..., freeze_core=True)``), and ``oracle/targets/``
  predicts the responses of those readouts to the classification images (``predict_targets``).
"""

from __future__ import annotations

from pathlib import Path

import torch

from v1mtl.common.config import load_config
from v1mtl.common.errors import InputError
from v1mtl.data.neural import V1Dataset
from v1mtl.data.neural.native import MANIFEST, read_native
from v1mtl.training import distributed
from v1mtl.training.checkpoint import NETWORK_KIND, read_checkpoint, resolve_checkpoint
from v1mtl.training.config import TrainConfig
from v1mtl.training.distributed import DistInfo

# The control of the targets each condition trains on (``predict-responses`` records it in the metadata).
PREDICT_SOURCE = "v1mtl predict-responses"
EXPECTED_CONTROL = {"mtl": "none", "mtl-shuffled": "shuffled", "mtl-random": "random", "mtl-oracle": "none"}
ORACLE_DIR = "oracle"


def targets_control(dataset: V1Dataset) -> str | None:
    """The control a predicted-targets dataset holds (``none``, ``shuffled``, ``random``), or None if it was
    not written by ``predict-responses`` (its metadata records ``source`` and ``control``)."""
    if dataset.metadata.get("source") != PREDICT_SOURCE:
        return None
    return dataset.metadata.get("control") or "none"


def read_targets(path: str | Path, cfg: TrainConfig) -> V1Dataset:
    """Read a targets dataset; check it holds the control ``cfg.condition`` trains on and was predicted on
    the classification images of ``cfg.data``."""
    dataset = read_native(path)
    control = targets_control(dataset)
    expected = EXPECTED_CONTROL[cfg.condition]
    if control is None:
        raise InputError(
            "not a targets dataset of 'v1mtl predict-responses' (its metadata has no source/control)",
            path=path,
            field="metadata",
        )
    if control != expected:
        raise InputError(
            f"holds '{control}' targets but condition '{cfg.condition}' needs '{expected}' targets",
            path=path,
            field="metadata.control",
        )
    meta = dataset.metadata
    if meta.get("image_size") not in (None, cfg.data.image_size):
        raise InputError(
            f"targets were predicted on {meta['image_size']} px images, the run uses {cfg.data.image_size} px",
            path=path,
            field="metadata.image_size",
        )
    builtin = str(cfg.data.source) == "builtin"
    if (meta.get("images") == "builtin") != builtin or (
        builtin and meta.get("builtin_counts") not in (None, list(cfg.data.builtin_counts))
    ):
        raise InputError(
            f"targets were predicted on the images of '{meta.get('images')}' "
            f"(counts {meta.get('builtin_counts')}), the run uses '{cfg.data.source}'",
            path=path,
            field="metadata.images",
        )
    return dataset


def prepare_targets(cfg: TrainConfig, out: Path, info: DistInfo, device: torch.device) -> V1Dataset | None:
    """The neural targets of ``cfg.condition`` (None for classification-only conditions)."""
    if not cfg.uses_neural:
        return None
    if cfg.condition != "mtl-oracle" or cfg.neural.targets:
        return read_targets(cfg.neural.targets, cfg)
    targets_dir = out / ORACLE_DIR / "targets"
    if info.is_main:
        make_oracle_targets(cfg, out / ORACLE_DIR, device)
    distributed.barrier(info)
    return read_targets(targets_dir, cfg)


def check_oracle_checkpoint(path: str | Path) -> Path:
    """The ``best.pt`` of a finished ``noise-augmented`` run, or an ``InputError`` saying what is wrong."""
    ckpt_path = resolve_checkpoint(path)
    run_dir = ckpt_path.parent
    if Path(path).is_dir() and not (run_dir / "final.json").is_file():
        raise InputError(
            "the noise-augmented run has not finished (no final.json)",
            path=run_dir,
            field="oracle.checkpoint",
        )
    ckpt = read_checkpoint(ckpt_path, NETWORK_KIND)
    condition = (ckpt.get("config") or {}).get("condition")
    if condition != "noise-augmented":
        raise InputError(
            f"the Oracle must be a noise-augmented run, this one is '{condition}'",
            path=ckpt_path,
            field="oracle.checkpoint",
        )
    return ckpt_path


def make_oracle_targets(cfg: TrainConfig, folder: Path, device: torch.device) -> Path:
    """Run the two Oracle stages into ``folder`` (each skipped when done); returns the targets folder."""
    from v1mtl.neural_model import FitNeuralConfig, fit_v1_model, predict_targets

    targets_dir = folder / "targets"
    if (targets_dir / MANIFEST).is_file():
        return targets_dir
    oracle_ckpt = check_oracle_checkpoint(cfg.oracle.checkpoint)
    model_dir = folder / "v1_model"
    fit_cfg = load_config(FitNeuralConfig, cfg.oracle.fit_config, cfg.oracle.fit_overrides)
    fit_cfg.seed = cfg.seed
    fit_cfg.progress = cfg.logging.progress
    fit_v1_model(
        fit_cfg,
        cfg.oracle.v1_dataset,
        model_dir,
        core_from=str(oracle_ckpt),
        freeze_core=True,
        device=device.type,
    )
    predict_targets(
        model_dir / "model.pt",
        cfg.data.source,
        targets_dir,
        image_size=cfg.data.image_size,
        split_seed=cfg.data.split_seed,
        builtin_counts=tuple(cfg.data.builtin_counts),
        device=device.type,
        progress=cfg.logging.progress,
    )
    return targets_dir
