"""Compare the outputs of two study folders: the same settings should give the same numbers, whatever ran them.

``study_outputs(root)`` collects every JSON, JSON-lines and CSV output of a study with the study's own path
and every timing left out, and the weights and optimizer state of every training run's ``last.pt``, in a
form that compares with ``==`` to the last bit (the old outputs of units that ran again, moved aside to
``*.replaced-*``, are no part of the study); ``differences(a, b)`` names the outputs that differ.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from v1mtl.study.stages import DONE_FILE, STARTED_FILE, is_replaced
from v1mtl.study.unit_job import TOKEN_FILE, WORKER_FILE

# keys of how long something took, which differ between any two runs
TIMING = re.compile(r"time|seconds")
BOOKKEEPING = {DONE_FILE, STARTED_FILE, WORKER_FILE, TOKEN_FILE}


def study_outputs(root: Path) -> dict[str, Any]:
    """``relative path -> content`` of a study's outputs (see the module docstring)."""
    import torch

    root = Path(root)
    roots = [str(root.resolve()), str(root)]
    out: dict[str, Any] = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if path.name in BOOKKEEPING or ".submitit" in path.parts or is_replaced(rel) or not path.is_file():
            continue
        if path.suffix == ".json":
            out[str(rel)] = _normalized(json.loads(path.read_text()), roots)
        elif path.suffix == ".jsonl":
            out[str(rel)] = [_normalized(json.loads(line), roots) for line in path.read_text().splitlines()]
        elif path.suffix == ".csv":
            out[str(rel)] = _normalized(path.read_text(), roots)
        elif path.name == "last.pt":
            state = torch.load(path, weights_only=True)
            out[str(rel)] = _plain({k: state[k] for k in ("state_dict", "optimizer", "epoch")})
    return out


def differences(a: Path, b: Path) -> list[str]:
    """The outputs (relative paths) that differ between two study folders or exist in only one."""
    left, right = study_outputs(a), study_outputs(b)
    return sorted(k for k in left.keys() | right.keys() if left.get(k) != right.get(k))


def _normalized(value: Any, roots: list[str]) -> Any:
    if isinstance(value, dict):
        return {k: _normalized(v, roots) for k, v in value.items() if not TIMING.search(k)}
    if isinstance(value, list):
        return [_normalized(v, roots) for v in value]
    if isinstance(value, str):
        for root in roots:
            value = value.replace(root, "<study>")
    return value


def _plain(value: Any) -> Any:
    """Tensors as nested lists, so two checkpoints compare to the last bit."""
    import torch

    if isinstance(value, torch.Tensor):
        return value.tolist()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value
