"""What a reader of a report needs to know about the run behind it: when, by which command, how long, from
which revision of v1mtl, on which host and device."""

from __future__ import annotations

import json
import platform
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from v1mtl.common.cpus import available_cpus
from v1mtl.study import StudyPlan
from v1mtl.study.stages import DONE_FILE


@dataclass(frozen=True)
class RunMetadata:
    """Attributes:
    written: when the report was written (local time, ISO 8601).
    command: the command that wrote it (for the study's last stage: the study's own command).
    first_start, last_finish: the earliest start and latest finish over the study's finished units, from
        their markers (a study resumed after a pause spans the pause too).
    compute_s: the units' own seconds, summed (with parallel units, more than the wall time).
    units: finished units.
    revision: the git revision of the v1mtl source (``+ local changes`` when its tree is dirty), or the
        installed version when it is not a git checkout.
    host: host name, CPU count, OS.
    device: the study's device setting.
    """

    written: str
    command: str
    first_start: str
    last_finish: str
    compute_s: float
    units: int
    revision: str
    host: str
    device: str


def _markers(plan: StudyPlan) -> list[dict]:
    """The markers of the plan's finished units (the report's own, being written, is not one yet)."""
    out = []
    for unit in plan.units:
        try:
            out.append(json.loads((unit.folder(plan.root) / DONE_FILE).read_text()))
        except (OSError, json.JSONDecodeError):
            continue
    return out


def source_revision() -> str:
    """``<short hash>`` of the git checkout v1mtl is imported from, with ``+ local changes`` when dirty."""
    from importlib import metadata

    package = Path(__file__).resolve().parents[1]
    try:
        head = subprocess.run(
            ["git", "-C", str(package), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(package), "status", "--porcelain", "--untracked-files=no", "--", "."],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return f"v1mtl {metadata.version('v1mtl')} (not a git checkout)"
    return head + (" + local changes" if dirty else "")


def _command(argv: Sequence[str]) -> str:
    # ``python -m v1mtl`` and the console script both put the subcommand in argv[1:]
    return " ".join(["v1mtl", *argv[1:]]) if argv and "v1mtl" in argv[0] else " ".join(argv)


def run_metadata(plan: StudyPlan, device: str, argv: Sequence[str] | None = None) -> RunMetadata:
    """The metadata of the study of ``plan`` as it stands now; ``argv`` is the command (default: this
    process's)."""
    markers = _markers(plan)
    starts, finishes = [], []
    for m in markers:
        try:
            end = datetime.fromisoformat(m["finished"]).timestamp()
        except (KeyError, TypeError, ValueError):
            continue
        finishes.append(end)
        starts.append(end - float(m.get("seconds", 0.0)))

    def stamp(t: float | None) -> str:
        return "–" if t is None else time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(t))

    return RunMetadata(
        written=time.strftime("%Y-%m-%d %H:%M:%S"),
        command=_command(sys.argv if argv is None else argv),
        first_start=stamp(min(starts) if starts else None),
        last_finish=stamp(max(finishes) if finishes else None),
        compute_s=round(sum(float(m.get("seconds", 0.0)) for m in markers), 1),
        units=len(markers),
        revision=source_revision(),
        host=f"{platform.node()} ({available_cpus()} CPUs, {platform.system()} {platform.release()})",
        device=device,
    )


def metadata_lines(meta: RunMetadata) -> list[str]:
    """The metadata as the report's bullet points."""
    from v1mtl.study.runner import format_seconds

    return [
        f"report written {meta.written} by the command: {meta.command}",
        f"study: {meta.units} finished units, the first started {meta.first_start}, the last finished "
        f"{meta.last_finish}; {format_seconds(meta.compute_s)} of unit time in sum",
        f"v1mtl revision: {meta.revision}",
        f"host: {meta.host}; device: {meta.device}",
    ]
