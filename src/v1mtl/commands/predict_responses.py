"""``v1mtl predict-responses``: make a neural-target dataset from a V1 model (or the simulator) and images.

The work is ``v1mtl.neural_model.targets.run_targets_stage``; this module turns the flags, ``--config`` and
``--set`` into its ``PredictTargetsConfig``.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from v1mtl.neural_model import PredictTargetsConfig

GROUP = None


def register(sub: argparse._SubParsersAction) -> None:
    from v1mtl.common.config import add_config_arguments

    p = sub.add_parser(
        "predict-responses",
        help="write a V1 model's responses to a classification set's images as a neural-target dataset",
        description=(
            "Run a fitted V1 model (or a simulate-v1 folder's noise-free neurons) on the images of a "
            "classification set and write the responses as a native V1 dataset for co-training: train split "
            "= training trials, test split = test images. Controls: 'shuffled' permutes response vectors "
            "across images; 'random' draws image-independent responses with the same per-neuron statistics "
            "(docs/v1-model.md). --config is a YAML of v1mtl.neural_model.targets.PredictTargetsConfig "
            "(control, seed, image_size, split_seed, builtin_counts, batch_size); --set KEY=VALUE sets one "
            "key, a dedicated flag (given) sets its key last."
        ),
    )
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--model", metavar="CKPT", help="model.pt of v1mtl fit-neural")
    src.add_argument(
        "--simulator", metavar="DIR", help="a v1mtl simulate-v1 folder (noise-free ground truth)"
    )
    p.add_argument(
        "--images", required=True, metavar="DATASET", help="classification set: builtin or a folder"
    )
    p.add_argument("--out", required=True, help="output folder (new or empty)")
    add_config_arguments(
        p,
        preset_prefix=None,
        positional=False,
        example="v1mtl predict-responses --model runs/v1-model/model.pt --images builtin --out data/targets "
        "--control shuffled --set batch_size=128",
    )
    # Every flag below that sets a key defaults to None, so that only a flag that is given overrides
    # --config and --set; the defaults named in the help are PredictTargetsConfig's.
    p.add_argument(
        "--control",
        choices=("shuffled", "random"),
        default=None,
        help="control targets (sets control; default: none, the predictions themselves)",
    )
    p.add_argument(
        "--size",
        type=int,
        default=None,
        help="classification image size in pixels (sets image_size; default 64)",
    )
    p.add_argument(
        "--seed", type=int, default=None, help="seed of the control's randomness (sets seed; default 0)"
    )
    p.add_argument(
        "--builtin-counts",
        type=int,
        nargs=3,
        default=None,
        metavar=("TRAIN", "VAL", "TEST"),
        help="image counts of the built-in set (sets builtin_counts; default: the built-in set's defaults)",
    )
    p.add_argument("--device", default="cpu", help="cpu or cuda (default cpu)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from v1mtl.neural_model import run_targets_stage

    created = run_targets_stage(
        config_from_flags(args), args.model or args.simulator, args.images, args.out, device=args.device
    )
    if created:
        print(f"predict-responses: wrote {args.out}")
    return 0


def config_from_flags(args: argparse.Namespace) -> PredictTargetsConfig:
    """The ``PredictTargetsConfig`` of the command: its defaults, ``--config``, ``--set``, then the flags given."""
    from v1mtl.common.config import config_from_args
    from v1mtl.neural_model import PredictTargetsConfig

    flags = {
        "control": args.control,
        "seed": args.seed,
        "image_size": args.size,
        "builtin_counts": args.builtin_counts,
    }
    return config_from_args(PredictTargetsConfig, args, flags=flags)
