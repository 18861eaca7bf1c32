"""``run_study``: the whole paper pipeline as resumable stages, ending with the report.

The report reads a study's plan and results, so it comes after the study in the stage order; the caller
hands its writer in (``v1mtl.commands.run`` passes ``v1mtl.report.build.write_report``).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from v1mtl.common.config import save_config
from v1mtl.study.config import STUDY_CONFIG, StudyConfig
from v1mtl.study.executors import open_executor
from v1mtl.study.plan import StudyPlan, build_plan
from v1mtl.study.runner import check_replacements, run_units
from v1mtl.tracking.mlflow_runs import StudyTracker, open_store

ReportWriter = Callable[[Path, StudyPlan], tuple[Path, str]]


def run_study(
    cfg: StudyConfig,
    out_dir: str | Path,
    write_report: ReportWriter,
    *,
    log: Callable[[str], None] = print,
    console: bool = False,
    replace: bool = False,
    tracking_uri: str | None = None,
) -> tuple[Path, str]:
    """Run (or resume) the study of ``cfg`` in ``out_dir``; return the report path and its summary table.

    ``write_report(study_dir, plan)`` writes the report as the study's last unit and returns its path and
    summary table.

    The resolved config is saved as ``study.yaml``; a unit whose settings are unchanged since it finished is
    skipped, so rerunning a finished study only rewrites nothing, and a changed setting reruns what depends on it.
    The units run on ``cfg.executor`` (Ray on this machine's cores by default), each as soon as its inputs
    are complete. Each unit's own output goes to its folder's ``log.txt``; ``console`` shows it on the
    console instead when the units run in this process (the local executor, for debugging).

    A unit that would replace finished work of other settings or inputs stops the study before anything in
    ``out_dir`` changes (``InputError``, naming the units and what changed), unless ``replace``: then each
    such unit's folder is moved aside to ``<name>.replaced-<time>`` as it runs again.

    With ``tracking_uri`` each unit is logged to MLflow as it finishes (``v1mtl.tracking``): the store is
    opened first, so an unreachable one stops the study before anything runs.
    """
    cfg.validate()
    root = Path(out_dir)
    result: dict[str, tuple[Path, str]] = {}

    def report(plan) -> None:
        result["report"] = write_report(root, plan)

    plan = build_plan(cfg, root, report_hook=report)
    # before study.yaml is overwritten or an executor started: a refused study leaves its folder as it was
    check_replacements(plan.units, root, replace=replace)
    store = open_store(tracking_uri, f"v1mtl/{cfg.name}") if tracking_uri else None
    root.mkdir(parents=True, exist_ok=True)
    save_config(cfg, root / STUDY_CONFIG)
    tracker = None
    if store is not None:
        tracker = StudyTracker(store, root, cfg.name)
        tracker.log_config(root / STUDY_CONFIG)
    executor = open_executor(cfg.executor, root, device=cfg.device, console=console)
    try:
        run_units(
            plan.units,
            root,
            executor=executor,
            device=cfg.device,
            log=log,
            replace=replace,
            on_finish=None if tracker is None else tracker.unit_finished,
        )
    finally:
        executor.close()
        if tracker is not None:
            tracker.close()
    if "report" not in result:  # everything was complete: render the (unchanged) report's table again
        result["report"] = write_report(root, plan)
    return result["report"]
