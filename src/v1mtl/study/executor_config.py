"""Where a study's units run (``StudyConfig.executor``): one at a time here, on Ray, or as Slurm jobs.

The executor never enters a unit's fingerprint: a study started with one executor resumes with another.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

from v1mtl.common.config import check_config
from v1mtl.common.errors import InputError
from v1mtl.common.ranges import PositiveFloat, PositiveInt, Range

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
    timeout_min: PositiveInt = 24 * 60
    mem_gb: PositiveFloat | None = None
    parallel: PositiveInt | None = None
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
    cpus: PositiveInt | None = None
    cpus_per_unit: PositiveInt = 1
    # a unit that dies a hundred times will not finish on the hundred-and-first
    max_retries: Annotated[int, Range(0, 100)] = 3
    submitit: SubmititConfig = field(default_factory=SubmititConfig)

    def validate(self) -> ExecutorConfig:
        """The schema's ranges, then what they cannot say; errors name the study's key (``executor.*``)."""
        check_config(self, source="study", prefix="executor.")
        if self.cpus is not None and self.cpus < self.cpus_per_unit:
            raise InputError(
                f"must be at least executor.cpus_per_unit ({self.cpus_per_unit}), got {self.cpus}",
                field="executor.cpus",
            )
        if self.address is not None and self.kind != "ray":
            raise InputError(
                f"an address is for executor.kind ray, not {self.kind}", field="executor.address"
            )
        return self
