"""``v1mtl data make-builtin --out DIR``: write the built-in classification set as an image folder."""

from __future__ import annotations

import argparse

GROUP = "data"


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "make-builtin",
        help="write the built-in classification set as PNG files (DIR/<split>/<class>/<index>.png)",
        description=(
            "Generate the built-in classification set (textured shapes on natural-photo backgrounds, made "
            "from photographs that ship with the installed packages) and write it as an image folder that "
            "'v1mtl data inspect' and the image-folder reader read back."
        ),
    )
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--size", type=int, choices=(32, 64), default=64, help="image side in pixels")
    p.add_argument("--seed", type=int, default=1000, help="generation seed")
    p.add_argument("--train", type=int, default=20000, help="number of training images")
    p.add_argument("--val", type=int, default=2000, help="number of validation images")
    p.add_argument("--test", type=int, default=5000, help="number of test images")
    p.add_argument("--grid", default=None, help="also save a PNG grid of test examples per class here")
    p.add_argument("--cache-dir", default=None, help="cache folder (default $V1MTL_CACHE or ~/.cache/v1mtl)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import json
    from pathlib import Path

    from v1mtl.common.atomic import write_json
    from v1mtl.data.images.builtin import (
        GENERATOR_VERSION,
        make_builtin,
        save_example_grid,
        write_image_folder,
    )

    out = Path(args.out)
    config = {
        "command": "data make-builtin",
        "out": str(out),
        "size": args.size,
        "seed": args.seed,
        "counts": {"train": args.train, "val": args.val, "test": args.test},
        "generator_version": GENERATOR_VERSION,
    }
    write_json(out / "config.json", config)
    data = make_builtin(
        size=args.size, counts=(args.train, args.val, args.test), seed=args.seed, cache_dir=args.cache_dir
    )
    counts = write_image_folder(data, out)
    if args.grid:
        save_example_grid(data, args.grid)
    print(json.dumps({"out": str(out), "splits": counts, "n_classes": data.n_classes}))
    return 0
