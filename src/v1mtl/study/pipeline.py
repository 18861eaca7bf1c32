"""``run_study``: the whole paper pipeline as resumable stages, ending with the report."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from v1mtl.common.config import save_config
from v1mtl.study.config import StudyConfig
from v1mtl.study.plan import build_plan
from v1mtl.study.runner import run_units

STUDY_CONFIG = "study.yaml"


def run_study(
    cfg: StudyConfig, out_dir: str | Path, *, log: Callable[[str], None] = print
) -> tuple[Path, str]:
    """Run (or resume) the study of ``cfg`` in ``out_dir``; return the report path and its summary table.

    The resolved config is saved as ``study.yaml``; a unit whose settings are unchanged since it finished is
    skipped, so rerunning a finished study only rewrites nothing, and a changed setting reruns what depends on it.
    """
    from v1mtl.report.build import write_report

    cfg.validate()
    root = Path(out_dir)
    root.mkdir(parents=True, exist_ok=True)
    save_config(cfg, root / STUDY_CONFIG)
    result: dict[str, tuple[Path, str]] = {}

    def report(plan) -> None:
        result["report"] = write_report(root, plan)

    plan = build_plan(cfg, root, log=log, report_hook=report)
    run_units(plan.units, root, log=log)
    if "report" not in result:  # everything was complete: render the (unchanged) report's table again
        result["report"] = write_report(root, plan)
    return result["report"]
