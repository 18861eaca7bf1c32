"""``v1mtl evaluate robustness``: accuracy of a trained network under image corruptions, plus summaries and plots.

Two modes:

- ``v1mtl evaluate robustness CKPT --out DIR [--source ...]`` evaluates a run folder (or ``best.pt``) and
  writes ``robustness.csv``, ``protocol.json``, ``summary.csv``, ``corruption_scores.csv`` and the plots;
- ``v1mtl evaluate robustness --plot A.csv B.csv ... --out DIR`` summarizes and plots earlier results together.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from v1mtl.common.errors import InputError

GROUP = "evaluate"

SOURCES = ("on-the-fly", "pre-rendered", "gaussian-sweep")
CORRUPTION_SETS = ("common", "extra", "all")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "robustness",
        help="accuracy under image corruptions (tidy CSV, mCE, plots)",
        description=(
            "Measure a trained network's top-1 accuracy on corrupted test images, one (corruption, severity) "
            "at a time, and write a tidy CSV, a summary (clean accuracy, mean corruption accuracy, mCE, "
            "relative mCE) and accuracy-vs-severity plots. With --plot, summarize and plot existing CSVs "
            "instead. See docs/robustness.md."
        ),
    )
    p.add_argument("checkpoint", nargs="?", help="run folder or best.pt of the network to evaluate")
    p.add_argument("--out", required=True, help="output folder (rerunning into it resumes)")
    p.add_argument(
        "--plot",
        nargs="+",
        metavar="CSV",
        help="summarize and plot these robustness CSVs together (several models overlaid); no evaluation",
    )
    p.add_argument("--source", choices=SOURCES, default="on-the-fly", help="where corrupted images come from")
    p.add_argument(
        "--preset",
        help="corruption parameters for --source on-the-fly (required there): tiny-imagenet (64 px), "
        "imagenet (224 px, what the reference's code applied), cifar (32 px)",
    )
    p.add_argument(
        "--corruptions",
        default="common",
        help="common (the 15), extra (the 4 held-out), all, or a comma-separated list of names",
    )
    p.add_argument("--severities", default="1,2,3,4,5", help="comma-separated severities (default 1,2,3,4,5)")
    p.add_argument(
        "--stds",
        default=None,
        help="noise stds of --source gaussian-sweep (default 0,0.05,0.1,0.2,0.3,0.5,1)",
    )
    p.add_argument(
        "--tinyimagenet-c", dest="tinyimagenet_c", help="Tiny-ImageNet-C folder for --source pre-rendered"
    )
    p.add_argument(
        "--data", help="clean test images (default: the data set the network was trained on, from its config)"
    )
    p.add_argument(
        "--space",
        choices=("rgb", "gray"),
        default="rgb",
        help="corrupt colour images then convert to gray, as the paper (rgb, default), or corrupt gray images",
    )
    p.add_argument(
        "--jpeg-roundtrip",
        action="store_true",
        help="on-the-fly: JPEG quality-85 round trip after corrupting, as the Tiny-ImageNet-C files",
    )
    p.add_argument("--seed", type=int, default=0, help="seed of the per-image corruption draws (default 0)")
    p.add_argument(
        "--limit", type=int, default=None, help="evaluate at most N images per condition (spread evenly)"
    )
    p.add_argument("--batch-size", type=int, default=256)
    p.add_argument("--device", default="cpu", help="cpu or cuda (default cpu)")
    p.add_argument("--name", help="model name in the CSV (default: the run folder's name)")
    p.add_argument(
        "--reference",
        help="reference for mCE: a robustness CSV of an earlier run, or a run folder / best.pt evaluated here too",
    )
    p.add_argument("--reference-model", help="the reference's model name, when its CSV holds several models")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from v1mtl.evaluate.robustness import summarize

    if args.plot:
        if args.checkpoint:
            raise InputError(
                "give either a checkpoint to evaluate or --plot CSV..., not both", field="checkpoint"
            )
        result = summarize(
            args.plot, args.out, reference=args.reference, reference_model=args.reference_model
        )
    else:
        if not args.checkpoint:
            raise InputError(
                "give a checkpoint (run folder or best.pt) to evaluate, or --plot CSV...", field="checkpoint"
            )
        csv_path, reference_csv, reference_model = _evaluate(args)
        result = summarize([csv_path], args.out, reference=reference_csv, reference_model=reference_model)
    _print_summary(result)
    return 0


def _evaluate(args: argparse.Namespace) -> tuple[Path, str | None, str | None]:
    """Evaluate the checkpoint (and a reference checkpoint) into ``--out``; returns the CSV and the reference."""
    from v1mtl.evaluate.robustness import run_robustness

    loaded = [_load_model(args.checkpoint, args.name, args.device)]
    reference_csv, reference_model = args.reference, args.reference_model
    if args.reference and not args.reference.endswith(".csv"):
        ref_model, ref_info = _load_model(args.reference, args.reference_model, args.device)
        info = loaded[0][1]
        if ref_info["name"] == info["name"]:
            raise InputError(
                f"the reference has the same name {info['name']!r} as the network; pass --reference-model",
                path=args.reference,
                field="name",
            )
        for key in ("class_names", "image_size"):
            if ref_info[key] != info[key]:
                raise InputError(
                    f"the reference network differs in {key} from {args.checkpoint}",
                    path=args.reference,
                    field=key,
                )
        loaded.append((ref_model, ref_info))
        reference_csv, reference_model = None, ref_info["name"]
    source, data_details = _make_source(args, loaded[0][1])
    details = {
        "checkpoints": {info["name"]: info["path"] for _, info in loaded},
        "normalization": {info["name"]: info["normalization"] for _, info in loaded},
        **data_details,
        "arguments": {k: v for k, v in vars(args).items() if k != "func"},
    }
    csv_path = run_robustness(
        {info["name"]: model for model, info in loaded},
        source,
        args.out,
        batch_size=args.batch_size,
        device=args.device,
        details=details,
    )
    return csv_path, reference_csv, reference_model


def _load_model(ckpt: str, name: str | None, device: str) -> tuple[Any, dict[str, Any]]:
    from v1mtl.evaluate.robustness import UnitRangeClassifier
    from v1mtl.training.checkpoint import load_network

    loaded = load_network(ckpt, name, device=device)
    if loaded.net.classifier is None:
        raise InputError("this network has no classification branch", path=ckpt, field="classifier")
    info = {
        "name": loaded.name,
        "path": loaded.path,
        "normalization": {"mean": loaded.mean, "std": loaded.std},
        "class_names": loaded.class_names,
        "image_size": loaded.image_size,
        "data": loaded.config.data,
    }
    return UnitRangeClassifier(loaded.net, loaded.mean, loaded.std), info


def _split_list(text: str, field: str, cast: type) -> list:
    try:
        return [cast(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise InputError(f"expected comma-separated numbers, got {text!r}", field=field) from None


def _corruption_names(text: str) -> list[str]:
    from v1mtl.corruptions import names

    if text in CORRUPTION_SETS:
        return list(names(text))
    return [c.strip() for c in text.split(",") if c.strip()]


def _make_source(args: argparse.Namespace, info: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
    from v1mtl.data.images import load_classification
    from v1mtl.evaluate import corrupted_sources as cs

    data_cfg = info["data"]
    data_source = args.data or data_cfg.source
    color = args.space == "rgb" and data_source != "builtin" and args.source != "pre-rendered"
    data = load_classification(
        data_source,
        size=info["image_size"],
        seed=data_cfg.split_seed,
        builtin_counts=data_cfg.builtin_counts,
        color=color,
    )
    if info["class_names"] and list(data.class_names) != info["class_names"]:
        raise InputError(
            f"the network was trained on {len(info['class_names'])} other classes "
            f"({', '.join(info['class_names'][:3])}, ...) than this data set has ({data.n_classes}: "
            f"{', '.join(data.class_names[:3])}, ...)",
            path=data_source,
            field="class_names",
        )
    details: dict[str, Any] = {
        "data": str(data_source),
        "data_format": data.source,
        "image_size": info["image_size"],
    }
    severities = _split_list(args.severities, "severities", int)
    if args.jpeg_roundtrip and args.source != "on-the-fly":
        raise InputError(
            "--jpeg-roundtrip applies to --source on-the-fly only (pre-rendered files are JPEG already)",
            field="jpeg_roundtrip",
        )
    if args.source == "gaussian-sweep":
        stds = cs.GAUSSIAN_SWEEP_STDS if args.stds is None else _split_list(args.stds, "stds", float)
        source = cs.GaussianSweepSource(data.test, stds, seed=args.seed, limit=args.limit)
    elif args.source == "on-the-fly":
        if not args.preset:
            raise InputError(
                "--source on-the-fly needs an explicit --preset (tiny-imagenet: the 64 px Tiny-ImageNet-C values; "
                "imagenet: the 224 px values the reference's code applied to 64 px images)",
                field="preset",
            )
        source = cs.OnTheFlySource(
            data.test,
            _corruption_names(args.corruptions),
            severities,
            preset=args.preset,
            seed=args.seed,
            jpeg_roundtrip=args.jpeg_roundtrip,
            limit=args.limit,
        )
    else:
        source = _pre_rendered(args, data, severities)
    return source, details


def _pre_rendered(args: argparse.Namespace, data: Any, severities: list[int]) -> Any:
    from v1mtl.data.images import load_tinyimagenet_c
    from v1mtl.evaluate.corrupted_sources import PreRenderedSource

    if not args.tinyimagenet_c:
        raise InputError("--source pre-rendered needs --tinyimagenet-c FOLDER", field="tinyimagenet_c")
    if data.source != "tinyimagenet":
        raise InputError(
            f"pre-rendered Tiny-ImageNet-C needs a network trained on TinyImageNet classes; this one was trained "
            f"on a '{data.source}' data set",
            path=data.root,
            field="data",
        )
    sets = load_tinyimagenet_c(args.tinyimagenet_c, data.class_ids, size=data.image_size)
    # "all" means every corruption in the folder; "common" requires the 15 benchmark ones.
    corruptions = None if args.corruptions == "all" else _corruption_names(args.corruptions)
    return PreRenderedSource(
        sets,
        data.test,
        corruptions=corruptions,
        severities=severities,
        limit=args.limit,
        root=args.tinyimagenet_c,
    )


def _print_summary(result: dict[str, Any]) -> None:
    import math

    for s in result["summaries"]:
        parts = [
            f"{s.model} [{s.source}, {s.preset}, {s.space}{', jpeg85' if s.jpeg_roundtrip else ''}]:",
            f"clean {100 * s.clean_accuracy:.2f}%",
            f"mean corrupted {100 * s.mean_corruption_accuracy:.2f}% over {s.n_conditions}",
        ]
        if not math.isnan(s.mce) or not math.isnan(s.relative_mce):
            parts.append(
                f"mCE {s.mce:.3f}, relative mCE {s.relative_mce:.3f}, relative robustness score "
                f"{s.robustness_score:.1f} (vs {s.reference})"
            )
        print(" ".join(parts))
    for p in result["paths"]:
        print(f"wrote {p}")
