"""The robustness stage: a trained network's top-1 accuracy under image corruptions, summarized and plotted.

``run_robustness_stage`` is what ``v1mtl evaluate robustness CKPT`` runs: it loads the network (and a
reference network for mCE), builds the corrupted test set its config asks for
(``v1mtl.evaluate.corrupted_sources``), evaluates into an output folder and summarizes
(``v1mtl.evaluate.robustness``, which holds the protocol; docs/robustness.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

from v1mtl.common.config import config_from_dict, config_to_dict
from v1mtl.common.errors import InputError
from v1mtl.common.ranges import BatchSize, NonNegativeFloat, PositiveInt, Range, Seed
from v1mtl.corruptions import names
from v1mtl.data.images import TinyImageNetC, load_classification
from v1mtl.evaluate import corrupted_sources as cs
from v1mtl.evaluate.robustness import UnitRangeClassifier, run_robustness, summarize
from v1mtl.training import load_network

CORRUPTION_SETS = ("common", "extra", "all")


@dataclass
class RobustnessConfig:
    """Settings of a robustness evaluation (stage 5 of a study).

    Attributes:
        source: where corrupted images come from: ``on-the-fly`` (the clean test split corrupted with
            ``v1mtl.corruptions``), ``pre-rendered`` (a Tiny-ImageNet-C folder) or ``gaussian-sweep`` (the
            reference's additive Gaussian-noise sweep); None = ``pre-rendered`` when ``prerendered`` names a
            folder, else ``on-the-fly``.
        table: the corruption parameter table of ``on-the-fly`` (required there): ``tiny-imagenet`` (64 px
            Tiny-ImageNet-C values), ``imagenet`` (224 px, what the reference's code applied), ``cifar`` (32 px).
        corruptions: ``["common"]`` (the 15 benchmark corruptions), ``["extra"]`` (the 4 held-out),
            ``["all"]``, or corruption names. For ``pre-rendered``, ``["all"]`` is every corruption in the folder.
        severities: severities, each in 1..5 (``on-the-fly``, ``pre-rendered``).
        stds: noise standard deviations of ``gaussian-sweep``; None = ``GAUSSIAN_SWEEP_STDS``.
        prerendered: the Tiny-ImageNet-C folder of ``pre-rendered`` (required there).
        data: the clean test images; None = the data set the network was trained on (from its config).
        space: ``rgb`` corrupts colour images then converts to gray, as the reference; ``gray`` corrupts gray
            images. Data that exists only in gray (the built-in set) and ``pre-rendered`` files are gray anyway.
        jpeg_roundtrip: ``on-the-fly`` only: a JPEG quality-85 round trip after corrupting, as the
            Tiny-ImageNet-C files.
        limit: evaluate at most this many test images per condition (spread evenly), or None for all.
        seed: seed of the per-image corruption draws (the same corrupted set for every model).
        batch_size: images per batch.
    """

    source: Literal["on-the-fly", "pre-rendered", "gaussian-sweep"] | None = None
    table: Literal["tiny-imagenet", "imagenet", "cifar"] | None = None
    corruptions: list[str] = field(default_factory=lambda: ["common"])
    severities: list[Annotated[int, Range(1, 5)]] = field(default_factory=lambda: [1, 2, 3, 4, 5])
    stds: list[NonNegativeFloat] | None = None
    prerendered: str | None = None
    data: str | None = None
    space: Literal["rgb", "gray"] = "rgb"
    jpeg_roundtrip: bool = False
    limit: PositiveInt | None = None
    seed: Seed = 0
    batch_size: BatchSize = 256


def run_robustness_stage(
    cfg: RobustnessConfig,
    checkpoint: str | Path,
    out_dir: str | Path,
    *,
    name: str | None = None,
    device: str = "cpu",
    reference: str | None = None,
    reference_model: str | None = None,
) -> dict[str, Any]:
    """Evaluate the network at ``checkpoint`` on the corrupted test set of ``cfg`` into ``out_dir``; resumable.

    Args:
        cfg: the stage's settings (checked again here, so a hand-built config fails as a YAML one would).
        checkpoint: a training run folder or its ``best.pt``; the network needs a classification branch.
        out_dir: the output folder; rerunning into it skips the conditions already measured.
        name: the model's name in the tables (default: the run folder's name).
        device: ``cpu`` or ``cuda``.
        reference: the reference of mCE: a robustness CSV of an earlier run, or a run folder / ``best.pt``
            evaluated here in the same pass (same classes and image size); None = no mCE.
        reference_model: the reference's model name (needed when its CSV holds several models; the name of a
            reference checkpoint otherwise).

    Writes ``robustness.csv`` (one row per model x condition), ``protocol.json`` (the source's protocol plus
    checkpoints, normalization, data and the resolved settings), ``summary.csv``, ``corruption_scores.csv``
    and ``accuracy_vs_severity_<protocol>.png``.

    Returns:
        ``{"summaries": [ModelSummary...], "paths": [written files...]}`` (``robustness.summarize``).

    Raises:
        InputError: a one-line message naming the config key (``field``) of a bad or missing setting.
    """
    # a hand-built config is not checked against its types; this also makes stds floats, as YAML would
    cfg = config_from_dict(RobustnessConfig, config_to_dict(cfg), source="RobustnessConfig")
    if cfg.source is None:
        cfg.source = "pre-rendered" if cfg.prerendered else "on-the-fly"
    _check(cfg)
    loaded = [_load_model(checkpoint, name, device)]
    ref_csv, ref_model = reference, reference_model
    if reference and not reference.endswith(".csv"):
        loaded.append(_load_reference(reference, reference_model, device, loaded[0][1], checkpoint))
        # a reference checkpoint is evaluated into this folder's CSV, under its own model name
        ref_csv, ref_model = None, loaded[1][1]["name"]
    source, data_details = _make_source(cfg, loaded[0][1])
    details = {
        "checkpoints": {info["name"]: info["path"] for _, info in loaded},
        "normalization": {info["name"]: info["normalization"] for _, info in loaded},
        **data_details,
        "arguments": {
            "checkpoint": str(checkpoint),
            "out": str(out_dir),
            **config_to_dict(cfg),
            "device": device,
            "name": name,
            "reference": reference,
            "reference_model": reference_model,
        },
    }
    csv_path = run_robustness(
        {info["name"]: model for model, info in loaded},
        source,
        out_dir,
        batch_size=cfg.batch_size,
        device=device,
        details=details,
    )
    return summarize([csv_path], out_dir, reference=ref_csv, reference_model=ref_model)


def _check(cfg: RobustnessConfig) -> None:
    """Settings that the types alone cannot refuse. The messages name the command's flags too."""
    if cfg.jpeg_roundtrip and cfg.source != "on-the-fly":
        raise InputError(
            "jpeg_roundtrip (--jpeg-roundtrip) applies to source on-the-fly only (pre-rendered files are JPEG "
            "already)",
            field="jpeg_roundtrip",
        )
    if cfg.source == "on-the-fly" and cfg.table is None:
        raise InputError(
            "source on-the-fly needs an explicit corruption table (--table; tiny-imagenet: the 64 px "
            "Tiny-ImageNet-C values; imagenet: the 224 px values the reference's code applied to 64 px images)",
            field="table",
        )
    if cfg.source == "pre-rendered" and not cfg.prerendered:
        raise InputError(
            "source pre-rendered needs the Tiny-ImageNet-C folder (--tinyimagenet-c FOLDER)",
            field="prerendered",
        )


