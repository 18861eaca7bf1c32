"""``v1mtl corrupt SRC DST --table T``: render a corrupted copy (an "-C" dataset) of an image folder.

Reads ``SRC/<class>/<file>`` and writes ``DST/<corruption>/<severity>/<class>/<file>`` (PNG, or JPEG at
quality 85 with ``--jpeg-roundtrip``, like the released Tiny-ImageNet-C). Every file is written
atomically and each finished ``<corruption>/<severity>`` folder gets a ``.complete`` marker, so an
interrupted run resumes where it stopped; image ``i`` (in sorted path order) is always seeded with
``(seed, i)``, so resuming gives the same files as an uninterrupted run.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from v1mtl.corruptions.render import RenderConfig

GROUP = None


def register(sub: argparse._SubParsersAction) -> None:
    from v1mtl.common.config import add_config_arguments
    from v1mtl.corruptions.presets import ALL, PRESETS

    p = sub.add_parser(
        "corrupt",
        help="render a corrupted (-C) copy of an image folder",
        description=(
            f"{__doc__.splitlines()[0].split(': ', 1)[1]} --config is a YAML of "
            "v1mtl.corruptions.render.RenderConfig (table, corruptions, severities, jpeg_roundtrip, seed, "
            "batch_size); --set KEY=VALUE sets one key, a dedicated flag (given) sets its key last."
        ),
    )
    p.add_argument("src", help="image folder laid out as SRC/<class>/<file>")
    p.add_argument("dst", help="output folder: DST/<corruption>/<severity>/<class>/<file>")
    add_config_arguments(
        p,
        preset_prefix=None,
        positional=False,
        example="v1mtl corrupt data/test data/test-c --table cifar --corruptions fog contrast --severities 1 3 5",
    )
    # Every flag below defaults to None, so that only a flag that is given overrides --config and --set;
    # the defaults named in the help are RenderConfig's.
    p.add_argument(
        "--table",
        choices=tuple(PRESETS),
        default=None,
        help="corruption parameter table (sets table; default tiny-imagenet)",
    )
    p.add_argument(
        "--corruptions",
        nargs="+",
        default=None,
        metavar="NAME",
        help="corruption names, or 'common' / 'extra' / 'all' (sets corruptions; default: the 15 common). "
        f"Valid: {', '.join(ALL)}",
    )
    p.add_argument(
        "--severities",
        nargs="+",
        type=int,
        default=None,
        metavar="S",
        help="severities in 1..5 (sets severities; default 1 2 3 4 5)",
    )
    p.add_argument(
        "--jpeg-roundtrip",
        action="store_true",
        default=None,
        help="save JPEG quality 85 (as Tiny-ImageNet-C was) instead of PNG (sets jpeg_roundtrip)",
    )
    p.add_argument(
        "--seed", type=int, default=None, help="seed of the per-image draws (sets seed; default 0)"
    )
    p.add_argument(
        "--batch-size", type=int, default=None, help="images per batch (sets batch_size; default 128)"
    )
    p.add_argument("--device", default="cpu", help="torch device, e.g. cpu or cuda (default cpu)")
    p.set_defaults(func=run)


def config_from_flags(args: argparse.Namespace) -> RenderConfig:
    """The ``RenderConfig`` of the command: its defaults, ``--config``, ``--set``, then the flags given."""
    from v1mtl.common.config import config_from_args
    from v1mtl.corruptions.render import RenderConfig

    flags = {
        "table": args.table,
        "corruptions": args.corruptions,
        "severities": args.severities,
        "jpeg_roundtrip": args.jpeg_roundtrip,
        "seed": args.seed,
        "batch_size": args.batch_size,
    }
    return config_from_args(RenderConfig, args, flags=flags)


def run(args: argparse.Namespace) -> int:
    from v1mtl.corruptions.render import render

    summary = render(config_from_flags(args), args.src, args.dst, device=args.device)
    print(
        f"wrote {summary['written']} files, skipped {summary['already_done']} already done, "
        f"{summary['images']} images x {summary['variants']} corruption/severity pairs -> {args.dst}"
    )
    return 0
