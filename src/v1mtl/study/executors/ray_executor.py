"""``executor: ray``: every ready unit is a Ray task, on this machine's cores or on a cluster by address.

Each task asks for ``cpus_per_unit`` CPUs (and one GPU for a unit that computes on ``cuda``: Ray hides
the GPUs from a task that asks for none), so Ray never runs more units on a node than it has cores. A task
whose worker dies (killed, node lost) is retried by Ray up to ``max_retries`` times and resumes from its
unit's checkpoint; a task that raises is not retried.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Sequence

from v1mtl.common.cpus import available_cpus
from v1mtl.common.errors import InputError
from v1mtl.study.executor_config import ExecutorConfig
from v1mtl.study.executors.base import UnitFailed
from v1mtl.study.unit_job import UnitJob, UnitOutcome, execute_job

# The tasks hand back small outcomes and read their inputs from the study folder, so the object store
# stays small; Ray's default reserves 30% of the memory.
LOCAL_OBJECT_STORE_BYTES = 128 * 2**20
AUTH_NOTICE_LOGGER = "ray._private.authentication.authentication_token_setup"
# Ray itself retries an unreachable head for minutes; a study says so at once.
CONNECT_TIMEOUT_S = 10.0


def _check_reachable(address: str) -> None:
    """Raise an ``InputError`` unless ``host:port`` accepts a connection (other address forms, such as
    ``auto`` or ``ray://``, are left to Ray)."""
    host, sep, port = address.rpartition(":")
    if not sep or not port.isdigit() or "/" in host:
        return
    try:
        with socket.create_connection((host, int(port)), timeout=CONNECT_TIMEOUT_S):
            pass
    except OSError as err:
        raise InputError(
            f"cannot reach the Ray cluster at {address} ({err.strerror or err}): is `ray start --head` running there?",
            field="executor.address",
        ) from err


class RayExecutor:
    """Runs units as Ray tasks. Joins ``cfg.address`` (or ``RAY_ADDRESS``), else starts a Ray instance
    on this machine with ``cfg.cpus`` CPUs (every core by default), which ``close`` stops again."""

    captures_output = True

    def __init__(self, cfg: ExecutorConfig, *, device: str):
        import ray

        self._ray = ray
        self._retries = cfg.max_retries
        self.threads = cfg.cpus_per_unit
        address = cfg.address or os.environ.get("RAY_ADDRESS") or None
        # Ray's usage statistics would otherwise be sent from a study; a user may still switch them on.
        os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
        self._started = not ray.is_initialized()
        if self._started:
            options = {"log_to_driver": False, "logging_level": logging.WARNING}
            if address:
                _check_reachable(address)
                try:
                    ray.init(address=address, **options)
                except (ConnectionError, RuntimeError, ValueError) as err:
                    raise InputError(f"cannot join the Ray cluster: {err}", field="executor.address") from err
            else:
                # Ray's default for a new instance is token authentication, which it announces on the console
                # at every start; the study keeps the default and drops the notice.
                logging.getLogger(AUTH_NOTICE_LOGGER).setLevel(logging.ERROR)
                ray.init(
                    # "local": a new instance of its own, never a cluster Ray would find running here
                    address="local",
                    num_cpus=cfg.cpus or available_cpus(),
                    include_dashboard=False,
                    object_store_memory=LOCAL_OBJECT_STORE_BYTES,
                    **options,
                )
        resources = ray.cluster_resources()
        cpus = int(resources.get("CPU", 0))
        if cpus < self.threads:
            self.close()
            raise InputError(
                f"the Ray cluster has {cpus} CPUs, fewer than one unit asks for ({self.threads})",
                field="executor.cpus_per_unit",
            )
        self._gpu = device == "cuda"
        if self._gpu and resources.get("GPU", 0) < 1:
            self.close()
            raise InputError("device cuda, but the Ray cluster has no GPU", field="device")
        # The driver submits no more units than fit at once, so "running" means running and the next unit
        # to start is the plan's next, not whichever Ray dequeues.
        self.slots = max(1, cpus // self.threads)
        if self._gpu:
            self.slots = min(self.slots, int(resources["GPU"]))
        self.capacity = self.slots
        where = f"at {address}" if address else "on this machine"
        self.description = f"ray {where} ({len(ray.nodes())} node(s), {cpus} CPUs, {self.threads} per unit)"
        self._task = ray.remote(execute_job)
        self._labels: dict[object, str] = {}

    def submit(self, job: UnitJob, *, gpus: int) -> object:
        ref = self._task.options(
            num_cpus=self.threads,
            num_gpus=gpus,
            max_retries=self._retries,
            retry_exceptions=False,
            name=job.label,
        ).remote(job)
        self._labels[ref] = job.label
        return ref

    def wait(self, handles: Sequence[object]) -> list[tuple[object, UnitOutcome]]:
        ray = self._ray
        ready, _ = ray.wait(list(handles), num_returns=1)
        out = []
        for ref in ready:
            label = self._labels.pop(ref)
            try:
                out.append((ref, ray.get(ref)))
            except ray.exceptions.RayTaskError as err:
                raise UnitFailed(label, str(err)) from None
            except ray.exceptions.RayError as err:  # the worker or its node died more often than retried
                raise UnitFailed(
                    label, f"{type(err).__name__} after {self._retries} retries: {err}"
                ) from None
        return out

    def cancel(self, handles: Sequence[object]) -> None:
        for ref in handles:
            self._ray.cancel(ref, force=True)
            self._labels.pop(ref, None)

    def close(self) -> None:
        if self._started and self._ray.is_initialized():
            self._ray.shutdown()
