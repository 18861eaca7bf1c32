"""Command-line flags both analysis commands share, each the dedicated flag of one ``AnalysisStageConfig`` key.

Every config flag defaults to None so that it overrides ``--config`` and ``--set`` only when given
(``v1mtl.common.config.config_from_args``); help texts show the config's defaults.
"""

from __future__ import annotations

import argparse
from typing import Any

from v1mtl.analysis.stage_config import AnalysisStageConfig
from v1mtl.common.config import add_config_arguments


def add_input_arguments(p: argparse.ArgumentParser, d: AnalysisStageConfig, *, example: str) -> None:
    """The checkpoints, ``--out``, ``--names``, ``--device``, ``--config``/``--set`` and the shared input keys;
    ``d`` is the command's default config, ``example`` the command line its help ends with."""
    p.add_argument(
        "checkpoints",
        nargs="+",
        help="training run folders or best.pt files; the first is the reference of comparisons",
    )
    p.add_argument(
        "--images",
        default=None,
        help=f"'builtin' (bundled photographs), an image folder, or an .npy/.npz of images (default {d.images})",
    )
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--names", nargs="+", default=None, help="model names (default: the run folders' names)")
    p.add_argument(
        "--layer",
        default=None,
        help="layer name (relu3_1) or module count k; default: each network's shared layer",
    )
    p.add_argument("--n-images", type=int, default=None, help=f"number of images (default {d.n_images})")
    p.add_argument(
        "--size",
        type=int,
        default=None,
        help="image side in pixels (default: the first network's training size)",
    )
    p.add_argument("--batch-size", type=int, default=None, help=f"images per batch (default {d.batch_size})")
    p.add_argument(
        "--n-boot", type=int, default=None, help=f"bootstrap resamples of the CIs (default {d.n_boot})"
    )
    p.add_argument(
        "--seed",
        type=int,
        default=None,
        help=f"seed of image crops, noise, probes and bootstrap (default {d.seed})",
    )
    p.add_argument(
        "--device", choices=("cpu", "cuda"), default="cpu", help="where the networks run (default cpu)"
    )
    add_config_arguments(p, preset_prefix=None, positional=False, example=example)


def add_optimizer_arguments(p: argparse.ArgumentParser, d: AnalysisStageConfig) -> None:
    """The reconstruction optimizer's keys; ``d`` is the command's default config."""
    p.add_argument(
        "--steps", type=int, default=None, help=f"gradient steps (default {d.steps}; the reference runs 5000)"
    )
    p.add_argument(
        "--lr",
        type=float,
        default=None,
        help=f"SGD step size on the mean-squared activation error (default {d.lr:g}, the reference's)",
    )
    p.add_argument(
        "--blur-sigma",
        type=float,
        default=None,
        help=f"Gaussian blur of the gradient in pixels (default {d.blur_sigma:g}, the reference's; 0 = off)",
    )
    p.add_argument(
        "--constraint",
        choices=("sphere", "ball"),
        default=None,
        help=f"norm exactly the budget (sphere, the reference) or at most (ball); default {d.constraint}",
    )
    p.add_argument(
        "--recon-seed",
        type=int,
        default=None,
        help=f"seed of the random starting images (default {d.recon_seed}, the reference's)",
    )


def shared_flags(args: argparse.Namespace) -> dict[str, Any]:
    """Config key -> value of the shared dedicated flags (None where not given)."""
    return {
        "images": args.images,
        "layer": args.layer,
        "n_images": args.n_images,
        "size": args.size,
        "batch_size": args.batch_size,
        "n_boot": args.n_boot,
        "seed": args.seed,
        "steps": args.steps,
        "lr": args.lr,
        "blur_sigma": args.blur_sigma,
        "constraint": args.constraint,
        "recon_seed": args.recon_seed,
    }
