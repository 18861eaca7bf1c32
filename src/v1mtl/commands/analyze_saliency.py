"""``v1mtl analyze saliency CKPT... --images SRC --out DIR``: how much of a network's sensitivity is in salient regions."""

from __future__ import annotations

import argparse

from v1mtl.commands.analyze_reconstruction import (
    add_common_arguments,
    add_recon_arguments,
    recon_config_from_args,
)

GROUP = "analyze"


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "saliency",
        help="score each network's sensitivity maps against saliency maps (NSS, AUC)",
        description=(
            "Compute per-pixel sensitivity maps of each network at one layer (Jacobian norm, and where a "
            "norm-constrained reconstruction spends its budget) and score them against saliency maps: a user "
            "file (e.g. DeepGaze IIE) or a built-in bottom-up model. Writes per-image and summary CSVs with "
            "bootstrap CIs, figures and the protocol."
        ),
    )
    add_common_arguments(p)
    p.add_argument(
        "--saliency-maps",
        default=None,
        help="saliency maps keyed by image id: .npz / .h5, or an .npy aligned with the images",
    )
    p.add_argument(
        "--log-density",
        action="store_true",
        help="the saliency maps are log-densities (DeepGaze): exponentiate them",
    )
    p.add_argument(
        "--saliency-model",
        choices=("spectral_residual", "centre_surround"),
        default="spectral_residual",
        help="built-in saliency model when no file is given",
    )
    p.add_argument(
        "--methods", nargs="+", choices=("jacobian", "reconstruction"), default=["jacobian", "reconstruction"]
    )
    p.add_argument("--n-probes", type=int, default=16, help="random probes of the Jacobian-norm estimate")
    p.add_argument(
        "--budget",
        type=float,
        default=20.0,
        help="L2 budget of the reconstructions (3-channel normalized units)",
    )
    p.add_argument(
        "--top-fraction",
        type=float,
        default=0.2,
        help="share of most sensitive pixels the AUC treats as positives",
    )
    add_recon_arguments(p, steps=200)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from dataclasses import asdict
    from pathlib import Path

    import numpy as np

    from v1mtl.analysis import plots, saliency, saliency_maps_io, saliency_models, sensitivity
    from v1mtl.analysis.images import load_analysis_images
    from v1mtl.analysis.network_inputs import extractors_at, load_networks
    from v1mtl.analysis.records import write_protocol
    from v1mtl.common.errors import InputError
    from v1mtl.common.tables import write_csv

    if not 0 < args.top_fraction < 1:
        raise InputError(f"must be in (0, 1), got {args.top_fraction}", field="--top-fraction")
    out = Path(args.out)
    loaded = load_networks(args.checkpoints, args.names)
    extractors, layer_info = extractors_at(loaded, args.layer)
    size = args.size or loaded[0].image_size
    ids, images = load_analysis_images(args.images, size=size, n=args.n_images, seed=args.seed)
    if args.saliency_maps:
        sal = saliency_maps_io.load_saliency_maps(args.saliency_maps, ids, size, log_density=args.log_density)
        sal_source = {"file": str(args.saliency_maps), "log_density": args.log_density}
    else:
        sal = np.stack([saliency_models.saliency_map(im, args.saliency_model) for im in images])
        sal_source = {"model": args.saliency_model}
    recon_cfg = recon_config_from_args(args)
    settings = saliency.SaliencySettings(
        methods=tuple(args.methods),
        mean=loaded[0].mean,
        std=loaded[0].std,
        n_probes=args.n_probes,
        budget=args.budget,
        recon=recon_cfg,
        top_fraction=args.top_fraction,
        batch_size=args.batch_size,
        seed=args.seed,
    )
    rows, maps = saliency.run_saliency_sensitivity(extractors, ids, images, sal, settings)
    for row in rows:
        row.update(layer_info[row["model"]])
    summary, comparisons = saliency.summarize_saliency(rows, n_boot=args.n_boot, seed=args.seed)
    out.mkdir(parents=True, exist_ok=True)
    write_csv(out / "per_image.csv", rows)
    write_csv(out / "summary.csv", summary)
    write_csv(out / "comparisons.csv", comparisons)
    plots.saliency_examples(ids, images, sal, maps, out / "examples.png")
    plots.score_bars(summary, out / "scores.png")
    modules = [saliency, sensitivity, saliency_maps_io if args.saliency_maps else saliency_models]
    write_protocol(
        out,
        "Saliency sensitivity",
        modules,
        {
            "models": layer_info,
            "images": str(args.images),
            "image_ids": ids,
            "size": size,
            "saliency": sal_source,
            "settings": asdict(settings),
            "n_boot": args.n_boot,
            "seed": args.seed,
        },
    )
    for s in summary:
        print(
            f"{s['model']} {s['method']} {s['score'].upper()}: {s['value']:.3f} [{s['ci_low']:.3f}, {s['ci_high']:.3f}]"
        )
    print(f"tables and figures in {out}")
    return 0