def _load_model(
    ckpt: str | Path, name: str | None, device: str
) -> tuple[UnitRangeClassifier, dict[str, Any]]:
    """The network as a classifier of ``(batch, 1, H, W)`` images in [0, 1], and what the stage needs of it."""
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


def _load_reference(
    reference: str, reference_model: str | None, device: str, info: dict[str, Any], checkpoint: str | Path
) -> tuple[UnitRangeClassifier, dict[str, Any]]:
    """The reference network, evaluated in the same pass; it must classify the same images as the network."""
    ref_model, ref_info = _load_model(reference, reference_model, device)
    if ref_info["name"] == info["name"]:
        raise InputError(
            f"the reference has the same name {info['name']!r} as the network; give reference_model (--reference-model)",
            path=reference,
            field="name",
        )
    for key in ("class_names", "image_size"):
        if ref_info[key] != info[key]:
            raise InputError(
                f"the reference network differs in {key} from {checkpoint}", path=reference, field=key
            )
    return ref_model, ref_info


def _corruption_names(corruptions: list[str]) -> list[str]:
    """``["common"]`` -> the 15 names (likewise ``extra``, ``all``); names stay as given."""
    if len(corruptions) == 1 and corruptions[0] in CORRUPTION_SETS:
        return list(names(corruptions[0]))
    return list(corruptions)


def _make_source(cfg: RobustnessConfig, info: dict[str, Any]) -> tuple[cs.CorruptedSource, dict[str, Any]]:
    """The corrupted test set of ``cfg`` for the network described by ``info``, and facts for protocol.json."""
    data_cfg = info["data"]
    data_source = cfg.data or data_cfg.source
    color = cfg.space == "rgb" and data_source != "builtin" and cfg.source != "pre-rendered"
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
    if cfg.source == "gaussian-sweep":
        stds = cs.GAUSSIAN_SWEEP_STDS if cfg.stds is None else cfg.stds
        source = cs.GaussianSweepSource(data.test, stds, seed=cfg.seed, limit=cfg.limit)
    elif cfg.source == "on-the-fly":
        source = cs.OnTheFlySource(
            data.test,
            _corruption_names(cfg.corruptions),
            cfg.severities,
            preset=cfg.table,
            seed=cfg.seed,
            jpeg_roundtrip=cfg.jpeg_roundtrip,
            limit=cfg.limit,
        )
    else:
        source = _pre_rendered(cfg, data)
    return source, details


def _pre_rendered(cfg: RobustnessConfig, data: Any) -> cs.PreRenderedSource:
    if data.source != "tinyimagenet":
        raise InputError(
            f"pre-rendered Tiny-ImageNet-C needs a network trained on TinyImageNet classes; this one was trained "
            f"on a '{data.source}' data set",
            path=data.root,
            field="data",
        )
    sets = TinyImageNetC(cfg.prerendered, data.class_ids, size=data.image_size)
    # "all" means every corruption in the folder; "common" requires the 15 benchmark ones.
    corruptions = None if cfg.corruptions == ["all"] else _corruption_names(cfg.corruptions)
    return cs.PreRenderedSource(
        sets,
        data.test,
        corruptions=corruptions,
        severities=cfg.severities,
        limit=cfg.limit,
        root=cfg.prerendered,
    )
