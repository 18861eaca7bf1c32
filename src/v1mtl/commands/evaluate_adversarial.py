"""``v1mtl evaluate adversarial``: accuracy of a trained network under PGD attacks (L∞ and L2) at several budgets.

``v1mtl evaluate adversarial CKPT --out DIR`` writes ``adversarial.csv`` (one row per norm and budget) and
``adversarial.json`` (the settings, the rows and the gradient-masking check). The evaluation is
``v1mtl.evaluate.adversarial.run_adversarial_stage``; this module turns the flags, ``--config`` and ``--set``
into its ``AdversarialConfig``.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from v1mtl.commands.evaluate_robustness import _numbers

if TYPE_CHECKING:
    from v1mtl.evaluate.adversarial import AdversarialConfig

GROUP = "evaluate"

# argparse choices, kept here so that ``v1mtl --help`` need not import torch; the config checks them too
NORMS = ("linf", "l2")


def register(sub: argparse._SubParsersAction) -> None:
    from v1mtl.common.config import add_config_arguments

    p = sub.add_parser(
        "adversarial",
        help="accuracy under PGD attacks (L-inf, L2) at several budgets",
        description=(
            "Attack a trained network with PGD (Madry et al. 2018; random start, restarts, step 2.5 * eps / "
            "steps, expectation over transformation for stochastic networks) under L-inf and L2 budgets in "
            "[0, 1] pixel units, and write a tidy CSV and a JSON summary that flags suspected gradient "
            "masking. --config is a YAML of v1mtl.evaluate.adversarial.AdversarialConfig (norms, linf_eps, "
            "l2_eps, steps, restarts, eot_samples, random_start, data, limit, seed, batch_size); --set "
            "KEY=VALUE sets one key, a dedicated flag (given) sets its key last. See docs/robustness.md."
        ),
    )
    p.add_argument("checkpoint", help="run folder or best.pt of the network to attack")
    p.add_argument("--out", required=True, help="output folder (its adversarial.csv and .json are replaced)")
    add_config_arguments(
        p,
        preset_prefix=None,
        positional=False,
        example="v1mtl evaluate adversarial runs/mtl --out eval/mtl-adv --norms linf --linf-eps 0 0.004 0.25 "
        "--steps 20 --set limit=500",
    )
    # Every flag below defaults to None, so that only a flag that is given overrides --config and --set;
    # the defaults named in the help are AdversarialConfig's.
    p.add_argument("--norms", nargs="+", choices=NORMS, default=None, help="threat models (default linf l2)")
    p.add_argument(
        "--linf-eps",
        nargs="+",
        default=None,
        metavar="EPS",
        help="L-inf budgets in [0, 1] pixel units (sets linf_eps; default 0 1/1020 1/255 4/255 0.25)",
    )
    p.add_argument(
        "--l2-eps",
        nargs="+",
        default=None,
        metavar="EPS",
        help="L2 budgets over the gray image in [0, 1] pixel units (sets l2_eps; default 0 0.025 0.1 0.4 8)",
    )
    p.add_argument("--steps", type=int, default=None, help="PGD steps per restart (sets steps; default 20)")
    p.add_argument("--restarts", type=int, default=None, help="starts per image (sets restarts; default 1)")
    p.add_argument(
        "--eot-samples",
        type=int,
        default=None,
        help="forward passes averaged per gradient, for stochastic networks (sets eot_samples; default 1)",
    )
    p.add_argument(
        "--data",
        default=None,
        help="clean test images (sets data; default: the data set the network was trained on, from its config)",
    )
    p.add_argument(
        "--limit", type=int, default=None, help="attack at most N test images, spread evenly (default 1000)"
    )
    p.add_argument("--seed", type=int, default=None, help="seed of the random starts (sets seed; default 0)")
    p.add_argument(
        "--batch-size", type=int, default=None, help="images per batch (sets batch_size; default 128)"
    )
    p.add_argument("--device", default="cpu", help="cpu or cuda (default cpu)")
    p.add_argument("--name", help="model name in the CSV (default: the run folder's name)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from v1mtl.evaluate.adversarial import run_adversarial_stage

    result = run_adversarial_stage(
        config_from_flags(args), args.checkpoint, args.out, name=args.name, device=args.device
    )
    _print_summary(result)
    return 0


def config_from_flags(args: argparse.Namespace) -> AdversarialConfig:
    """The ``AdversarialConfig`` of the command: its defaults, ``--config``, ``--set``, then the flags given."""
    from v1mtl.common.config import config_from_args
    from v1mtl.evaluate.adversarial import AdversarialConfig

    flags = {
        "norms": args.norms,
        "linf_eps": _numbers(args.linf_eps, "linf_eps", float),
        "l2_eps": _numbers(args.l2_eps, "l2_eps", float),
        "steps": args.steps,
        "restarts": args.restarts,
        "eot_samples": args.eot_samples,
        "data": args.data,
        "limit": args.limit,
        "seed": args.seed,
        "batch_size": args.batch_size,
    }
    return config_from_args(AdversarialConfig, args, flags=flags)


def _print_summary(result: dict[str, Any]) -> None:
    for r in result["rows"]:
        print(f"{r['model']} {r['norm']} eps={r['eps']:g}: accuracy {100 * r['accuracy']:.2f}% of {r['n']}")
    if result["suspect_gradient_masking"]:
        print("WARNING: suspected gradient masking: " + "; ".join(result["gradient_masking_reasons"]))
    for p in result["paths"]:
        print(f"wrote {p}")
