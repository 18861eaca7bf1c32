"""``v1mtl data inspect PATH [--format F]``: one JSON object describing any supported dataset."""

from __future__ import annotations

import argparse
import json

from v1mtl.common.cli_help import set_example

GROUP = "data"

NEURAL_FORMATS = ("native", "cadena2019", "nnvision")
IMAGE_FORMATS = ("tinyimagenet", "imagefolder", "tiny-imagenet-c", "builtin")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "inspect",
        help="print a JSON summary of a neural or image dataset",
        description="Print one JSON object describing a dataset. The format is auto-detected unless given.",
    )
    p.add_argument("path", help="dataset file or folder ('builtin' for the built-in classification set)")
    p.add_argument(
        "--format", choices=NEURAL_FORMATS + IMAGE_FORMATS, default=None, help="skip auto-detection"
    )
    set_example(p, "v1mtl data inspect data/v1-sim --format native")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from v1mtl.data.inspect import inspect_dataset

    print(json.dumps(inspect_dataset(args.path, args.format), indent=2))
    return 0
