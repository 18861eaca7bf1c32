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

Every field read is checked (type, range, and the weights' names and shapes against the network the
config builds) before it is used; a malformed file is one ``InputError`` line naming the file and the
field (``v1mtl.fitting.checkpoint``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from v1mtl.common.config import config_from_dict
from v1mtl.common.errors import InputError
from v1mtl.fitting.checkpoint import (
    check_state_dict,
    check_type,
    finite_float,
    load_checkpoint,
    load_weights,
    one_line,
    positive_int,
    require,
)
from v1mtl.models import ModelConfig, MultiTaskNet, build_network
from v1mtl.models.factory import make_trunk
from v1mtl.models.vgg import shared_layer_index
from v1mtl.models.vone import adopt_saved_banks

KIND = "v1mtl-v1-model"
TRUNK_FIELDS = ("arch", "batch_norm", "width", "shared_layer", "front_end", "vone")


def model_config_from_dict(data: Any, path: str | Path | None = None) -> ModelConfig:
    """The ``model_config`` of a checkpoint as a checked ``ModelConfig`` (types by the config schema,
    ranges by ``ModelConfig.validate``)."""
    check_type(data, dict, path or "checkpoint", "model_config")
    cfg = config_from_dict(ModelConfig, data, source=str(path or "model_config"))
    try:
        return cfg.validate()
    except ValueError as err:
        raise InputError(one_line(err), path=path, field="model_config") from err


def build_checked(cfg: ModelConfig, path: str | Path, **sizes: Any) -> MultiTaskNet:
    """``build_network(cfg, **sizes)``; a size the architecture cannot take is an ``InputError``."""
    try:
        return build_network(cfg, **sizes)
    except (ValueError, RuntimeError) as err:  # torch refuses impossible layer sizes with RuntimeError
        raise InputError(
            f"cannot build the network ({one_line(err)})", path=path, field="model_config"
        ) from err


def sessions_of(value: Any, path: str | Path) -> dict[str, int]:
    """``sessions``: session id -> number of neurons (None counts as no sessions)."""
    if value is None:
        return {}
    check_type(value, dict, path, "sessions")
    return {
        check_type(k, str, path, "sessions key"): positive_int(v, path, f"sessions[{one_line(repr(k))}]")
        for k, v in value.items()
    }


def stats_of(value: Any, path: str | Path, field: str) -> tuple[float, float]:
    """``{"mean", "std"}`` input normalization: a finite mean and a finite positive std."""
    check_type(value, dict, path, field)
    for key in ("mean", "std"):
        if key not in value:
            raise InputError(f"missing '{key}'", path=path, field=field)
    mean = finite_float(value["mean"], path, f"{field}.mean")
    return mean, finite_float(value["std"], path, f"{field}.std", positive=True)


def network_fields(ckpt: dict[str, Any], path: str | Path) -> tuple[ModelConfig, dict[str, torch.Tensor]]:
    """``(model config, state dict)`` of a checkpoint, the two fields every network reader needs, checked."""
    cfg = model_config_from_dict(require(ckpt, "model_config", dict, path), path)
    return cfg, check_state_dict(require(ckpt, "state_dict", dict, path), path)


def _input_shape(value: Any, path: str | Path) -> tuple[int, int, int]:
    """``[1, H, W]``: one gray channel and a positive height and width."""
    check_type(value, (list, tuple), path, "input_shape")
    if len(value) != 3:
        raise InputError(
            f"expected [1, height, width], got {len(value)} values", path=path, field="input_shape"
        )
    shape = tuple(positive_int(v, path, "input_shape") for v in value)
    if shape[0] != 1:
        raise InputError(f"expected one (gray) channel, got {shape[0]}", path=path, field="input_shape")
    return shape


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
    ckpt = load_checkpoint(path)
    if ckpt.get("kind") != KIND:
        kind = one_line(repr(ckpt.get("kind")))
        raise InputError(f"expected a V1 model ('{KIND}'), got {kind}", path=path, field="kind")
    cfg, state = network_fields(ckpt, path)
    sessions = sessions_of(require(ckpt, "sessions", dict, path), path)
    shape = _input_shape(require(ckpt, "input_shape", (list, tuple), path), path)
    mean, std = stats_of(require(ckpt, "stats", dict, path), path, "stats")
    preprocess = check_type(ckpt.get("preprocess", {}), dict, path, "preprocess")
    net = build_checked(
        cfg, path, n_classes=None, sessions=sessions, image_size=shape[1], neural_image_size=shape[1:]
    )
    load_weights(net, state, path)
    net.to(device).eval()
    return V1Model(
        net=net,
        sessions=sessions,
        input_shape=shape,
        mean=mean,
        std=std,
        preprocess=dict(preprocess),
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
    (``best.pt`` of ``v1mtl train``, a core file, or a V1 model's ``model.pt``); the ``shared.*``
    weights must be exactly those of the trunk ``model_config`` describes."""
    ckpt = load_checkpoint(path)
    cfg, state = network_fields(ckpt, path)
    shared = {k[len("shared.") :]: v for k, v in state.items() if k.startswith("shared.")}
    if not shared:
        raise InputError("the state_dict has no shared.* weights", path=path, field="state_dict")
    # The trunk alone (no heads, no dry run) costs only its own weights to build.
    # a front end's filters are sized by any image size here: the saved ones replace them
    trunk = make_trunk(cfg, image_size=64)[: shared_layer_index(cfg.arch, cfg.batch_norm, cfg.shared_layer)]
    adopt_saved_banks(trunk, shared)
    load_weights(trunk, shared, path, field="state_dict shared.*")
    field = "normalization" if ckpt.get("normalization") is not None else "stats"
    norm = ckpt.get(field)
    normalization = None if norm is None else stats_of(norm, path, field)
    return SharedCore(cfg, shared, normalization)
