"""``v1mtl evaluate brain-robustness --robustness CSV... --predictivity DIR... --out DIR``."""

from __future__ import annotations

import argparse

GROUP = "evaluate"


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "brain-robustness",
        help="relate mean corruption accuracy to V1 predictivity across models (Spearman with a bootstrap CI)",
        description=(
            "One point per model: mean corruption accuracy (from robustness CSVs) against V1 predictivity at the "
            "best layer (from predictivity folders). Writes points.csv, result.json, scatter.png and the protocol."
        ),
    )
    p.add_argument(
        "--robustness", nargs="+", required=True, help="robustness.csv files of 'v1mtl evaluate robustness'"
    )
    p.add_argument(
        "--predictivity", nargs="+", required=True, help="output folders of 'v1mtl evaluate predictivity'"
    )
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--metric", choices=("corr_to_average", "test_corr", "feve"), default="corr_to_average")
    p.add_argument("--n-boot", type=int, default=2000)
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from v1mtl.analysis import plots
    from v1mtl.common.atomic import write_json
    from v1mtl.common.tables import write_csv
    from v1mtl.evaluate import brain_vs_robustness as bvr
    from v1mtl.evaluate.records import write_protocol

    out = Path(args.out)
    points, result = bvr.relate(
        args.robustness, args.predictivity, metric=args.metric, n_boot=args.n_boot, seed=args.seed
    )
    out.mkdir(parents=True, exist_ok=True)
    write_csv(out / "points.csv", points)
    write_json(out / "result.json", result)
    title = f"Spearman {result['spearman']:.2f} [{result['ci_low']:.2f}, {result['ci_high']:.2f}], n={result['n_models']}"
    plots.brain_vs_robustness(points, "mean_corruption_accuracy", "predictivity", out / "scatter.png", title)
    write_protocol(out, "Robustness against brain-likeness", [bvr], vars(args) | {"func": None})
    print(f"{title}: {result['verdict']}")
    return 0
