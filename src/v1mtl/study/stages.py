"""Resumable stages: each unit of work owns a folder and is skipped when its inputs have not changed.

A unit's *fingerprint* hashes its own settings together with the fingerprints of the units it reads from.
A unit is complete when its folder holds ``.done.json`` with the same fingerprint, so:
- a finished study reruns nothing;
- a killed study resumes at the first incomplete unit (and a unit that checkpoints itself, such as training,
  resumes inside);
- a changed setting reruns exactly the units whose fingerprints change, i.e. that unit and what depends on it.
A unit whose fingerprint changed starts from an empty folder, so stale checkpoints are never resumed.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from v1mtl import atomic

DONE_FILE = ".done.json"
STARTED_FILE = ".fingerprint.json"


def fingerprint(settings: Any, upstream: Sequence[str] = ()) -> str:
    """A short stable hash of JSON-serializable ``settings`` and the fingerprints of upstream units."""
    payload = json.dumps({"settings": settings, "upstream": list(upstream)}, sort_keys=True, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


@dataclass
class Unit:
    """One piece of work: ``run(folder)`` writes its outputs into ``folder``.

    Attributes:
        stage: the stage it belongs to (e.g. ``train``).
        name: its name within the stage (e.g. ``mtl-seed0``); the folder is ``<root>/<stage>/<name>``.
        settings: everything that determines its outputs (JSON-serializable).
        run: the work; it may resume from files it finds in the folder.
        upstream: units whose outputs it reads.
        cost: a relative cost estimate, used for the time-left estimate before any unit has been timed.
    """

    stage: str
    name: str
    settings: Any
    run: Callable[[Path], Any]
    upstream: Sequence[Unit] = ()
    cost: float = 1.0
    _fingerprint: str | None = field(default=None, init=False, repr=False)

    @property
    def fingerprint(self) -> str:
        if self._fingerprint is None:
            self._fingerprint = fingerprint(self.settings, [u.fingerprint for u in self.upstream])
        return self._fingerprint

    def folder(self, root: Path) -> Path:
        return root / self.stage / self.name


def is_complete(unit: Unit, root: Path) -> bool:
    done = unit.folder(root) / DONE_FILE
    if not done.exists():
        return False
    try:
        return json.loads(done.read_text()).get("fingerprint") == unit.fingerprint
    except (OSError, json.JSONDecodeError):
        return False


def prepare_folder(unit: Unit, root: Path) -> Path:
    """Return the unit's folder, emptied first if it holds work done under another fingerprint."""
    folder = unit.folder(root)
    started = folder / STARTED_FILE
    if folder.exists():
        try:
            same = json.loads(started.read_text()).get("fingerprint") == unit.fingerprint
        except (OSError, json.JSONDecodeError):
            same = False
        if not same:
            shutil.rmtree(folder)
    folder.mkdir(parents=True, exist_ok=True)
    if not started.exists():
        atomic.write_json(started, {"fingerprint": unit.fingerprint, "settings": unit.settings})
    return folder


def mark_complete(unit: Unit, root: Path, seconds: float) -> None:
    atomic.write_json(
        unit.folder(root) / DONE_FILE,
        {
            "fingerprint": unit.fingerprint,
            "seconds": round(seconds, 2),
            "finished": time.strftime("%Y-%m-%dT%H:%M:%S"),
        },
    )


def unit_seconds(unit: Unit, root: Path) -> float | None:
    """How long a completed unit took, from its marker."""
    done = unit.folder(root) / DONE_FILE
    if not done.exists():
        return None
    return float(json.loads(done.read_text()).get("seconds", 0.0))
