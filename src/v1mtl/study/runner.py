"""The study's driver: run a list of units on an executor, each as soon as its inputs are complete.

The driver alone decides what runs (fingerprints, ``.done.json`` markers: ``v1mtl.study.stages``), empties
and prepares a unit's folder before it starts, and writes its marker when it has finished; an executor
only runs the work. So a study started with one executor resumes with another. It prints one line per
finished unit: its result in a few words (``unit_results``), how long it took, and the study's progress
(units done / running / waiting, elapsed, time left re-estimated as units finish).

Before anything starts, it refuses to replace finished work: when a unit to run holds finished outputs of
other settings or inputs (``v1mtl.study.stages.holds_finished_work``), the study stops with one line naming
them and what changed, unless ``replace`` is set; then each such folder is moved aside
(``<name>.replaced-<time>``) as its unit starts.

A unit that stops on bad input stops the study with that one line; a unit that fails otherwise stops it with
its error; Ctrl-C stops it too. In every case the running units are cancelled and every finished unit's
outputs stay, so rerunning the same command resumes.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable, Hashable, Sequence
from pathlib import Path

from v1mtl.common.errors import InputError
from v1mtl.study.executors import Executor, LocalExecutor
from v1mtl.study.stages import (
    Unit,
    holds_finished_work,
    is_complete,
    mark_complete,
    prepare_folder,
    unit_seconds,
    what_changed,
)
from v1mtl.study.unit_job import UnitJob, UnitOutcome, execute_job, write_token
from v1mtl.study.unit_results import describe

# how many units the refusal to replace finished work names before "and N more"
SHOWN_UNITS = 5


def format_seconds(seconds: float) -> str:
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes:02d}m"
    return f"{minutes}m{secs:02d}s" if minutes else f"{secs}s"


class TimeLeft:
    """Estimate of the time left, with ``slots`` units running side by side.

    Each remaining unit is expected to take the mean seconds per unit of cost of the finished units of its
    own stage (units of one stage do the same work at the same size); a stage none of whose units has
    finished yet uses the rate over all stages. Costs are the plan's relative weights, which alone were off
    by 2x in both directions, hence the per-stage rates. The first estimate appears once one unit has been
    timed.
    """

    def __init__(self, slots: int = 1) -> None:
        self.slots = max(1, slots)
        self._seconds: dict[str, float] = {}
        self._cost: dict[str, float] = {}

    def add(self, stage: str, cost: float, seconds: float) -> None:
        self._cost[stage] = self._cost.get(stage, 0.0) + cost
        self._seconds[stage] = self._seconds.get(stage, 0.0) + seconds

    def _rate(self, stage: str) -> float:
        if self._cost.get(stage, 0.0) > 0:
            return self._seconds[stage] / self._cost[stage]
        return sum(self._seconds.values()) / sum(self._cost.values())

    def estimate(self, remaining: Sequence[tuple[str, float]]) -> str:
        """``remaining``: ``(stage, cost)`` of every unit not finished yet."""
        if sum(self._cost.values()) <= 0:
            return "estimating"
        seconds = sum(cost * self._rate(stage) for stage, cost in remaining)
        return "~" + format_seconds(seconds / self.slots)


def _check_order(units: Sequence[Unit]) -> None:
    for position, unit in enumerate(units):
        missing = [u for u in unit.upstream if u not in units[:position]]
        if missing:
            raise ValueError(
                f"{unit.stage}/{unit.name} is listed before its input {missing[0].stage}/{missing[0].name}"
            )


def _stale(units: Sequence[Unit], root: Path) -> set[int]:
    """Ids of the units to run: incomplete ones, and those whose input runs now (stale even if their
    marker still matches the old input)."""
    rerun: set[int] = set()
    for unit in units:
        if not is_complete(unit, root) or any(id(u) in rerun for u in unit.upstream):
            rerun.add(id(unit))
    return rerun


def _label(unit: Unit) -> str:
    return f"{unit.stage}/{unit.name}"


def check_replacements(units: Sequence[Unit], root: Path, *, replace: bool) -> list[Unit]:
    """The units whose finished work running ``units`` would replace (``derived`` ones aside); unless
    ``replace``, raise ``InputError`` naming them (up to ``SHOWN_UNITS``) and what changed for each."""
    replaced = [u for u in units if not u.derived and holds_finished_work(u, root)]
    if replaced and not replace:
        named = "; ".join(f"{_label(u)} ({what_changed(u, root)})" for u in replaced[:SHOWN_UNITS])
        more = f"; and {len(replaced) - SHOWN_UNITS} more" if len(replaced) > SHOWN_UNITS else ""
        raise InputError(
            f"{len(replaced)} finished unit(s) in {root} would be replaced: {named}{more}. Rerun with --force "
            "to keep them in <name>.replaced-<time>/ and run them again, or choose another --out."
        )
    return replaced


def run_units(
    units: Sequence[Unit],
    root: Path,
    *,
    executor: Executor | None = None,
    device: str = "cpu",
    log: Callable[[str], None] = print,
    replace: bool = False,
    on_finish: Callable[[Unit], None] | None = None,
) -> dict[str, float]:
    """Run ``units`` (already in dependency order) under ``root`` on ``executor`` (default: one at a time
    in this process); return seconds per unit run now, keyed ``stage/name``.

    A unit with ``uses_device`` asks its executor for a GPU when ``device`` is ``cuda``; a unit with
    ``on_driver`` runs here, whatever the executor. A unit to run whose folder holds finished work of other
    settings or inputs stops the study before anything starts (``check_replacements``), unless ``replace``:
    then that folder is moved aside to ``<name>.replaced-<time>`` (one time for the whole call).
    ``on_finish(unit)`` is called on this process after each unit's marker is written (run tracking).
    """
    _check_order(units)
    replaced = check_replacements(units, root, replace=replace)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    executor = executor or LocalExecutor()
    rerun = _stale(units, root)
    timer = TimeLeft(executor.slots)
    for unit in units:
        if id(unit) not in rerun:
            seconds = unit_seconds(unit, root)
            if seconds:
                timer.add(unit.stage, unit.cost, seconds)
    stages = list(dict.fromkeys(u.stage for u in units))
    pending = [u for u in units if id(u) in rerun]
    done = {id(u) for u in units if id(u) not in rerun}
    running: dict[Hashable, Unit] = {}
    ran: dict[str, float] = {}
    start = time.perf_counter()

    def status() -> str:
        left = [(u.stage, u.cost) for u in [*pending, *running.values()]]
        return (
            f"[{len(done)}/{len(units)} done, {len(running)} running, {len(pending)} waiting; "
            f"elapsed {format_seconds(time.perf_counter() - start)}, left {timer.estimate(left)}]"
        )

    log(
        f"study: {len(units)} units in {len(stages)} stages, {len(done)} complete, {len(pending)} to run; "
        f"executor {executor.description}"
    )
    if replaced:
        log(
            f"replacing {len(replaced)} finished unit(s), each kept in <name>.replaced-{stamp}/ as it starts: "
            + ", ".join(_label(u) for u in replaced)
        )
    token = write_token(root)
    cwd = os.getcwd()
    this_host = socket.gethostname()

    def job(unit: Unit, capture: bool) -> UnitJob:
        folder = prepare_folder(unit, root, stamp=stamp)
        return UnitJob(_label(unit), unit.run, folder, root, token, cwd, executor.threads, capture)

    def finish(unit: Unit, outcome: UnitOutcome) -> None:
        if outcome.error is not None:
            raise InputError(f"{outcome.error} (in unit {_label(unit)})")
        mark_complete(unit, root, outcome.seconds)
        done.add(id(unit))
        timer.add(unit.stage, unit.cost, outcome.seconds)
        ran[_label(unit)] = outcome.seconds
        # the host only when it is another machine (a cluster); on this one it says nothing
        where = f" on {outcome.host}" if outcome.host and outcome.host != this_host else ""
        result = describe(unit.stage, unit.folder(root))
        log(
            f"done {_label(unit)} in {format_seconds(outcome.seconds)}{where}"
            + (f": {result}" if result else "")
            + f" {status()}"
        )
        if on_finish is not None:
            on_finish(unit)

    try:
        while pending or running:
            ready = [u for u in pending if all(id(x) in done for x in u.upstream)]
            for unit in ready:
                if executor.capacity is not None and len(running) >= executor.capacity:
                    break
                pending.remove(unit)
                if unit.on_driver:
                    finish(unit, execute_job(job(unit, capture=False)))
                    continue
                gpus = 1 if device == "cuda" and unit.uses_device else 0
                running[executor.submit(job(unit, executor.captures_output), gpus=gpus)] = unit
            if running:
                for handle, outcome in executor.wait(list(running)):
                    finish(running.pop(handle), outcome)
    except BaseException as err:
        if running:
            executor.cancel(list(running))
            what = "interrupted" if isinstance(err, KeyboardInterrupt) else "stopped"
            names = ", ".join(_label(u) for u in running.values())
            log(f"study {what}: cancelled {names}; finished units are kept, rerun the same command to resume")
        raise
    log(
        f"all {len(units)} units complete ({len(ran)} run now, {format_seconds(time.perf_counter() - start)})"
    )
    return ran
