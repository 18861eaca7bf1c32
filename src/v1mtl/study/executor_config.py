"""Where a study's units run (``StudyConfig.executor``): one at a time here, on Ray, or as Slurm jobs.

The executor never enters a unit's fingerprint: a study started with one executor resumes with another.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from v1mtl.common.errors import InputError

EXECUTORS = ("ray", "local", "submitit")


@dataclass
class SubmititConfig:
    """``executor: submitit``: one Slurm job per unit through submitit (for clusters without Ray).

    Attributes:
        cluster: ``slurm``, ``local`` (jobs as processes on this machine, for trying it out), ``debug``
            (in this process), or ``auto`` (Slurm where ``sbatch`` is found, else local).
        folder: submitit's job folder (scripts, job logs, pickled jobs); None = ``<study>/.submitit``.
        partition: the Slurm partition; None = the cluster's default.
        timeout_min: each job's time limit in minutes (a job killed at its limit is resubmitted, up to
            ``ExecutorConfig.max_retries``, and resumes from its unit's checkpoint).
        mem_gb: memory per job; None = the cluster's default.
        parallel: at most this many jobs at once; None = every ready unit on Slurm, or
            cores / ``cpus_per_unit`` with ``cluster: local``.
        slurm: further ``sbatch`` options (``{account: lab, qos: high}``), passed as submitit's
            ``slurm_additional_parameters``.
    """

    cluster: Literal["auto", "slurm", "local", "debug"] = "auto"
    folder: str | None = None
    partition: str | None = None
    timeout_min: int = 24 * 60
    mem_gb: float | None = None
    parallel: int | None = None
    slurm: dict[str, Any] = field(default_factory=dict)


@dataclass
class ExecutorConfig:
    """How a study runs its units.

    Attributes:
        kind: ``ray`` (default: every ready unit is a Ray task; without an address, a Ray instance on this
            machine's cores), ``local`` (one unit at a time in this process, without Ray: for debugging and
            single-core machines) or ``submitit`` (one Slurm job per unit).
        address: a running Ray cluster to join (``ray start --head`` prints it); None = ``RAY_ADDRESS``
            from the environment, else a new Ray instance on this machine.
        cpus: CPUs of that new local instance; None = every core this process may run on (its affinity).
        cpus_per_unit: threads of each unit (torch and BLAS), which is also the CPUs each Ray task or Slurm
            job asks for, so parallel units do not oversubscribe the cores. The ``local`` executor uses
            it too, so a unit computes the same numbers whatever the executor.
        max_retries: how often a unit whose worker died (killed, node lost, Slurm time limit) is started
            again; it resumes from its own checkpoint where it has one. A unit that raises is not retried.
        submitit: the Slurm settings of ``kind: submitit``.
    """

    kind: Literal["ray", "local", "submitit"] = "ray"
    address: str | None = None
    cpus: int | None = None
    cpus_per_unit: int = 1
    max_retries: int = 3
    submitit: SubmititConfig = field(default_factory=SubmititConfig)

    def validate(self) -> ExecutorConfig:
        if self.cpus_per_unit < 1:
            raise InputError(f"must be at least 1, got {self.cpus_per_unit}", field="executor.cpus_per_unit")
        if self.cpus is not None and self.cpus < self.cpus_per_unit:
            raise InputError(
                f"must be at least executor.cpus_per_unit ({self.cpus_per_unit}), got {self.cpus}",
                field="executor.cpus",
            )
        if self.max_retries < 0:
            raise InputError(f"must be 0 or more, got {self.max_retries}", field="executor.max_retries")
        if self.address is not None and self.kind != "ray":
            raise InputError(
                f"an address is for executor.kind ray, not {self.kind}", field="executor.address"
            )
        parallel = self.submitit.parallel
        if parallel is not None and parallel < 1:
            raise InputError(f"must be at least 1, got {parallel}", field="executor.submitit.parallel")
        if self.submitit.timeout_min < 1:
            raise InputError(
                f"must be at least 1, got {self.submitit.timeout_min}", field="executor.submitit.timeout_min"
            )
        return self
