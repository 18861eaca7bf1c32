"""``v1mtl analyze saliency CKPT... --images SRC --out DIR``: how much of a network's sensitivity is in salient regions."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from v1mtl.analysis import SaliencyConfig

GROUP = "analyze"


def register(sub: argparse._SubParsersAction) -> None:
    from v1mtl.analysis import SaliencyConfig
    from v1mtl.analysis.stage_cli import add_input_arguments, add_optimizer_arguments

    d = SaliencyConfig()
    p = sub.add_parser(
        "saliency",
        help="score each network's sensitivity maps against saliency maps (NSS, AUC)",
        description=(
            "Compute per-pixel sensitivity maps of each network at one layer (Jacobian norm, and where a "
            "norm-constrained reconstruction spends its budget) and score them against saliency maps: a user "
            "file (e.g. DeepGaze IIE) or a built-in bottom-up model. Writes per-image and summary CSVs with "
            "bootstrap CIs, figures and the protocol. Settings: the keys of "
            "v1mtl.analysis.saliency_stage.SaliencyConfig, from --config and --set; a dedicated flag overrides both."
        ),
    )
    add_input_arguments(
        p,
        d,
        example="v1mtl analyze saliency runs/baseline runs/mtl --images builtin --out analysis/saliency "
        "--methods jacobian --set n_images=16",
    )
    p.add_argument(
        "--saliency-maps",
        default=None,
        help="saliency maps keyed by image id: .npz / .h5, or an .npy aligned with the images",
    )
    p.add_argument(
        "--log-density",
        action="store_true",
        default=None,
        help="the saliency maps are log-densities (DeepGaze): exponentiate them",
    )
    p.add_argument(
        "--saliency-model",
        choices=("spectral_residual", "centre_surround"),
        default=None,
        help=f"built-in saliency model when no file is given (sets model; default {d.model})",
    )
    p.add_argument(
        "--methods",
        nargs="+",
        choices=("jacobian", "reconstruction"),
        default=None,
        help=f"sensitivity maps to score (default {' '.join(d.methods)})",
    )
    p.add_argument(
        "--n-probes",
        type=int,
        default=None,
        help=f"random probes of the Jacobian-norm estimate (default {d.n_probes})",
    )
    p.add_argument(
        "--budget",
        type=float,
        default=None,
        help=f"L2 budget of the reconstructions (3-channel normalized units; default {d.budget:g})",
    )
    p.add_argument(
        "--top-fraction",
        type=float,
        default=None,
        help=f"share of most sensitive pixels the AUC treats as positives (default {d.top_fraction:g})",
    )
    add_optimizer_arguments(p, d)
    p.set_defaults(func=run)


def stage_config(args: argparse.Namespace) -> SaliencyConfig:
    """The ``SaliencyConfig`` of the parsed arguments: defaults, ``--config``, ``--set``, then the flags."""
    from v1mtl.analysis import SaliencyConfig
    from v1mtl.analysis.stage_cli import shared_flags
    from v1mtl.common.config import config_from_args

    flags = {
        **shared_flags(args),
        "saliency_maps": args.saliency_maps,
        "log_density": args.log_density,
        "model": args.saliency_model,
        "methods": args.methods,
        "n_probes": args.n_probes,
        "budget": args.budget,
        "top_fraction": args.top_fraction,
    }
    return config_from_args(SaliencyConfig, args, flags=flags)


def run(args: argparse.Namespace) -> int:
    from v1mtl.analysis import run_saliency_stage

    cfg = stage_config(args)
    result = run_saliency_stage(cfg, args.checkpoints, args.out, names=args.names, device=args.device)
    for s in result.summary:
        print(
            f"{s['model']} {s['method']} {s['score'].upper()}: {s['value']:.3f} [{s['ci_low']:.3f}, {s['ci_high']:.3f}]"
        )
    print(f"tables and figures in {result.out_dir}")
    return 0
