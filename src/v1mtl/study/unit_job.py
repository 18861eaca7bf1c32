"""What runs on a worker: one unit of a study, in its folder, with its threads pinned and its output logged.

The driver (``v1mtl.study.runner``) prepares the unit's folder and writes its ``.done.json`` marker; the
worker only runs the unit's work. Every executor runs a unit through ``execute_job``, so a unit computes
the same numbers wherever it runs.
"""

from __future__ import annotations

import contextlib
import os
import socket
import time
import traceback
import uuid
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from v1mtl.common import atomic
from v1mtl.common.errors import InputError

# the study's token: a worker that cannot read it does not see the study folder the driver writes
TOKEN_FILE = ".study-token"
# which process runs (or last ran) a unit, for the user and for tests that stop it
WORKER_FILE = ".worker.json"
# a unit's console output when it runs on a worker
LOG_FILE = "log.txt"


@dataclass
class UnitJob:
    """One unit's work as it travels to a worker (pickled with cloudpickle by Ray and submitit).

    Attributes:
        label: ``stage/name``.
        run: the unit's work, ``run(folder)``.
        folder: the unit's folder (as the driver names it; relative paths resolve from ``cwd``).
        root: the study folder.
        token: the content of ``root / TOKEN_FILE`` this study run wrote.
        cwd: the driver's working directory, where the config's relative paths start.
        threads: torch and BLAS threads of the unit.
        capture: write the unit's stdout and stderr to ``folder / LOG_FILE`` (on workers) instead of the
            console (in the driver).
    """

    label: str
    run: Callable[[Path], Any]
    folder: Path
    root: Path
    token: str
    cwd: str
    threads: int
    capture: bool


@dataclass
class UnitOutcome:
    """What a worker reports back: the unit's seconds, where it ran, and an ``InputError``'s message if
    it stopped on bad input (any other exception travels as the executor's own error)."""

    seconds: float
    host: str
    pid: int
    error: str | None = None


def write_token(root: Path) -> str:
    """Write a fresh token into the study folder; every job of this run checks it is there."""
    token = uuid.uuid4().hex
    atomic.write_text(root / TOKEN_FILE, token)
    return token


def check_visible(root: Path, token: str) -> None:
    """Raise an ``InputError`` unless this process sees the study folder the driver writes."""
    try:
        seen = (root / TOKEN_FILE).read_text().strip()
    except OSError:
        seen = None
    if seen != token:
        raise InputError(
            f"a worker on host {socket.gethostname()} cannot see the study folder "
            f"{Path(root).resolve()} that the study writes: on a cluster it must be on a file system every "
            "node shares",
            path=root,
        )


def execute_job(job: UnitJob) -> UnitOutcome:
    """Run ``job`` here and report how it went; bad input (``InputError``) comes back as the outcome's
    ``error``, so the driver can stop the study with that one line."""
    host, pid = socket.gethostname(), os.getpid()
    start = time.perf_counter()
    try:
        _enter(job)
        atomic.write_json(
            job.folder / WORKER_FILE,
            {"host": host, "pid": pid, "started": time.strftime("%Y-%m-%dT%H:%M:%S")},
        )
        with _threads(job.threads), _output(job.folder / LOG_FILE if job.capture else None):
            _seed_global_generator(job.label)
            start = time.perf_counter()
            try:
                job.run(job.folder)
            except Exception as err:
                if job.capture and not isinstance(err, InputError):
                    traceback.print_exc()  # the traceback stays in the unit's log, beside its output
                raise
    except InputError as err:
        return UnitOutcome(time.perf_counter() - start, host, pid, error=str(err))
    return UnitOutcome(time.perf_counter() - start, host, pid)


def _enter(job: UnitJob) -> None:
    """Work from the driver's directory, and check this process sees the study folder."""
    try:
        os.chdir(job.cwd)
    except OSError as err:
        raise InputError(
            f"a worker on host {socket.gethostname()} cannot enter the study's working directory (the config's "
            "relative paths start there): on a cluster it must be on a file system every node shares",
            path=job.cwd,
        ) from err
    check_visible(job.root, job.token)


def _seed_global_generator(label: str) -> None:
    """Start torch's global generator from the unit's label (CRC-32), so a stage that draws from it (the
    noise of a stochastic network in an analysis) gives the same numbers on any worker, after any other
    unit; stages that seed their own generators are unaffected."""
    import torch

    torch.manual_seed(zlib.crc32(label.encode()))


@contextlib.contextmanager
def _threads(n: int) -> Iterator[None]:
    """Pin torch's and the BLAS libraries' threads to ``n`` while the unit runs."""
    import torch
    from threadpoolctl import threadpool_limits

    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        with threadpool_limits(limits=n):
            yield
    finally:
        torch.set_num_threads(before)


@contextlib.contextmanager
def _output(log: Path | None) -> Iterator[None]:
    """Send the unit's stdout and stderr to ``log`` (appending, so a retried unit keeps both attempts)."""
    if log is None:
        yield
        return
    with open(log, "a", buffering=1) as stream, contextlib.redirect_stdout(stream):
        with contextlib.redirect_stderr(stream):
            yield
