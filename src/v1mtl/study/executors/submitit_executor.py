"""``executor: submitit``: one Slurm job per unit through submitit, for clusters without Ray.

The same resume rules as every executor: the driver keeps the plan and the markers, a job runs one unit in
its folder. A job that ends without a result (killed, node lost, its time limit) is submitted again up to
``max_retries`` times and resumes from its unit's checkpoint; a job that raises is not.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

from v1mtl.common.cpus import available_cpus
from v1mtl.study.executor_config import ExecutorConfig
from v1mtl.study.executors.base import UnitFailed
from v1mtl.study.unit_job import UnitJob, UnitOutcome, execute_job

POLL_SECONDS = 1.0


class _Submission:
    """A unit's current job and how often it was submitted."""

    def __init__(self, job: UnitJob, gpus: int):
        self.job, self.gpus, self.tries, self.handle = job, gpus, 0, None


class SubmititExecutor:
    """Submits units as jobs through ``submitit.AutoExecutor`` and polls them."""

    captures_output = True

    def __init__(self, cfg: ExecutorConfig, root: Path, *, device: str):
        import submitit

        self._submitit = submitit
        s = cfg.submitit
        folder = Path(s.folder) if s.folder else Path(root) / ".submitit"
        cluster = None if s.cluster == "auto" else s.cluster
        self._executor = submitit.AutoExecutor(folder=folder, cluster=cluster)
        params = {"timeout_min": s.timeout_min, "cpus_per_task": cfg.cpus_per_unit}
        if s.mem_gb is not None:
            params["mem_gb"] = s.mem_gb
        if s.partition is not None:
            params["slurm_partition"] = s.partition
        if s.slurm:
            params["slurm_additional_parameters"] = dict(s.slurm)
        self._executor.update_parameters(**params)
        self._gpu = device == "cuda"
        self._retries = cfg.max_retries
        self.threads = cfg.cpus_per_unit
        kind = self._executor.cluster
        local = kind in ("local", "debug")
        cores = max(1, available_cpus() // cfg.cpus_per_unit)
        self.capacity = s.parallel or (cores if local else None)
        self.slots = self.capacity or cores
        self.description = f"submitit on {kind} ({cfg.cpus_per_unit} CPUs per job, jobs in {folder})"
        self._runs: dict[int, _Submission] = {}
        self._next = 0

    def _start(self, run: _Submission) -> None:
        run.tries += 1
        self._executor.update_parameters(name=f"v1mtl-{run.job.label}", gpus_per_node=run.gpus)
        run.handle = self._executor.submit(execute_job, run.job)

    def submit(self, job: UnitJob, *, gpus: int) -> int:
        run = _Submission(job, gpus)
        self._start(run)
        self._next += 1
        self._runs[self._next] = run
        return self._next

    def wait(self, handles: Sequence[int]) -> list[tuple[int, UnitOutcome]]:
        utils = self._submitit.core.utils
        while True:
            finished = [h for h in handles if self._runs[h].handle.done()]
            out = []
            for h in finished:
                run = self._runs[h]
                try:
                    outcome = run.handle.result()
                except utils.UncompletedJobError as err:
                    if run.tries > self._retries:
                        raise UnitFailed(
                            run.job.label, f"its job ended without a result {run.tries} times: {err}"
                        ) from None
                    self._start(run)  # killed or out of time: resume from the unit's checkpoint
                    continue
                except utils.FailedJobError as err:
                    raise UnitFailed(run.job.label, str(err)) from None
                del self._runs[h]
                out.append((h, outcome))
            if out:
                return out
            time.sleep(POLL_SECONDS)

    def cancel(self, handles: Sequence[int]) -> None:
        for h in handles:
            run = self._runs.pop(h, None)
            if run is not None:
                run.handle.cancel(check=False)

    def close(self) -> None:
        self.cancel(list(self._runs))
