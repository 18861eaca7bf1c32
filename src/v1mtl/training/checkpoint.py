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
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from v1mtl.common.config import config_from_dict
from v1mtl.common.errors import InputError
from v1mtl.fitting import load_checkpoint
from v1mtl.models import ModelConfig, MultiTaskNet, build_network
from v1mtl.neural_model.checkpoint import model_config_from_dict
from v1mtl.training.config import TrainConfig

STATE_KIND = "v1mtl-train-state"
NETWORK_KIND = "v1mtl-trained-network"
FORMAT_VERSION = 1
LAST = "last.pt"
BEST = "best.pt"


def read_checkpoint(path: str | Path, kind: str | None = None) -> dict[str, Any]:
    """Load a checkpoint dict on the CPU, checking its ``kind`` when given."""
    ckpt = load_checkpoint(path)
    if kind is not None and ckpt.get("kind") not in (kind, STATE_KIND if kind == NETWORK_KIND else kind):
        raise InputError(f"expected a '{kind}' checkpoint, got {ckpt.get('kind')!r}", path=path, field="kind")
    return ckpt


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
    """
    path = resolve_checkpoint(run_dir_or_ckpt)
    ckpt = read_checkpoint(path, NETWORK_KIND)
    for key in ("model_config", "state_dict", "config", "n_classes"):
        if key not in ckpt:
            raise InputError("missing key", path=path, field=key)
    cfg = config_from_dict(TrainConfig, ckpt["config"], source=str(path))
    model_cfg = model_config_from_dict(ckpt["model_config"], path)
    sessions = {str(k): int(v) for k, v in ckpt.get("sessions", {}).items()}
    net = build_network(
        model_cfg,
        n_classes=int(ckpt["n_classes"]),
        sessions=sessions or None,
        image_size=int(ckpt["image_size"]),
        neural_image_size=ckpt.get("neural_image_size"),
    )
    net.load_state_dict(ckpt["state_dict"])
    net.to(device).eval()
    extras = {
        key: ckpt.get(key)
        for key in (
            "class_names",
            "image_size",
            "neural_image_size",
            "normalization",
            "epoch",
            "val_accuracy",
        )
    }
    extras["sessions"] = sessions
    extras["path"] = str(path)
    return net, cfg, extras


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
