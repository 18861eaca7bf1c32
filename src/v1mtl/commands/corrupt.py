"""``v1mtl corrupt SRC DST --preset P``: render a corrupted copy (an "-C" dataset) of an image folder.

Reads ``SRC/<class>/<file>`` and writes ``DST/<corruption>/<severity>/<class>/<file>`` (PNG, or JPEG at
quality 85 with ``--jpeg-roundtrip``, like the released Tiny-ImageNet-C). Every file is written
atomically and each finished ``<corruption>/<severity>`` folder gets a ``.complete`` marker, so an
interrupted run resumes where it stopped; image ``i`` (in sorted path order) is always seeded with
``(seed, i)``, so resuming gives the same files as an uninterrupted run.
"""

from __future__ import annotations

import argparse

GROUP = None


def register(sub: argparse._SubParsersAction) -> None:
    from v1mtl.corruptions.presets import ALL, COMMON, PRESETS

    p = sub.add_parser(
        "corrupt",
        help="render a corrupted (-C) copy of an image folder",
        description=__doc__.splitlines()[0].split(": ", 1)[1],
    )
    p.add_argument("src", help="image folder laid out as SRC/<class>/<file>")
    p.add_argument("dst", help="output folder: DST/<corruption>/<severity>/<class>/<file>")
    p.add_argument("--preset", choices=tuple(PRESETS), default="tiny-imagenet", help="parameter table")
    p.add_argument(
        "--corruptions",
        nargs="+",
        default=list(COMMON),
        metavar="NAME",
        help=f"corruption names, or 'common' / 'extra' / 'all' (default: the 15 common). Valid: {', '.join(ALL)}",
    )
    p.add_argument("--severities", nargs="+", type=int, default=[1, 2, 3, 4, 5], metavar="S")
    p.add_argument(
        "--jpeg-roundtrip",
        action="store_true",
        help="save JPEG quality 85 (as Tiny-ImageNet-C was) instead of PNG",
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--device", default="cpu", help="torch device, e.g. cpu or cuda")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from v1mtl.corruptions.render import RenderConfig, render

    config = RenderConfig(
        src=args.src,
        dst=args.dst,
        preset=args.preset,
        corruptions=args.corruptions,
        severities=args.severities,
        jpeg_roundtrip=args.jpeg_roundtrip,
        seed=args.seed,
        batch_size=args.batch_size,
        device=args.device,
    )
    summary = render(config)
    print(
        f"wrote {summary['written']} files, skipped {summary['already_done']} already done, "
        f"{summary['images']} images x {summary['variants']} corruption/severity pairs -> {args.dst}"
    )
    return 0
