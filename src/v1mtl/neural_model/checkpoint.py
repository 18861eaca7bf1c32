"""Saved V1 models (``model.pt``) and shared trunks of trained networks.

A V1 model file is a ``torch.save`` dict of plain values and tensors (loadable with ``weights_only=True``):

- ``kind``: ``"v1mtl-v1-model"``;
- ``model_config``: the ``ModelConfig`` as a dict; ``state_dict``: the ``MultiTaskNet`` weights;
- ``sessions``: session id -> number of neurons, in dataset order;
- ``input_shape``: ``[1, H, W]`` of one network input; ``stats``: ``{"mean", "std"}`` z-scoring in [0, 1]
  pixel units; ``preprocess``: ``{"crop", "subsample", "scale"}`` applied to the raw stimuli first;
- ``dataset``, ``core_from``, ``freeze_core``: provenance; ``config``: the resolved fit config.

``load_shared_core`` reads the shared block of any checkpoint that holds ``model_config`` and a
``state_dict`` of a ``MultiTaskNet`` (a V1 model, or a co-trained network of ``v1mtl train``).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import torch

from v1mtl.common.errors import InputError
from v1mtl.fitting import load_checkpoint
from v1mtl.models import ModelConfig, MultiTaskNet, build_network

KIND = "v1mtl-v1-model"
TRUNK_FIELDS = ("arch", "batch_norm", "width", "shared_layer")


def _read(path: str | Path) -> dict[str, Any]:
    ckpt = load_checkpoint(path)
    for key in ("model_config", "state_dict"):
        if key not in ckpt:
            raise InputError("missing key", path=path, field=key)
    return ckpt


def model_config_from_dict(data: dict[str, Any], path: str | Path | None = None) -> ModelConfig:
    known = {f.name for f in fields(ModelConfig)}
    unknown = set(data) - known
    if unknown:
        raise InputError(f"unknown keys {sorted(unknown)}", path=path, field="model_config")
    return ModelConfig(**data)


@dataclass
class V1Model:
    """A loaded V1 model: the network (eval mode) plus what is needed to feed it."""

    net: MultiTaskNet
    sessions: dict[str, int]
    input_shape: tuple[int, int, int]
    mean: float
    std: float
    preprocess: dict[str, Any]
    info: dict[str, Any]


def load_v1_model(path: str | Path, device: str = "cpu") -> V1Model:
    """Read a ``model.pt`` written by ``fit_v1_model``; the network is in eval mode on ``device``."""
    ckpt = _read(path)
    if ckpt.get("kind") != KIND:
        raise InputError(f"expected a V1 model ('{KIND}'), got {ckpt.get('kind')!r}", path=path, field="kind")
    cfg = model_config_from_dict(ckpt["model_config"], path)
    sessions = {str(k): int(v) for k, v in ckpt["sessions"].items()}
    shape = tuple(int(v) for v in ckpt["input_shape"])
    net = build_network(
        cfg, n_classes=None, sessions=sessions, image_size=shape[1], neural_image_size=shape[1:]
    )
    net.load_state_dict(ckpt["state_dict"])
    net.to(device).eval()
    return V1Model(
        net=net,
        sessions=sessions,
        input_shape=shape,
        mean=float(ckpt["stats"]["mean"]),
        std=float(ckpt["stats"]["std"]),
        preprocess=dict(ckpt.get("preprocess", {})),
        info={k: ckpt.get(k) for k in ("dataset", "core_from", "freeze_core")},
    )


@dataclass
class SharedCore:
    """The shared block of a trained network: its trunk config, weights (``shared.`` prefix removed) and,
    when the checkpoint records it, the input normalization it was trained with (``(mean, std)``)."""

    model_config: ModelConfig
    state_dict: dict[str, torch.Tensor]
    normalization: tuple[float, float] | None


def load_shared_core(path: str | Path) -> SharedCore:
    """Read the shared block of a checkpoint with ``model_config`` and a ``MultiTaskNet`` ``state_dict``
    (``best.pt`` of ``v1mtl train``, a core file, or a V1 model's ``model.pt``)."""
    ckpt = _read(path)
    cfg = model_config_from_dict(ckpt["model_config"], path)
    shared = {k[len("shared.") :]: v for k, v in ckpt["state_dict"].items() if k.startswith("shared.")}
    if not shared:
        raise InputError("the state_dict has no shared.* weights", path=path, field="state_dict")
    norm = ckpt.get("normalization") or ckpt.get("stats")
    normalization = None if not norm else (float(norm["mean"]), float(norm["std"]))
    return SharedCore(cfg, shared, normalization)
