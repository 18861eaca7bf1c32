"""Checkpoint files of every fit: written atomically, read back on the CPU as plain dicts.

A checkpoint is a ``torch.save`` dict of plain values and tensors, so it loads with ``weights_only=True``
(no code runs from the file). The V1 model fit (``v1mtl.neural_model``) and the co-training run
(``v1mtl.training``) each put their own fields in it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from v1mtl.common.atomic import write_with
from v1mtl.common.errors import InputError


def save_checkpoint(path: str | Path, payload: dict[str, Any]) -> None:
    """``torch.save`` to a temporary sibling, then rename (a killed process leaves the old file)."""
    write_with(path, lambda fh: torch.save(payload, fh))


def load_checkpoint(path: str | Path) -> dict[str, Any]:
    """Load a checkpoint dict on the CPU; a missing, unreadable or foreign file is a one-line ``InputError``."""
    path = Path(path)
    if not path.is_file():
        raise InputError("no such checkpoint file", path=path)
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # torch raises many types for a corrupt or foreign file
        raise InputError(f"not a readable torch checkpoint ({err})", path=path) from err
    if not isinstance(ckpt, dict):
        raise InputError("expected a checkpoint dict", path=path)
    return ckpt
