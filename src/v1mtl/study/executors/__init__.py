"""Executors run a study's units: ``local`` (in this process), ``ray`` (Ray tasks), ``submitit`` (Slurm jobs).

The driver (``v1mtl.study.runner``) keeps the plan and the markers; an executor only runs ``UnitJob``s and
hands back their ``UnitOutcome``s (``base.Executor``).
"""

from __future__ import annotations

from pathlib import Path

from v1mtl.study.executor_config import ExecutorConfig
from v1mtl.study.executors.base import Executor, UnitFailed
from v1mtl.study.executors.local import LocalExecutor

__all__ = ["Executor", "LocalExecutor", "UnitFailed", "open_executor"]


def open_executor(cfg: ExecutorConfig, root: Path, *, device: str, console: bool = False) -> Executor:
    """The executor ``cfg`` names, started (a Ray instance or connection, a submitit folder).

    ``console``: with the local executor, units print to the console instead of their ``log.txt``.
    The caller closes it (``Executor.close``); closing a Ray instance this call started stops it.
    """
    cfg.validate()
    if cfg.kind == "local":
        return LocalExecutor(cfg.cpus_per_unit, console=console)
    if cfg.kind == "ray":
        from v1mtl.study.executors.ray_executor import RayExecutor

        return RayExecutor(cfg, device=device)
    from v1mtl.study.executors.submitit_executor import SubmititExecutor

    return SubmititExecutor(cfg, root, device=device)
