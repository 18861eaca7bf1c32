"""``v1mtl data inspect PATH [--format F]``: one JSON object describing any supported dataset."""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from v1mtl.data.neural.nwb import NwbOptions

from v1mtl.common.cli_help import set_example

GROUP = "data"

NEURAL_FORMATS = ("native", "cadena2019", "nnvision", "nwb")
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
    nwb = p.add_argument_group("NWB files (docs/neural-data.md, 'NWB')")
    nwb.add_argument(
        "--nwb-table", default=None, help="intervals table of the presentations (default: trials)"
    )
    nwb.add_argument(
        "--nwb-image-column", default=None, help="its column of image indices (default: image_id)"
    )
    nwb.add_argument("--nwb-images", default=None, help="Images container in the stimulus templates")
    nwb.add_argument(
        "--nwb-window",
        nargs=2,
        type=float,
        default=None,
        metavar=("START", "STOP"),
        help="seconds after onset whose spikes count (default: 0.04 0.14)",
    )
    set_example(p, "v1mtl data inspect data/v1-sim --format native")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from v1mtl.data.inspect import inspect_dataset

    print(json.dumps(inspect_dataset(args.path, args.format, _nwb_options(args)), indent=2))
    return 0


def _nwb_options(args: argparse.Namespace) -> NwbOptions:
    """The NWB options given on the command line, the reader's defaults for the others."""
    from v1mtl.data.neural.nwb import NwbOptions

    given = {
        "table": args.nwb_table,
        "image_column": args.nwb_image_column,
        "images": args.nwb_images,
        "window": None if args.nwb_window is None else tuple(args.nwb_window),
    }
    return NwbOptions(**{k: v for k, v in given.items() if v is not None})
