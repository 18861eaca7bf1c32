"""Tiny configs and targets for trainer tests (seconds per run on one core)."""

from __future__ import annotations

import numpy as np

from v1mtl.common.config import load_config
from v1mtl.data.images import load_classification
from v1mtl.data.neural import Session, V1Dataset
from v1mtl.training import TrainConfig

TINY = [
    "data.source=builtin",
    "data.image_size=32",
    "data.builtin_counts=[192,64,64]",
    "data.batch_size=64",
    "data.eval_batch_size=128",
    "model.arch=vgg11",
    "model.width=0.0625",
    "model.hidden=16",
    "neural.batch_size=32",
    "optimizer.lr=0.02",
    "schedule.max_epochs=3",
    "schedule.patience=10",
    "logging.tensorboard=false",
    "logging.progress=false",
]


def tiny_config(condition: str = "baseline", *extra: str) -> TrainConfig:
    overrides = [*TINY, f"condition={condition}"]
    if condition in ("mtl", "mtl-shuffled", "mtl-random"):
        overrides.append("neural.targets=unused-targets-are-patched-in")
    return load_config(TrainConfig, overrides=[*overrides, *extra])


def tiny_targets(cfg: TrainConfig, sessions: int = 2, neurons: int = 5, seed: int = 0) -> V1Dataset:
    """Targets on the tiny built-in training images: a smooth function of each image plus noise."""
    data = load_classification("builtin", size=cfg.data.image_size, builtin_counts=cfg.data.builtin_counts)
    images = np.asarray(data.train.images)
    ids = np.arange(1, len(images) + 1, dtype=np.int64)
    rng = np.random.default_rng(seed)
    flat = images.reshape(len(images), -1).astype(np.float32) / 255.0
    out = []
    for s in range(sessions):
        w = rng.normal(size=(flat.shape[1], neurons)).astype(np.float32) / np.sqrt(flat.shape[1])
        rates = np.exp(flat @ w).astype(np.float32)
        test_ids = ids[:4]
        out.append(
            Session(
                session_id=f"s{s}",
                subject_id="sim",
                train_image_ids=ids.copy(),
                train_responses=rates,
                test_image_ids=test_ids,
                test_responses=np.repeat(rates[:4, None, :], 2, axis=1),
            )
        )
    return V1Dataset(
        images=images,
        image_ids=ids,
        sessions=out,
        metadata={"source": "v1mtl predict-responses", "control": None, "images": "builtin"},
    )
