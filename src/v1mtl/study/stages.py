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
A unit whose fingerprint or inputs changed starts from an empty folder, so stale checkpoints are never resumed,
and finished results are never deleted: a folder that holds finished work (a ``.done.json`` marker) of other
settings or inputs is moved aside to ``<name>.replaced-<YYYYmmdd-HHMMSS>``, and only a folder of unfinished work
(no marker) is removed. The driver refuses to replace finished work unless asked to
(``v1mtl.study.runner.check_replacements``); ``what_changed`` names the reason. A ``derived`` unit (a cheap
summary, such as the report) is rerun in place without asking.
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
REPLACED = ".replaced-"  # infix of the folders that finished work is moved to when its unit runs again
# how many changed settings (or inputs) a reason lists before ", ..."
SHOWN_CHANGES = 3


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
        derived: its outputs are a cheap summary of other units' (the report): when it runs again it reruns
            in its folder, overwriting its outputs, and never asks before replacing them.
    """

    stage: str
    name: str
    settings: Any
    run: Callable[[Path], Any]
    upstream: Sequence[Unit] = ()
    cost: float = 1.0
    uses_device: bool = False
    on_driver: bool = False
    derived: bool = False
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


def _recomputed(unit: Unit, root: Path, memo: dict[int, bool]) -> bool:
    """Whether the unit runs again: it is incomplete, or one of its inputs runs again (which gives that input a
    new run id, so a marker that matches now is stale by the time the unit starts)."""
    if id(unit) not in memo:
        memo[id(unit)] = not is_complete(unit, root) or any(_recomputed(u, root, memo) for u in unit.upstream)
    return memo[id(unit)]


def holds_finished_work(unit: Unit, root: Path) -> bool:
    """Whether the unit's folder holds finished work (a ``.done.json`` marker) that running the unit now would
    replace: work of another fingerprint, of other upstream outputs, or of inputs that run again first."""
    if not (unit.folder(root) / DONE_FILE).is_file():
        return False
    memo: dict[int, bool] = {}
    return not is_complete(unit, root) or any(_recomputed(u, root, memo) for u in unit.upstream)


def _label(unit: Unit) -> str:
    return f"{unit.stage}/{unit.name}"


def _flat(value: Any, prefix: str = "") -> dict[str, Any]:
    """Nested mappings as ``dotted.key -> value``; any other value (a list, None, a number) is one leaf."""
    if not isinstance(value, dict) or not value:
        return {prefix: value}
    out: dict[str, Any] = {}
    for key, item in value.items():
        out |= _flat(item, f"{prefix}.{key}" if prefix else str(key))
    return out


def _shown(value: Any) -> str:
    """A setting as a user writes it in ``--set`` (strings bare, the rest as JSON), cut short when long."""
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text if len(text) <= 40 else text[:37] + "..."


def _listed(items: list[str]) -> str:
    more = ", ..." if len(items) > SHOWN_CHANGES else ""
    return ", ".join(items[:SHOWN_CHANGES]) + more


def _changed_settings(old: Any, new: Any) -> list[str]:
    """``key: old -> new`` for every dotted key whose value differs (``(unset)`` where one side lacks it)."""
    # through JSON, as the recorded settings went, so tuples and lists (or paths and strings) compare equal
    before, after = _flat(old), _flat(json.loads(json.dumps(new, default=str)))
    unset = object()
    changes = []
    for key in dict.fromkeys([*before, *after]):
        a, b = before.get(key, unset), after.get(key, unset)
        if a != b:
            left = "(unset)" if a is unset else _shown(a)
            right = "(unset)" if b is unset else _shown(b)
            changes.append(f"{key or 'settings'}: {left} -> {right}")
    return changes


def what_changed(unit: Unit, root: Path) -> str:
    """Why the unit's finished work would be replaced, in a few words: its changed settings as dotted keys
    (``schedule.max_epochs: 1 -> 2``), else the inputs it reads that are new, dropped or computed again."""
    folder = unit.folder(root)
    started = _read(folder / STARTED_FILE) or {}
    if "settings" in started:
        changes = _changed_settings(started["settings"], unit.settings)
        if changes:
            return _listed(changes)
    recorded = (_read(folder / DONE_FILE) or {}).get("inputs")
    current = _inputs(unit, root)
    if recorded is not None:
        new = [key for key in current if key not in recorded]
        dropped = [key for key in recorded if key not in current]
        if new:
            return "new input(s) " + _listed(new)
        if dropped:
            return "input(s) no longer read " + _listed(dropped)
    memo: dict[int, bool] = {}
    for u in unit.upstream:
        if _recomputed(u, root, memo):
            return f"its input {_label(u)} is computed again"
    for u in unit.upstream:
        if recorded is not None and recorded.get(_label(u)) != current[_label(u)]:
            return f"its input {_label(u)} was computed again"
    return "its settings or inputs changed"


def _free_sibling(folder: Path, stamp: str) -> Path:
    """The free sibling ``<name>.replaced-<stamp>`` (``-2``, ``-3``, ... appended when taken)."""
    target = folder.with_name(f"{folder.name}{REPLACED}{stamp}")
    count = 1
    while target.exists():
        count += 1
        target = folder.with_name(f"{folder.name}{REPLACED}{stamp}-{count}")
    return target


def is_replaced(path: Path) -> bool:
    """Whether ``path`` lies in a folder that finished work was moved to (see ``prepare_folder``)."""
    return any(REPLACED in part for part in path.parts)


def prepare_folder(unit: Unit, root: Path, *, stamp: str) -> Path:
    """Return the unit's folder, ready for work under its current fingerprint and inputs.

    A folder that holds finished work of other settings or inputs is moved to ``<name>.replaced-<stamp>``
    (the driver's start time, ``YYYYmmdd-HHMMSS``), never deleted. A folder of unfinished work started under
    another fingerprint or from other upstream outputs is emptied, so stale checkpoints are never resumed.
    A ``derived`` unit's folder is kept and its work overwrites its outputs. Temporaries a killed writer
    left in the folder (``.NAME.XXXXXXXX.tmp`` files, ``.NAME.XXXXXXXX.partial`` folders) are removed: the
    driver prepares a unit only when nothing else runs it.
    """
    folder = unit.folder(root)
    started = folder / STARTED_FILE
    inputs = _inputs(unit, root)
    if not unit.derived and holds_finished_work(unit, root):
        folder.rename(_free_sibling(folder, stamp))
    elif folder.exists() and not _same_work(_read(started), unit, inputs):
        if unit.derived:
            started.unlink(missing_ok=True)  # rewritten below for the new work
        else:
            shutil.rmtree(folder)
    folder.mkdir(parents=True, exist_ok=True)
    atomic.remove_stale_temporaries(folder)
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
