"""The interface every executor implements, and the error of a unit that failed on a worker."""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Protocol

from v1mtl.study.unit_job import UnitJob, UnitOutcome


class UnitFailed(RuntimeError):
    """A unit raised (other than bad input) or its worker died more often than it may be retried.

    The message names the unit and carries the worker's error (with its traceback where there is one).
    """

    def __init__(self, label: str, detail: str):
        self.label = label
        super().__init__(f"unit {label} failed: {detail}")


class Executor(Protocol):
    """Runs ``UnitJob``s.

    Attributes:
        description: for the study's first line (``ray at 10.0.0.1:6379, 32 CPUs, 1 per unit``).
        slots: units that run at the same time when enough are ready (for the time-left estimate).
        capacity: at most this many units submitted at once, or None when the executor queues them itself.
        captures_output: a unit's output goes to its folder's log rather than the console.
        threads: torch and BLAS threads of each unit (the CPUs it asks for).
    """

    description: str
    slots: int
    capacity: int | None
    captures_output: bool
    threads: int

    def submit(self, job: UnitJob, *, gpus: int) -> Hashable:
        """Start ``job`` (asking for ``gpus`` GPUs) and return a handle."""
        ...

    def wait(self, handles: Sequence[Hashable]) -> list[tuple[Hashable, UnitOutcome]]:
        """Block until at least one of ``handles`` has finished; return the finished ones with their
        outcomes. Raise ``UnitFailed`` for a unit that failed."""
        ...

    def cancel(self, handles: Sequence[Hashable]) -> None:
        """Stop the units of ``handles`` (their folders stay, resumable)."""
        ...

    def close(self) -> None:
        """Release what the executor started."""
        ...
