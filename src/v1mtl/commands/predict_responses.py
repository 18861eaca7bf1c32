"""``v1mtl predict-responses``: make a neural-target dataset from a V1 model (or the simulator) and images."""

from __future__ import annotations

import argparse

GROUP = None


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "predict-responses",
        help="write a V1 model's responses to a classification set's images as a neural-target dataset",
        description=(
            "Run a fitted V1 model (or a simulate-v1 folder's noise-free neurons) on the images of a "
            "classification set and write the responses as a native V1 dataset for co-training: train split "
            "= training trials, test split = test images. Controls: 'shuffled' permutes response vectors "
            "across images; 'random' draws image-independent responses with the same per-neuron statistics "
            "(docs/v1-model.md)."
        ),
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
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
    p.add_argument("--control", choices=("shuffled", "random"), default=None, help="control targets")
    p.add_argument("--size", type=int, default=64, help="classification image size in pixels")
    p.add_argument("--seed", type=int, default=0, help="seed of the control's randomness")
    p.add_argument(
        "--builtin-counts",
        type=int,
        nargs=3,
        default=None,
        metavar=("TRAIN", "VAL", "TEST"),
        help="image counts of the built-in set (default: the built-in set's defaults)",
    )
    p.add_argument("--device", default="cpu", help="cpu or cuda")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from v1mtl.neural_model.targets import predict_targets

    created = predict_targets(
        args.model or args.simulator,
        args.images,
        args.out,
        control=args.control,
        seed=args.seed,
        image_size=args.size,
        builtin_counts=tuple(args.builtin_counts) if args.builtin_counts else None,
        device=args.device,
    )
    if created:
        print(f"predict-responses: wrote {args.out}")
    return 0
