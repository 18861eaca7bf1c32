"""``v1mtl analyze reconstruction CKPT... --images SRC --out DIR``: content vs noise in constrained reconstructions."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from v1mtl.analysis import ReconstructionConfig

GROUP = "analyze"


def register(sub: argparse._SubParsersAction) -> None:
    from v1mtl.analysis import ReconstructionConfig
    from v1mtl.analysis.stage_cli import add_input_arguments, add_optimizer_arguments

    d = ReconstructionConfig()
    p = sub.add_parser(
        "reconstruction",
        help="reconstruct noisy images under an L2 budget: is the network more sensitive to content or noise?",
        description=(
            "Reconstruct noisy images (clean + Gaussian noise) from each network's activations at one layer, "
            "under fixed L2 budgets, and measure how much of each reconstruction goes to the clean content and "
            "how much to the noise. Writes per-image and summary CSVs with bootstrap CIs, figures and the protocol. "
            "Settings: the keys of v1mtl.analysis.reconstruction_stage.ReconstructionConfig, from --config and "
            "--set; a dedicated flag overrides both."
        ),
    )
    add_input_arguments(
        p,
        d,
        example="v1mtl analyze reconstruction runs/baseline runs/mtl --images builtin --out analysis/recon "
        "--budgets 10 40 --set steps=200",
    )
    p.add_argument(
        "--budgets",
        type=float,
        nargs="+",
        default=None,
        help="L2 budgets of the 3-channel normalized input (default "
        f"{' '.join(f'{b:g}' for b in d.budgets)}, the reference's at 64x64x3)",
    )
    p.add_argument(
        "--noise-stds",
        type=float,
        nargs="+",
        default=None,
        help=f"std of the added pixel noise in [0, 1] units (default {' '.join(f'{s:g}' for s in d.noise_stds)})",
    )
    add_optimizer_arguments(p, d)
    p.set_defaults(func=run)


def stage_config(args: argparse.Namespace) -> ReconstructionConfig:
    """The ``ReconstructionConfig`` of the parsed arguments: defaults, ``--config``, ``--set``, then the flags."""
    from v1mtl.analysis import ReconstructionConfig
    from v1mtl.analysis.stage_cli import shared_flags
    from v1mtl.common.config import config_from_args

    flags = {**shared_flags(args), "budgets": args.budgets, "noise_stds": args.noise_stds}
    return config_from_args(ReconstructionConfig, args, flags=flags)


def run(args: argparse.Namespace) -> int:
    from v1mtl.analysis import run_reconstruction_stage

    cfg = stage_config(args)
    result = run_reconstruction_stage(cfg, args.checkpoints, args.out, names=args.names, device=args.device)
    for s in result.summary:
        if s["measure"] == "content_gain":
            print(
                f"{s['model']} content gain (noise {s['noise_std']:g}, budget {s['budget']:g}): "
                f"{s['value']:+.3f} [{s['ci_low']:+.3f}, {s['ci_high']:+.3f}]"
            )
    for c in result.comparisons:
        if c["measure"] == "content_gain":
            print(
                f"{c['model']} - {c['reference']} content gain (noise {c['noise_std']:g}, budget {c['budget']:g}): "
                f"{c['value']:+.3f} [{c['ci_low']:+.3f}, {c['ci_high']:+.3f}]"
            )
    print(f"tables and figures in {result.out_dir}")
    return 0
