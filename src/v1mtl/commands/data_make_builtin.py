"""``v1mtl data make-builtin --out DIR [--set KEY=VALUE ...]``: write the built-in set as an image folder.

The work is ``v1mtl.data.images.builtin.write_builtin``; this module turns the flags, ``--config`` and
``--set`` into its ``BuiltinConfig``.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from v1mtl.data.images.builtin import BuiltinConfig

GROUP = "data"

# argparse choices, kept here so that ``v1mtl --help`` need not import the generator; the config checks too
SIZES = (32, 64)


def register(sub: argparse._SubParsersAction) -> None:
    from v1mtl.common.config import add_config_arguments

    p = sub.add_parser(
        "make-builtin",
        help="write the built-in classification set as PNG files (DIR/<split>/<class>/<index>.png)",
        description=(
            "Generate the built-in classification set (textured shapes on natural-photo backgrounds, made "
            "from photographs that ship with the installed packages) and write it as an image folder that "
            "'v1mtl data inspect' and the image-folder reader read back. --config is a YAML of "
            "v1mtl.data.images.builtin.BuiltinConfig (size, seed, counts.train, counts.val, counts.test); "
            "--set KEY=VALUE sets one key, a dedicated flag (given) sets its key last."
        ),
    )
    p.add_argument("--out", required=True, help="output folder")
    add_config_arguments(
        p,
        preset_prefix=None,
        positional=False,
        example="v1mtl data make-builtin --out data/builtin-32 --size 32 --set counts.train=2000",
    )
    # default=None, so that only a flag that is given overrides --config and --set; the defaults named in
    # the help are BuiltinConfig's.
    p.add_argument(
        "--size", type=int, choices=SIZES, default=None, help="image side in pixels (sets size; default 64)"
    )
    p.add_argument("--seed", type=int, default=None, help="generation seed (sets seed; default 1000)")
    p.add_argument(
        "--train", type=int, default=None, help="number of training images (sets counts.train; default 20000)"
    )
    p.add_argument(
        "--val", type=int, default=None, help="number of validation images (sets counts.val; default 2000)"
    )
    p.add_argument(
        "--test", type=int, default=None, help="number of test images (sets counts.test; default 5000)"
    )
    p.add_argument("--grid", default=None, help="also save a PNG grid of test examples per class here")
    p.add_argument("--cache-dir", default=None, help="cache folder (default $V1MTL_CACHE or ~/.cache/v1mtl)")
    p.set_defaults(func=run)


def config_from_flags(args: argparse.Namespace) -> BuiltinConfig:
    """The ``BuiltinConfig`` of the command: its defaults, ``--config``, ``--set``, then the flags given."""
    from v1mtl.common.config import config_from_args
    from v1mtl.data.images.builtin import BuiltinConfig

    flags = {
        "size": args.size,
        "seed": args.seed,
        "counts.train": args.train,
        "counts.val": args.val,
        "counts.test": args.test,
    }
    return config_from_args(BuiltinConfig, args, flags=flags)


def run(args: argparse.Namespace) -> int:
    import json

    from v1mtl.data.images.builtin import write_builtin

    summary = write_builtin(config_from_flags(args), args.out, grid=args.grid, cache_dir=args.cache_dir)
    print(json.dumps(summary))
    return 0
