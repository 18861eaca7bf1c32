"""Run a list of units in dependency order, skipping complete ones, with a time-left estimate."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path

from v1mtl.study.stages import Unit, is_complete, mark_complete, prepare_folder, unit_seconds


def _format_seconds(seconds: float) -> str:
    seconds = int(round(seconds))
    minutes, secs = divmod(seconds, 60)
    return f"{minutes}m{secs:02d}s" if minutes else f"{secs}s"


class TimeLeft:
    """Estimate of the time left from the seconds per unit of cost measured so far.

    Costs are relative weights given by the plan; the first estimate appears once one unit has been timed.
    """

    def __init__(self) -> None:
        self.seconds = 0.0
        self.cost = 0.0

    def add(self, cost: float, seconds: float) -> None:
        self.cost += cost
        self.seconds += seconds

    def estimate(self, remaining_cost: float) -> str:
        if self.cost <= 0:
            return "estimating"
        return "~" + _format_seconds(remaining_cost * self.seconds / self.cost)


def run_units(units: Sequence[Unit], root: Path, *, log: Callable[[str], None] = print) -> dict[str, float]:
    """Run ``units`` (already in dependency order) under ``root``; return seconds per unit run now."""
    for position, unit in enumerate(units):
        missing = [u for u in unit.upstream if u not in units[:position]]
        if missing:
            raise ValueError(
                f"{unit.stage}/{unit.name} is listed before its input {missing[0].stage}/{missing[0].name}"
            )
    todo: list[Unit] = []
    rerun: set[int] = set()
    for unit in units:
        # A unit whose input reruns now is stale too, even if its marker still matches the old input.
        if not is_complete(unit, root) or any(id(u) in rerun for u in unit.upstream):
            todo.append(unit)
            rerun.add(id(unit))
    timer = TimeLeft()
    for unit in units:
        if id(unit) not in rerun:
            seconds = unit_seconds(unit, root)
            if seconds:
                timer.add(unit.cost, seconds)
    ran: dict[str, float] = {}
    start = time.perf_counter()
    stages = list(dict.fromkeys(u.stage for u in units))
    for index, unit in enumerate(units, 1):
        label = f"[stage {stages.index(unit.stage) + 1}/{len(stages)} {unit.stage}] unit {index}/{len(units)} {unit.name}"
        if id(unit) not in rerun:
            log(f"{label}: complete, skipped")
            continue
        remaining = sum(u.cost for u in todo[todo.index(unit) :])
        log(
            f"{label}: running (elapsed {_format_seconds(time.perf_counter() - start)}, left {timer.estimate(remaining)})"
        )
        t0 = time.perf_counter()
        unit.run(prepare_folder(unit, root))
        seconds = time.perf_counter() - t0
        mark_complete(unit, root, seconds)
        timer.add(unit.cost, seconds)
        ran[f"{unit.stage}/{unit.name}"] = seconds
    log(
        f"all {len(units)} units complete ({len(ran)} run now, {_format_seconds(time.perf_counter() - start)})"
    )
    return ran
