"""``executor: local``: one unit at a time in the study's own process, without Ray (debugging, one core)."""

from __future__ import annotations

from collections.abc import Sequence

from v1mtl.study.unit_job import UnitJob, UnitOutcome, execute_job


class LocalExecutor:
    """Runs each submitted unit when the driver waits for it, in plan order; an exception propagates as it
    is (so a debugger stops where it was raised).

    A unit's output goes to its folder's ``log.txt``, as on any executor, unless ``console`` (debugging on
    a terminal: the stages' own lines and progress bars show as they run)."""

    capacity = 1
    slots = 1

    def __init__(self, cpus_per_unit: int = 1, *, console: bool = False):
        self.captures_output = not console
        self.threads = cpus_per_unit
        self.description = f"local (one unit at a time, {cpus_per_unit} thread{'s' * (cpus_per_unit > 1)})"
        self._jobs: dict[int, UnitJob] = {}
        self._next = 0

    def submit(self, job: UnitJob, *, gpus: int) -> int:
        self._next += 1
        self._jobs[self._next] = job
        return self._next

    def wait(self, handles: Sequence[int]) -> list[tuple[int, UnitOutcome]]:
        handle = handles[0]
        return [(handle, execute_job(self._jobs.pop(handle)))]

    def cancel(self, handles: Sequence[int]) -> None:
        for handle in handles:
            self._jobs.pop(handle, None)

    def close(self) -> None:
        self._jobs.clear()
