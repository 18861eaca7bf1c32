"""``v1mtl evaluate robustness``: accuracy of a trained network under image corruptions, plus summaries and plots.

Two modes:

- ``v1mtl evaluate robustness CKPT --out DIR [--source ...]`` evaluates a run folder (or ``best.pt``) and
  writes ``robustness.csv``, ``protocol.json``, ``summary.csv``, ``corruption_scores.csv`` and the plots;
- ``v1mtl evaluate robustness --plot A.csv B.csv ... --out DIR`` summarizes and plots earlier results together.

The evaluation is ``v1mtl.evaluate.robustness_stage.run_robustness_stage``; this module turns the flags,
``--config`` and ``--set`` into its ``RobustnessConfig``.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from v1mtl.common.errors import InputError

if TYPE_CHECKING:
    from v1mtl.evaluate import RobustnessConfig

GROUP = "evaluate"

# argparse choices, kept here so that ``v1mtl --help`` need not import torch; the config checks them too
SOURCES = ("on-the-fly", "pre-rendered", "gaussian-sweep")


def register(sub: argparse._SubParsersAction) -> None:
    from v1mtl.common.config import add_config_arguments

    p = sub.add_parser(
        "robustness",
        help="accuracy under image corruptions (tidy CSV, mCE, plots)",
        description=(
            "Measure a trained network's top-1 accuracy on corrupted test images, one (corruption, severity) "
            "at a time, and write a tidy CSV, a summary (clean accuracy, mean corruption accuracy, mCE, "
            "relative mCE) and accuracy-vs-severity plots. With --plot, summarize and plot existing CSVs "
            "instead. --config is a YAML of v1mtl.evaluate.robustness_stage.RobustnessConfig (source, table, "
            "corruptions, severities, stds, prerendered, data, space, jpeg_roundtrip, limit, seed, batch_size); "
            "--set KEY=VALUE sets one key, a dedicated flag (given) sets its key last. See docs/robustness.md."
        ),
    )
    p.add_argument("checkpoint", nargs="?", help="run folder or best.pt of the network to evaluate")
    p.add_argument("--out", required=True, help="output folder (rerunning into it resumes)")
    p.add_argument(
        "--plot",
        nargs="+",
        metavar="CSV",
        help="summarize and plot these robustness CSVs together (several models overlaid); no evaluation",
    )
    add_config_arguments(
        p,
        preset_prefix=None,
        positional=False,
        example="v1mtl evaluate robustness runs/mtl --out eval/mtl --table tiny-imagenet "
        "--corruptions fog contrast --severities 1 3 5 --set limit=500",
    )
    # Every flag below defaults to None, so that only a flag that is given overrides --config and --set;
    # the defaults named in the help are RobustnessConfig's.
    p.add_argument(
        "--source",
        choices=SOURCES,
        default=None,
        help="where corrupted images come from (sets source; default pre-rendered with --tinyimagenet-c, else on-the-fly)",
    )
    p.add_argument(
        "--table",
        metavar="TABLE",
        default=None,
        help="corruption parameter table for --source on-the-fly (required there; sets table): tiny-imagenet "
        "(64 px), imagenet (224 px, what the reference's code applied), cifar (32 px)",
    )
    p.add_argument(
        "--corruptions",
        nargs="+",
        default=None,
        metavar="NAME",
        help="common (the 15, default), extra (the 4 held-out), all, or corruption names (sets corruptions)",
    )
    # The numbers of --severities and --stds are cast in config_from_flags, so that a bad one is the same
    # one-line InputError as a bad --set value.
    p.add_argument(
        "--severities",
        nargs="+",
        default=None,
        metavar="S",
        help="severities in 1..5 (sets severities; default 1 2 3 4 5)",
    )
    p.add_argument(
        "--stds",
        nargs="+",
        default=None,
        metavar="STD",
        help="noise stds of --source gaussian-sweep (sets stds; default 0 0.05 0.1 0.2 0.3 0.5 1)",
    )
    p.add_argument(
        "--tinyimagenet-c",
        dest="tinyimagenet_c",
        default=None,
        help="Tiny-ImageNet-C folder for --source pre-rendered (sets prerendered)",
    )
    p.add_argument(
        "--data",
        default=None,
        help="clean test images (sets data; default: the data set the network was trained on, from its config)",
    )
    p.add_argument(
        "--space",
        choices=("rgb", "gray"),
        default=None,
        help="corrupt colour images then convert to gray, as the paper (rgb, default), or corrupt gray images "
        "(sets space)",
    )
    p.add_argument(
        "--jpeg-roundtrip",
        action="store_true",
        default=None,
        help="on-the-fly: JPEG quality-85 round trip after corrupting, as the Tiny-ImageNet-C files "
        "(sets jpeg_roundtrip)",
    )
    p.add_argument(
        "--seed", type=int, default=None, help="seed of the per-image corruption draws (sets seed; default 0)"
    )
    p.add_argument(
        "--limit",
        type=int,
        default=None,
        help="evaluate at most N images per condition, spread evenly (sets limit; default all)",
    )
    p.add_argument(
        "--batch-size", type=int, default=None, help="images per batch (sets batch_size; default 256)"
    )
    p.add_argument("--device", default="cpu", help="cpu or cuda (default cpu)")
    p.add_argument("--name", help="model name in the CSV (default: the run folder's name)")
    p.add_argument(
        "--reference",
        help="reference for mCE: a robustness CSV of an earlier run, or a run folder / best.pt evaluated here too",
    )
    p.add_argument("--reference-model", help="the reference's model name, when its CSV holds several models")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from v1mtl.evaluate.robustness import summarize

    if args.plot:
        if args.print_config:
            raise InputError(
                "--print-config shows the settings of an evaluation; --plot evaluates nothing",
                field="print_config",
            )
        if args.checkpoint:
            raise InputError(
                "give either a checkpoint to evaluate or --plot CSV..., not both", field="checkpoint"
            )
        result = summarize(
            args.plot, args.out, reference=args.reference, reference_model=args.reference_model
        )
    else:
        if not args.checkpoint:
            raise InputError(
                "give a checkpoint (run folder or best.pt) to evaluate, or --plot CSV...", field="checkpoint"
            )
        from v1mtl.evaluate import run_robustness_stage

        result = run_robustness_stage(
            config_from_flags(args),
            args.checkpoint,
            args.out,
            name=args.name,
            device=args.device,
            reference=args.reference,
            reference_model=args.reference_model,
        )
    _print_summary(result)
    return 0


def config_from_flags(args: argparse.Namespace) -> RobustnessConfig:
    """The ``RobustnessConfig`` of the command: its defaults, ``--config``, ``--set``, then the flags given."""
    from v1mtl.common.config import config_from_args
    from v1mtl.evaluate import RobustnessConfig

    flags = {
        "source": args.source,
        "table": args.table,
        "corruptions": args.corruptions,
        "severities": _numbers(args.severities, "severities", int),
        "stds": _numbers(args.stds, "stds", float),
        "prerendered": args.tinyimagenet_c,
        "data": args.data,
        "space": args.space,
        "jpeg_roundtrip": args.jpeg_roundtrip,
        "limit": args.limit,
        "seed": args.seed,
        "batch_size": args.batch_size,
    }
    return config_from_args(RobustnessConfig, args, flags=flags)


def _numbers(values: list[str] | None, key: str, cast: type[int] | type[float]) -> list | None:
    """``["1", "5"]`` -> ``[1, 5]`` (None stays None: the flag was not given).

    Raises:
        InputError: one line naming the flag and its key, for the first value that is not a number.
    """
    if values is None:
        return None
    out = []
    for value in values:
        try:
            out.append(cast(value))
        except ValueError:
            kind = "an integer" if cast is int else "a number"
            raise InputError(f"expected {kind}, got {value!r}", path=f"--{key}", field=key) from None
    return out


def _print_summary(result: dict[str, Any]) -> None:
    import math

    for s in result["summaries"]:
        parts = [
            f"{s.model} [{s.source}, {s.preset}, {s.space}{', jpeg85' if s.jpeg_roundtrip else ''}]:",
            f"clean {100 * s.clean_accuracy:.2f}%",
            f"mean corrupted {100 * s.mean_corruption_accuracy:.2f}% over {s.n_conditions}",
        ]
        if not math.isnan(s.mce) or not math.isnan(s.relative_mce):
            parts.append(
                f"mCE {s.mce:.3f}, relative mCE {s.relative_mce:.3f}, relative robustness score "
                f"{s.robustness_score:.1f} (vs {s.reference})"
            )
        print(" ".join(parts))
    for p in result["paths"]:
        print(f"wrote {p}")
