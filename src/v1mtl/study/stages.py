"""Resumable stages: each unit of work owns a folder and is skipped when its inputs have not changed.

A unit's *fingerprint* hashes its own settings together with the fingerprints of the units it reads from.
A unit is complete when its folder holds ``.done.json`` with the same fingerprint and the run ids of the
upstream outputs it was made from, so:
- a finished study reruns nothing;
- a killed study resumes at the first incomplete unit (and a unit that checkpoints itself, such as training,
  resumes inside);
- a changed setting reruns exactly the units whose fingerprints change, i.e. that unit and what depends on it;
- a unit that runs again with an unchanged fingerprint (say its folder was deleted) gets a new run id in its
  marker, and every unit that recorded the old one as its input runs again too.
A unit whose fingerprint or inputs changed starts from an empty folder, so stale checkpoints are never resumed.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from v1mtl.common import atomic

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
        uses_device: it computes on the study's device (with ``device: cuda`` it asks its executor for a GPU).
        on_driver: it runs in the study's own process, never on a worker (the report, which hands its
            result back to the caller).
    """

    stage: str
    name: str
    settings: Any
    run: Callable[[Path], Any]
    upstream: Sequence[Unit] = ()
    cost: float = 1.0
    uses_device: bool = False
    on_driver: bool = False
    _fingerprint: str | None = field(default=None, init=False, repr=False)

    @property
    def fingerprint(self) -> str:
        if self._fingerprint is None:
            self._fingerprint = fingerprint(self.settings, [u.fingerprint for u in self.upstream])
        return self._fingerprint

    def folder(self, root: Path) -> Path:
        return root / self.stage / self.name


def _read(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return None


def _inputs(unit: Unit, root: Path) -> dict[str, str | None]:
    """The run id of each upstream unit's finished outputs, keyed ``stage/name``."""
    return {
        f"{u.stage}/{u.name}": (_read(u.folder(root) / DONE_FILE) or {}).get("run") for u in unit.upstream
    }


def _same_work(record: dict | None, unit: Unit, inputs: dict[str, str | None]) -> bool:
    """Whether a marker was written for this fingerprint and these upstream outputs. Markers written before
    run ids existed record none, and match upstream outputs that have none either."""
    if record is None or record.get("fingerprint") != unit.fingerprint:
        return False
    recorded = record.get("inputs", {})
    return all(recorded.get(key) == run for key, run in inputs.items())


def is_complete(unit: Unit, root: Path) -> bool:
    """Finished under this fingerprint, from the upstream outputs that are there now (an upstream unit that
    was rerun, e.g. after its folder was deleted, makes its dependents stale)."""
    return _same_work(_read(unit.folder(root) / DONE_FILE), unit, _inputs(unit, root))


def prepare_folder(unit: Unit, root: Path) -> Path:
    """Return the unit's folder, emptied first if it holds work started under another fingerprint or from
    other upstream outputs (so stale checkpoints are never resumed)."""
    folder = unit.folder(root)
    started = folder / STARTED_FILE
    inputs = _inputs(unit, root)
    if folder.exists() and not _same_work(_read(started), unit, inputs):
        shutil.rmtree(folder)
    folder.mkdir(parents=True, exist_ok=True)
    if not started.exists():
        atomic.write_json(
            started, {"fingerprint": unit.fingerprint, "inputs": inputs, "settings": unit.settings}
        )
    return folder


def mark_complete(unit: Unit, root: Path, seconds: float) -> None:
    """Write the unit's marker with a fresh run id, which its dependents record as their input."""
    atomic.write_json(
        unit.folder(root) / DONE_FILE,
        {
            "fingerprint": unit.fingerprint,
            "run": uuid.uuid4().hex,
            "inputs": _inputs(unit, root),
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
