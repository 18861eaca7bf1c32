"""``v1mtl analyze reconstruction CKPT... --images SRC --out DIR``: content vs noise in constrained reconstructions."""

from __future__ import annotations

import argparse

GROUP = "analyze"


def add_recon_arguments(p: argparse.ArgumentParser, steps: int) -> None:
    """Reconstruction flags shared with ``analyze saliency``."""
    p.add_argument(
        "--steps", type=int, default=steps, help=f"gradient steps (default {steps}; the reference runs 5000)"
    )
    p.add_argument(
        "--lr",
        type=float,
        default=5000.0,
        help="SGD step size on the mean-squared activation error (reference 5000)",
    )
    p.add_argument(
        "--blur-sigma",
        type=float,
        default=1.0,
        help="Gaussian blur of the gradient in pixels (reference 1; 0 = off)",
    )
    p.add_argument(
        "--constraint",
        choices=("sphere", "ball"),
        default="sphere",
        help="norm exactly the budget (reference) or at most",
    )
    p.add_argument(
        "--recon-seed", type=int, default=1000, help="seed of the random starting images (reference 1000)"
    )


def recon_config_from_args(args: argparse.Namespace):
    """The ``ReconstructionConfig`` of the flags added by ``add_recon_arguments``; a bad value is an InputError."""
    from v1mtl.analysis.reconstruction import ReconstructionConfig
    from v1mtl.common.errors import InputError

    cfg = ReconstructionConfig(
        steps=args.steps,
        lr=args.lr,
        blur_sigma=args.blur_sigma,
        constraint=args.constraint,
        seed=args.recon_seed,
    )
    try:
        cfg.validate()
    except ValueError as err:
        raise InputError(str(err), field="reconstruction") from None
    return cfg


def add_common_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "checkpoints",
        nargs="+",
        help="training run folders or best.pt files; the first is the reference of comparisons",
    )
    p.add_argument(
        "--images",
        default="builtin",
        help="'builtin' (bundled photographs), an image folder, or an .npy/.npz of images",
    )
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--names", nargs="+", default=None, help="model names (default: the run folders' names)")
    p.add_argument(
        "--layer",
        default=None,
        help="layer name (relu3_1) or module count k; default: each network's shared layer",
    )
    p.add_argument("--n-images", type=int, default=16, help="number of images (default 16)")
    p.add_argument(
        "--size",
        type=int,
        default=None,
        help="image side in pixels (default: the first network's training size)",
    )
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--n-boot", type=int, default=2000, help="bootstrap resamples of the CIs")
    p.add_argument("--seed", type=int, default=0, help="seed of image crops, noise, probes and bootstrap")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "reconstruction",
        help="reconstruct noisy images under an L2 budget: is the network more sensitive to content or noise?",
        description=(
            "Reconstruct noisy images (clean + Gaussian noise) from each network's activations at one layer, "
            "under fixed L2 budgets, and measure how much of each reconstruction goes to the clean content and "
            "how much to the noise. Writes per-image and summary CSVs with bootstrap CIs, figures and the protocol."
        ),
    )
    add_common_arguments(p)
    p.add_argument(
        "--budgets",
        type=float,
        nargs="+",
        default=[5.0, 10.0, 20.0, 40.0, 60.0],
        help="L2 budgets of the 3-channel normalized input (reference 5 10 20 40 60 at 64x64x3)",
    )
    p.add_argument(
        "--noise-stds",
        type=float,
        nargs="+",
        default=[0.1, 0.2],
        help="std of the added pixel noise in [0, 1] units",
    )
    add_recon_arguments(p, steps=300)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from dataclasses import asdict
    from pathlib import Path

    from v1mtl.analysis import content_vs_noise as cvn
    from v1mtl.analysis import plots, reconstruction
    from v1mtl.analysis.images import load_analysis_images
    from v1mtl.analysis.network_inputs import extractors_at, load_networks
    from v1mtl.analysis.records import write_protocol
    from v1mtl.common.tables import write_csv

    out = Path(args.out)
    loaded = load_networks(args.checkpoints, args.names)
    extractors, layer_info = extractors_at(loaded, args.layer)
    size = args.size or loaded[0].image_size
    ids, images = load_analysis_images(args.images, size=size, n=args.n_images, seed=args.seed)
    recon_cfg = recon_config_from_args(args)
    settings = cvn.ContentNoiseSettings(
        budgets=tuple(args.budgets),
        noise_stds=tuple(args.noise_stds),
        mean=loaded[0].mean,
        std=loaded[0].std,
        recon=recon_cfg,
        batch_size=args.batch_size,
        seed=args.seed,
    )
    result = cvn.run_content_vs_noise(extractors, ids, images, settings)
    for row in result.rows:
        row.update(layer_info[row["model"]])
    summary, comparisons = cvn.summarize_content_vs_noise(result.rows, n_boot=args.n_boot, seed=args.seed)
    out.mkdir(parents=True, exist_ok=True)
    write_csv(out / "per_image.csv", result.rows)
    write_csv(out / "summary.csv", summary)
    write_csv(out / "comparisons.csv", comparisons)
    plots.reconstruction_examples(result.examples, out / "examples.png")
    plots.measure_vs_budget(
        summary,
        "content_gain",
        out / "content_gain.png",
        "content gain (fraction - input fraction)",
        zero_line=True,
    )
    plots.measure_vs_budget(
        summary, "content_fraction", out / "content_fraction.png", "content fraction", zero_line=False
    )
    write_protocol(
        out,
        "Constrained reconstruction: content vs noise",
        [reconstruction, cvn],
        {
            "models": layer_info,
            "images": str(args.images),
            "image_ids": ids,
            "size": size,
            "settings": asdict(settings),
            "n_boot": args.n_boot,
            "seed": args.seed,
        },
    )
    for s in summary:
        if s["measure"] == "content_gain":
            print(
                f"{s['model']} content gain (noise {s['noise_std']:g}, budget {s['budget']:g}): "
                f"{s['value']:+.3f} [{s['ci_low']:+.3f}, {s['ci_high']:+.3f}]"
            )
    for c in comparisons:
        if c["measure"] == "content_gain":
            print(
                f"{c['model']} - {c['reference']} content gain (noise {c['noise_std']:g}, budget {c['budget']:g}): "
                f"{c['value']:+.3f} [{c['ci_low']:+.3f}, {c['ci_high']:+.3f}]"
            )
    print(f"tables and figures in {out}")
    return 0
