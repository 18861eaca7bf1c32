"""``v1mtl run [STUDY.yaml] [--out DIR] [--preset P] [--set k=v ...] [--smoke] [--force] [--executor E]``: the whole study.

Stages (each with a folder under ``--out``; see ``v1mtl.study.plan``): V1 data, the V1 model, neural
targets, co-training of every condition x seed, robustness, V1 predictivity, the reconstruction and
saliency analyses, and the report. A rerun resumes; a changed setting reruns only what depends on it, and
asks for ``--force`` before it replaces finished units (which it then moves aside, never deletes). Each preset
has its own default folder, ``runs/<preset>``.
Units run in parallel on Ray by default (``--executor``, ``--ray-address``; ``v1mtl.study.executors``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from v1mtl.commands.mlflow_option import add_mlflow_argument
from v1mtl.common.config import add_config_arguments
from v1mtl.study.executor_config import EXECUTORS

GROUP = None
DEFAULT_PRESET = "quick"


def default_out(preset: str | None, config: str | Path | None) -> Path:
    """The study folder when ``--out`` is not given: ``runs/<preset>``, else ``runs/<config file stem>``, else
    the default preset's; so a smoke test or another preset never lands in (and replaces) the quick study."""
    if preset is not None:
        return Path("runs") / preset
    if config is not None:
        return Path("runs") / Path(config).stem
    return Path("runs") / DEFAULT_PRESET


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "run",
        help="run the whole study (default: the quick preset on built-in data)",
        description=(
            "Run the whole study as resumable stages: V1 data, V1 model, targets, co-training of every condition and "
            "seed, robustness, V1 predictivity, reconstruction and saliency analyses, report. Without a config or "
            f"--preset it runs the '{DEFAULT_PRESET}' preset on built-in data (no download)."
        ),
    )
    add_config_arguments(
        p,
        preset_prefix="study",
        example="v1mtl run --preset quick --set train.schedule.max_epochs=3 --set robustness.limit=200 "
        "--out runs/quick-short",
    )
    p.add_argument(
        "--out",
        default=None,
        help="study folder (rerunning into it resumes) (default: runs/<preset>, runs/smoke with --smoke, "
        "runs/<config file name> with a config file and no --preset)",
    )
    p.add_argument(
        "--force",
        action="store_true",
        help="run units whose finished results a changed setting replaces; their folders are moved aside "
        "to <name>.replaced-<time>/, never deleted (without it such a run stops before it starts)",
    )
    p.add_argument("--smoke", action="store_true", help="the same pipeline at toy size, in about a minute")
    p.add_argument("--device", choices=("cpu", "cuda"), default=None, help="device for every stage")
    p.add_argument(
        "--executor",
        choices=EXECUTORS,
        default=None,
        help="where the units run: ray (default: every ready unit in parallel, on this machine's cores or on "
        "--ray-address), local (one at a time in this process, for debugging), submitit (one Slurm job per unit)",
    )
    p.add_argument(
        "--ray-address",
        default=None,
        metavar="ADDR",
        help="join this running Ray cluster (default: RAY_ADDRESS, else start Ray on this machine)",
    )
    p.add_argument(
        "--cpus-per-unit",
        type=int,
        default=None,
        metavar="N",
        help="threads of each unit, and the CPUs each Ray task or Slurm job asks for (default: 1)",
    )
    add_mlflow_argument(p, "every run's config, metrics per epoch and scores, and the study's summary")
    p.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        help="print only the answer and the summary at the end (and errors), not one line per unit",
    )
    p.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="progress bars inside the stages run in this process (default: on, and drawn only on a terminal)",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from v1mtl.common.config import config_from_args
    from v1mtl.common.errors import InputError
    from v1mtl.report import write_report
    from v1mtl.study import StudyConfig, run_study
    from v1mtl.tracking import tracking_uri

    if args.smoke:
        if args.preset not in (None, "smoke"):
            raise InputError("--smoke is a preset of its own; drop --preset", field="preset")
        args.preset = "smoke"
    elif args.preset is None and args.config is None:
        args.preset = DEFAULT_PRESET
    flags = {
        "device": args.device,
        "progress": args.progress,
        "executor.kind": args.executor,
        "executor.address": args.ray_address,
        "executor.cpus_per_unit": args.cpus_per_unit,
    }
    if args.ray_address is not None and args.executor is None:
        flags["executor.kind"] = "ray"
    cfg = config_from_args(StudyConfig, args, preset_prefix="study", flags=flags)
    out = args.out if args.out is not None else default_out(args.preset, args.config)
    # flushed line by line: a study run in the background is followed with tail -f on its log
    log = (lambda line: None) if args.quiet else (lambda line: print(line, flush=True))
    # the units' own output (stage lines, progress bars) goes to their log.txt, except when debugging with
    # the local executor on a terminal
    console = cfg.executor.kind == "local" and not args.quiet and sys.stdout.isatty()
    report, table = run_study(
        cfg,
        out,
        write_report,
        log=log,
        console=console,
        replace=args.force,
        tracking_uri=tracking_uri(args.mlflow),
    )
    print("\n" + table)
    print(f"report: {report} (and {report.with_suffix('.html')})")
    return 0
