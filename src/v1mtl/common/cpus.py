"""How many CPUs this process may use."""

from __future__ import annotations

import os


def available_cpus() -> int:
    """The CPUs this process may run on: its affinity mask where the OS has one (``taskset``, a Slurm
    allocation, a container's cpuset), which ``os.cpu_count`` ignores; at least 1."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return os.cpu_count() or 1
