"""``v1mtl evaluate brain-robustness --robustness CSV... --predictivity DIR... --out DIR``.

The work is ``v1mtl.evaluate.brain_vs_robustness.run_brain_robustness``; this module turns the flags,
``--config`` and ``--set`` into its ``BrainRobustnessConfig``.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from v1mtl.evaluate import BrainRobustnessConfig

GROUP = "evaluate"

# argparse choices, kept here so that ``v1mtl --help`` need not import scipy; the config checks them too
METRICS = ("corr_to_average", "test_corr", "feve")


def register(sub: argparse._SubParsersAction) -> None:
    from v1mtl.common.config import add_config_arguments

    p = sub.add_parser(
        "brain-robustness",
        help="relate mean corruption accuracy to V1 predictivity across models (Spearman with a bootstrap CI)",
        description=(
            "One point per model: mean corruption accuracy (from robustness CSVs) against V1 predictivity at the "
            "best layer (from predictivity folders). Writes points.csv, result.json, scatter.png and the protocol. "
            "--config is a YAML of v1mtl.evaluate.brain_vs_robustness.BrainRobustnessConfig (metric, n_boot, "
            "seed); --set KEY=VALUE sets one key, a dedicated flag (given) sets its key last."
        ),
    )
    p.add_argument(
        "--robustness", nargs="+", required=True, help="robustness.csv files of 'v1mtl evaluate robustness'"
    )
    p.add_argument(
        "--predictivity", nargs="+", required=True, help="output folders of 'v1mtl evaluate predictivity'"
    )
    p.add_argument("--out", required=True, help="output folder")
    add_config_arguments(
        p,
        preset_prefix=None,
        positional=False,
        example="v1mtl evaluate brain-robustness --robustness eval/baseline/robustness.csv "
        "eval/mtl/robustness.csv --predictivity eval/baseline-v1 eval/mtl-v1 --out eval/brain --metric feve "
        "--set n_boot=500",
    )
    # The flags below default to None, so that only a flag that is given overrides --config and --set; the
    # defaults named in the help are BrainRobustnessConfig's.
    p.add_argument(
        "--metric",
        choices=METRICS,
        default=None,
        help="predictivity score of brain-likeness (sets metric; default corr_to_average)",
    )
    p.add_argument(
        "--n-boot", type=int, default=None, help="bootstrap resamples of the CI (sets n_boot; default 2000)"
    )
    p.add_argument("--seed", type=int, default=None, help="seed of the bootstrap (sets seed; default 0)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from v1mtl.evaluate.brain_vs_robustness import headline, run_brain_robustness

    result = run_brain_robustness(config_from_flags(args), args.robustness, args.predictivity, args.out)
    print(f"{headline(result)}: {result['verdict']}")
    return 0


def config_from_flags(args: argparse.Namespace) -> BrainRobustnessConfig:
    """The ``BrainRobustnessConfig`` of the command: its defaults, ``--config``, ``--set``, then the flags given."""
    from v1mtl.common.config import config_from_args
    from v1mtl.evaluate import BrainRobustnessConfig

    flags = {"metric": args.metric, "n_boot": args.n_boot, "seed": args.seed}
    return config_from_args(BrainRobustnessConfig, args, flags=flags)
