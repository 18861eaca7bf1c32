"""Checkpoints of a training run and the one function that loads a trained network.

Files in a run folder (all written atomically; every ``.pt`` loads with ``torch.load(weights_only=True)``):

- ``last.pt`` (kind ``v1mtl-train-state``): everything needed to resume bit-identically: ``epoch``,
  ``state_dict`` (network), ``loss_weights``, ``optimizer``, ``scheduler``, ``early_stopping``,
  ``best_state_dict`` and ``best_loss_weights`` (the weights early stopping restores), ``history`` (the
  ``metrics.jsonl`` records), plus the fields of ``best.pt`` below. Random streams need no saving: every
  epoch reseeds them from (seed, epoch, rank).
- ``best.pt`` (kind ``v1mtl-trained-network``): the weights with the best validation accuracy, which are
  also the final weights. Keys: ``kind``, ``format_version``, ``model_config`` (``ModelConfig`` as a dict),
  ``state_dict`` (``MultiTaskNet``), ``n_classes``, ``class_names``, ``sessions`` (session id -> neurons;
  empty for classification-only conditions), ``image_size``, ``neural_image_size``, ``normalization``
  (``{"mean", "std"}`` in [0, 1] pixel units), ``config`` (the resolved ``TrainConfig``), ``epoch``,
  ``val_accuracy``, ``loss_weights``. ``v1mtl.neural_model.checkpoint.load_shared_core`` reads it too.

``load_trained_network`` checks every field it reads before using it: ``kind``, ``format_version`` (at most
this version), ``config`` and ``model_config`` against their schemas, ``n_classes`` (a positive int, equal
to the number of ``class_names``), ``image_size`` (equal to the config's ``data.image_size``; taken from it
when missing), ``sessions``, ``neural_image_size``, ``normalization``, ``epoch``, ``val_accuracy``, and the
``state_dict`` (finite dense tensors whose names and shapes are exactly the network's). The optional fields
may be missing or null. A malformed file is one ``InputError`` line naming the file and the field.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

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
from v1mtl.models import ModelConfig, MultiTaskNet
from v1mtl.neural_model.checkpoint import build_checked, network_fields, sessions_of, stats_of
from v1mtl.training.config import TrainConfig

STATE_KIND = "v1mtl-train-state"
NETWORK_KIND = "v1mtl-trained-network"
FORMAT_VERSION = 1
LAST = "last.pt"
BEST = "best.pt"


def read_checkpoint(path: str | Path, kind: str | None = None) -> dict[str, Any]:
    """Load a checkpoint dict on the CPU, checking its ``kind`` when given (a train state is also a
    trained network: it holds every field of one)."""
    ckpt = load_checkpoint(path)
    accepted = (kind, STATE_KIND) if kind == NETWORK_KIND else (kind,)
    if kind is not None and ckpt.get("kind") not in accepted:
        got = one_line(repr(ckpt.get("kind")))
        raise InputError(f"expected a '{kind}' checkpoint, got {got}", path=path, field="kind")
    if kind == STATE_KIND:
        _check_resume_fields(ckpt, path)
    return ckpt


def _check_resume_fields(ckpt: dict[str, Any], path: str | Path) -> None:
    """The fields a resume reads from ``last.pt`` are there, of the right types (their contents are the
    trainer's own state dicts, loaded by their owners)."""
    check_state_dict(require(ckpt, "state_dict", dict, path), path)
    for key in ("loss_weights", "optimizer", "scheduler", "early_stopping", "best_loss_weights"):
        require(ckpt, key, dict, path)
    check_state_dict(require(ckpt, "best_state_dict", dict, path), path, "best_state_dict")
    require(ckpt, "history", list, path)


def resolve_checkpoint(run_dir_or_ckpt: str | Path) -> Path:
    """A run folder gives its ``best.pt``; a file is taken as is."""
    p = Path(run_dir_or_ckpt)
    if p.is_dir():
        p = p / BEST
        if not p.is_file():
            raise InputError("the run folder has no best.pt (has it trained an epoch?)", path=p.parent)
    return p


def load_trained_network(
    run_dir_or_ckpt: str | Path, device: str = "cpu"
) -> tuple[MultiTaskNet, TrainConfig, dict[str, Any]]:
    """Load a trained network (eval mode, on ``device``) from a run folder or a ``best.pt`` / ``last.pt``.

    Returns ``(net, config, extras)``; ``extras`` holds ``class_names``, ``sessions``, ``image_size``,
    ``neural_image_size``, ``normalization`` ``{"mean", "std"}``, ``epoch``, ``val_accuracy`` and
    ``path``. Feed the network gray images scaled to [0, 1] and normalized as ``(x - mean) / std``.
    Every field is checked first (module docstring).
    """
    path = resolve_checkpoint(run_dir_or_ckpt)
    ckpt = read_checkpoint(path, NETWORK_KIND)
    _check_format_version(ckpt.get("format_version"), path)
    cfg = config_from_dict(TrainConfig, require(ckpt, "config", dict, path), source=str(path))
    model_cfg, state = network_fields(ckpt, path)
    if model_cfg != cfg.model:
        raise InputError("differs from the config's model section", path=path, field="model_config")
    n_classes = positive_int(require(ckpt, "n_classes", int, path), path, "n_classes")
    extras = _extras(ckpt, path, cfg, n_classes)
    net = build_checked(
        model_cfg,
        path,
        n_classes=n_classes,
        sessions=extras["sessions"] or None,
        image_size=extras["image_size"],
        neural_image_size=extras["neural_image_size"],
    )
    load_weights(net, state, path)
    net.to(device).eval()
    extras["path"] = str(path)
    return net, cfg, extras


def _check_format_version(value: Any, path: Path) -> None:
    """Missing means version 1 (the files written before the field existed); a newer one is refused."""
    if value is not None and positive_int(value, path, "format_version") > FORMAT_VERSION:
        raise InputError(
            f"written by a newer v1mtl (format {value}; this one reads up to {FORMAT_VERSION})",
            path=path,
            field="format_version",
        )


def _extras(ckpt: dict[str, Any], path: Path, cfg: TrainConfig, n_classes: int) -> dict[str, Any]:
    """The checked optional fields of a trained network; a missing or null field is None (``image_size``:
    the config's, ``sessions``: empty)."""

    def optional(key: str, check: Callable[[Any], Any]) -> Any:
        value = ckpt.get(key)
        return None if value is None else check(value)

    return {
        "class_names": optional("class_names", lambda v: _class_names(v, path, n_classes)),
        "image_size": optional("image_size", lambda v: _image_size(v, path, cfg)) or cfg.data.image_size,
        "neural_image_size": optional(
            "neural_image_size", lambda v: positive_int(v, path, "neural_image_size")
        ),
        "normalization": optional("normalization", lambda v: _normalization(v, path)),
        "epoch": optional("epoch", lambda v: _epoch(v, path)),
        "val_accuracy": optional("val_accuracy", lambda v: _accuracy(v, path)),
        "sessions": sessions_of(ckpt.get("sessions"), path),
    }


def _image_size(value: Any, path: Path, cfg: TrainConfig) -> int:
    """``image_size``: the config's ``data.image_size`` (the trainer writes both)."""
    if positive_int(value, path, "image_size") != cfg.data.image_size:
        raise InputError(
            f"{value} differs from the config's data.image_size {cfg.data.image_size}",
            path=path,
            field="image_size",
        )
    return value


def _normalization(value: Any, path: Path) -> dict[str, float]:
    mean, std = stats_of(value, path, "normalization")
    return {"mean": mean, "std": std}


def _epoch(value: Any, path: Path) -> int:
    if check_type(value, int, path, "epoch") < 0:
        raise InputError(f"must be >= 0, got {value}", path=path, field="epoch")
    return value


def _accuracy(value: Any, path: Path) -> float:
    accuracy = finite_float(value, path, "val_accuracy")
    if not 0 <= accuracy <= 1:
        raise InputError(f"must be in [0, 1], got {accuracy}", path=path, field="val_accuracy")
    return accuracy


def _class_names(value: Any, path: Path, n_classes: int) -> list[str]:
    """``class_names``: one string per class."""
    check_type(value, list, path, "class_names")
    for i, name in enumerate(value):
        check_type(name, str, path, f"class_names[{i}]")
    if len(value) != n_classes:
        raise InputError(f"{len(value)} names for n_classes {n_classes}", path=path, field="class_names")
    return list(value)


@dataclass
class LoadedNetwork:
    """A trained network with what the evaluations and analyses need to feed it.

    Attributes:
        net: the network (eval mode).
        model_cfg: its architecture.
        mean, std: input normalization in [0, 1] pixel units.
        image_size: side of the classification images it was trained on.
        path: the checkpoint file.
        name: a short label for tables and figures.
        config: the run's whole training config.
        class_names: the classification classes, index = label (empty if the checkpoint has none).
    """

    net: MultiTaskNet
    model_cfg: ModelConfig
    mean: float
    std: float
    image_size: int
    path: str
    name: str
    config: TrainConfig | None = None
    class_names: list[str] = field(default_factory=list)


def load_network(ckpt: str | Path, name: str | None = None, device: str = "cpu") -> LoadedNetwork:
    """Load a trained network (``load_trained_network``) with what the evaluations and analyses need."""
    net, cfg, extras = load_trained_network(ckpt, device=device)
    norm = extras.get("normalization") or {"mean": cfg.data.mean, "std": cfg.data.std}
    path = Path(extras["path"])
    default_name = path.parent.name if path.name in ("best.pt", "last.pt") else path.stem
    return LoadedNetwork(
        net=net,
        model_cfg=cfg.model,
        mean=float(norm["mean"]),
        std=float(norm["std"]),
        image_size=int(extras.get("image_size") or cfg.data.image_size),
        path=str(path),
        name=name or default_name,
        config=cfg,
        class_names=list(extras.get("class_names") or []),
    )
