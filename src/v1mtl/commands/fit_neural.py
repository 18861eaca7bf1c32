"""``v1mtl fit-neural``: fit the single-task V1 model (VGG trunk[:k] + one Gaussian readout per session)."""

from __future__ import annotations

import argparse

GROUP = None
PRESET_PREFIX = "fit-neural"


def register(sub: argparse._SubParsersAction) -> None:
    from v1mtl.common.config import add_config_arguments

    p = sub.add_parser(
        "fit-neural",
        help="fit the single-task V1 model on a V1 dataset",
        description=(
            "Fit a VGG trunk features[:k] plus Gaussian readouts to a V1 dataset with the reference's settings "
            "(Poisson loss scaled by sqrt(N/B) + L1 on readout features, Adam, early stopping on validation "
            "correlation; docs/v1-model.md). Writes model.pt, scores.csv (per neuron test correlation, "
            "correlation to the average, FEVE, noise ceiling), summary.json, metrics.jsonl and config.yaml. "
            "Rerun the same command to resume an interrupted run."
        ),
    )
    add_config_arguments(
        p,
        preset_prefix=PRESET_PREFIX,
        example="v1mtl fit-neural --preset quick --data data/v1-sim --set training.max_epochs=5 "
        "--out runs/v1-model",
    )
    p.add_argument("--out", required=True, help="output folder (new, or a run of this config to resume)")
    p.add_argument("--data", default=None, metavar="PATH", help="the V1 dataset (sets data.path)")
    p.add_argument(
        "--core-from",
        default=None,
        metavar="CKPT",
        help="take the trunk from a trained network's checkpoint (sets core_from)",
    )
    p.add_argument(
        "--freeze-core",
        action="store_true",
        default=None,
        help="keep that trunk fixed (weights and BatchNorm statistics): fit only the readouts",
    )
    p.add_argument("--device", default=None, help="cpu or cuda (sets device)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from v1mtl.common.config import config_from_args
    from v1mtl.neural_model import FitNeuralConfig, fit_v1_model

    cfg = config_from_args(
        FitNeuralConfig,
        args,
        preset_prefix=PRESET_PREFIX,
        flags={
            "data.path": args.data,
            "core_from": args.core_from,
            "freeze_core": args.freeze_core,
            "device": args.device,
        },
    )
    from v1mtl.neural_model.fit_health import failure_words, number

    summary = fit_v1_model(cfg, None, args.out)
    failed = failure_words(summary)
    if failed is not None:
        # a failed fit's scores are not results: say so instead of printing them
        print(f"fit-neural: {failed}; files in {args.out}")
        return 0
    ceiling = summary["noise_ceiling"]
    print(
        f"fit-neural: test corr {number(summary['test_corr_mean'])}, corr to average "
        f"{number(summary['corr_to_average_mean'])}, FEVE mean {number(summary['feve_mean'])} "
        f"(median {number(summary['feve_median'])}) over {summary['n_used']} of {summary['n_total']} neurons "
        f"(explainable variance > {summary['min_explainable_variance']:g}); noise ceiling: oracle corr "
        f"{number(ceiling['oracle_corr_mean'])}, explainable variance median "
        f"{number(ceiling['explainable_variance_median'])}; results in {args.out}"
    )
    return 0
