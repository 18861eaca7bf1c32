"""``v1mtl evaluate predictivity CKPT --neural DATA --out DIR``: V1 predictivity of a trained network."""

from __future__ import annotations

import argparse

GROUP = "evaluate"


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "predictivity",
        help="fit fresh V1 readouts on a frozen trained trunk and score them, layer by layer",
        description=(
            "Freeze a trained network up to a layer (BatchNorm in eval mode), fit fresh per-session readouts "
            "on a V1 dataset and score them on the repeated test images (correlation, correlation to the "
            "average, FEVE). Several --layers give a sweep; the best layer is chosen on validation."
        ),
    )
    p.add_argument("checkpoint", help="a training run folder or its best.pt")
    p.add_argument("--neural", required=True, help="the V1 dataset (any format 'v1mtl data inspect' knows)")
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument(
        "--layers",
        nargs="+",
        default=None,
        help="layer names (relu3_1) or module counts k of features[:k]; default: the shared layer",
    )
    p.add_argument(
        "--readout",
        choices=("gaussian", "ridge"),
        default="gaussian",
        help="Gaussian readouts as the V1 model (default) or a fast ridge regression",
    )
    p.add_argument("--name", default=None, help="model name in the tables (default: the run folder's name)")
    p.add_argument(
        "--fit-config", default=None, help="YAML of the V1 model fit (v1mtl.neural_model.fit.FitNeuralConfig)"
    )
    p.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a fit setting, e.g. --set training.max_epochs=20",
    )
    p.add_argument("--max-epochs", type=int, default=None, help="shortcut for --set training.max_epochs=N")
    p.add_argument(
        "--seed", type=int, default=None, help="seed of the readout fit (default: the fit config's)"
    )
    p.add_argument("--device", default="cpu", help="cpu or cuda")
    p.add_argument("--no-progress", action="store_true", help="hide progress bars")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from v1mtl.analysis import plots
    from v1mtl.analysis.records import write_protocol
    from v1mtl.common.config import config_to_dict, load_config
    from v1mtl.evaluate import predictivity
    from v1mtl.models.trunk import parse_layer
    from v1mtl.neural_model.fit import FitNeuralConfig
    from v1mtl.training.checkpoint import load_network

    fit_cfg = load_config(
        FitNeuralConfig,
        args.fit_config,
        args.overrides,
        flags={"training.max_epochs": args.max_epochs, "seed": args.seed},
    )
    loaded = load_network(args.checkpoint, args.name, device=args.device)
    wanted = [parse_layer(x) for x in args.layers] if args.layers else None
    summary = predictivity.evaluate_predictivity(
        loaded,
        args.neural,
        args.out,
        layers=wanted,
        readout=args.readout,
        fit_cfg=fit_cfg,
        device=args.device,
        progress=not args.no_progress,
    )
    plots.layer_sweep(summary["layers"], f"{args.out}/layer_sweep.png")
    settings = {
        "checkpoint": loaded.path,
        "model": loaded.name,
        "neural": str(args.neural),
        "layers": [r["layer"] for r in summary["layers"]],
        "readout": args.readout,
        "device": args.device,
        "fit": config_to_dict(fit_cfg),
        "input_normalization": {"mean": loaded.mean, "std": loaded.std},
    }
    modules = [predictivity]
    if args.readout == "ridge":
        from v1mtl.evaluate import ridge_readout

        modules.append(ridge_readout)
    write_protocol(args.out, "V1 predictivity", modules, settings)
    best = summary["best"]
    print(
        f"{loaded.name}: best layer {best['layer']} (k={best['layer_index']}): test corr {best['test_corr_mean']:.3f}, "
        f"corr to average {best['corr_to_average_mean']:.3f}, FEVE {best['feve_mean']:.3f}; tables in {args.out}"
    )
    return 0
