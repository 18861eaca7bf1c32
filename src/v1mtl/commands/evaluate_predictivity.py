"""``v1mtl evaluate predictivity CKPT --neural DATA --out DIR``: V1 predictivity of a trained network."""

from __future__ import annotations

import argparse

GROUP = "evaluate"


def register(sub: argparse._SubParsersAction) -> None:
    from v1mtl.common.config import add_config_arguments

    p = sub.add_parser(
        "predictivity",
        help="fit fresh V1 readouts on a frozen trained trunk and score them, layer by layer",
        description=(
            "Freeze a trained network up to a layer (BatchNorm in eval mode), fit fresh per-session readouts "
            "on a V1 dataset and score them on the repeated test images (correlation, correlation to the "
            "average, FEVE). Several --layers give a sweep; the best layer is chosen on validation. "
            "--config is a YAML of v1mtl.evaluate.predictivity_stage.PredictivityConfig (layers, readout, "
            "max_epochs, seed); a --set of one of those keys sets it, any other --set key sets the fit "
            "settings (--set data.batch_size=64). --print-config prints two YAML documents: this config, then "
            "the fit settings (a --fit-config)."
        ),
    )
    p.add_argument("checkpoint", help="a training run folder or its best.pt")
    p.add_argument("--neural", required=True, help="the V1 dataset (any format 'v1mtl data inspect' knows)")
    p.add_argument("--out", required=True, help="output folder")
    add_config_arguments(
        p,
        preset_prefix=None,
        positional=False,
        example="v1mtl evaluate predictivity runs/mtl --neural data/v1-sim --out eval/mtl-v1 "
        "--layers relu2_1 relu3_1 --readout ridge --set data.batch_size=64",
    )
    p.add_argument(
        "--layers",
        nargs="+",
        default=None,
        help="layer names (relu3_1) or module counts k of features[:k] (sets layers); default: the shared layer",
    )
    p.add_argument(
        "--readout",
        choices=("gaussian", "ridge"),
        default=None,
        help="Gaussian readouts as the V1 model (default) or a fast ridge regression (sets readout)",
    )
    p.add_argument("--name", default=None, help="model name in the tables (default: the run folder's name)")
    p.add_argument(
        "--fit-config", default=None, help="YAML of the V1 model fit (v1mtl.neural_model.fit.FitNeuralConfig)"
    )
    p.add_argument(
        "--max-epochs",
        type=int,
        default=None,
        help="epoch limit of each readout fit (sets max_epochs; default: the fit settings' training.max_epochs)",
    )
    p.add_argument(
        "--seed",
        type=int,
        default=None,
        help="seed of the readout fit (sets seed; default: the fit settings')",
    )
    p.add_argument("--device", default="cpu", help="cpu or cuda")
    p.add_argument(
        "--no-progress", action="store_true", help="hide progress bars (shown only on a terminal anyway)"
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import dataclasses

    from v1mtl.common.config import config_from_args, load_config, print_config
    from v1mtl.evaluate import PredictivityConfig, run_predictivity_stage
    from v1mtl.neural_model import FitNeuralConfig

    keys = {f.name for f in dataclasses.fields(PredictivityConfig)}
    own = [o for o in args.overrides if _key(o) in keys]
    # every other --set is a fit setting, as it was before the command took a config of its own
    fit = load_config(FitNeuralConfig, args.fit_config, [o for o in args.overrides if _key(o) not in keys])
    # a namespace without print_config: --print-config prints both configs, below
    cfg = config_from_args(
        PredictivityConfig,
        argparse.Namespace(config=args.config, overrides=own),
        flags={
            "layers": args.layers,
            "readout": args.readout,
            "max_epochs": args.max_epochs,
            "seed": args.seed,
        },
    )
    if args.print_config:
        print_config(cfg, fit)
    summary = run_predictivity_stage(
        cfg,
        args.checkpoint,
        args.neural,
        args.out,
        fit=fit,
        name=args.name,
        device=args.device,
        progress=not args.no_progress,
    )
    from v1mtl.neural_model.fit_health import number

    best = summary["best"]
    if summary.get("status") == "failed":
        print(f"{summary['model']}: failed: {summary['failure']}; tables in {args.out}")
        return 0
    print(
        f"{summary['model']}: best layer {best['layer']} (k={best['layer_index']}): test corr "
        f"{number(best['test_corr_mean'])}, corr to average {number(best['corr_to_average_mean'])}, FEVE "
        f"{number(best['feve_mean'])} (median {number(best['feve_median'])}; {best['n_used']} of "
        f"{best['n_total']} neurons); tables in {args.out}"
    )
    return 0


def _key(override: str) -> str:
    """The top-level key of a ``--set dotted.key=value`` item (``data`` of ``data.batch_size=64``)."""
    return override.partition("=")[0].strip().split(".", 1)[0]
