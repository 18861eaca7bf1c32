"""The study's units of work, in dependency order (see ``v1mtl.study.stages`` for skipping and resuming).

Folder layout under the study root (each unit owns one folder):
- ``v1/data``: the V1 dataset (simulated, or a user's file converted to the native format);
- ``fit/v1-model``: the single-task V1 model (``fit-neural``), with ``summary.json`` (FEVE, noise ceiling);
- ``targets/{real,shuffled,random}``: neural targets on the classification images (``predict-responses``);
- ``train/<condition>-s<seed>``: co-training runs (``train``);
- ``robustness/<condition>-s<seed>``, ``predictivity/<condition>-s<seed>``: per-network evaluations;
- ``analysis/reconstruction``, ``analysis/saliency``: analyses comparing all networks on the same images;
- ``report``: ``report.md``, ``report.html`` and figures.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from v1mtl.config import config_to_dict, save_config
from v1mtl.errors import InputError
from v1mtl.study.config import StudyConfig
from v1mtl.study.stages import Unit

TARGET_OF_CONDITION = {"mtl": "real", "mtl-shuffled": "shuffled", "mtl-random": "random"}
CONTROL_OF_TARGET = {"real": None, "shuffled": "shuffled", "random": "random"}


def run_name(condition: str, seed: int) -> str:
    return f"{condition}-s{seed}"


@dataclass
class StudyPlan:
    """The units of a study plus the handles later stages and the report need."""

    root: Path
    units: list[Unit]
    v1: Unit
    fit: Unit | None
    targets: dict[str, Unit]
    runs: dict[tuple[str, int], Unit]
    robustness: dict[tuple[str, int], Unit]
    predictivity: dict[tuple[str, int], Unit]
    analyses: dict[str, Unit]
    report: Unit | None = None

    def data_path(self, unit: Unit) -> Path:
        return unit.folder(self.root) / "data"


def build_plan(
    cfg: StudyConfig,
    root: Path,
    *,
    log: Callable[[str], None] = print,
    report_hook: Callable[[StudyPlan], object] = lambda plan: None,
) -> StudyPlan:
    """All units of ``cfg`` under ``root``, in an order where every unit follows its inputs.

    ``report_hook(plan)`` is the last unit's work (the study passes the report writer).
    """
    cfg.validate()
    plan = StudyPlan(root, [], None, None, {}, {}, {}, {}, {})  # type: ignore[arg-type]
    plan.v1 = _v1_unit(cfg)
    plan.units.append(plan.v1)
    if cfg.needs_v1_model() and cfg.targets.source == "model":
        plan.fit = _fit_unit(cfg, plan, log)
        plan.units.append(plan.fit)
    needed = {TARGET_OF_CONDITION[c] for c in cfg.conditions if c in TARGET_OF_CONDITION}
    for target in ("real", "shuffled", "random"):
        if target in needed:
            plan.targets[target] = _targets_unit(cfg, plan, target)
            plan.units.append(plan.targets[target])
    order = sorted(cfg.conditions, key=lambda c: c == "mtl-oracle")  # an oracle run follows its oracle
    for seed in cfg.seeds:
        for condition in order:
            unit = _train_unit(cfg, plan, condition, seed)
            plan.runs[(condition, seed)] = unit
            plan.units.append(unit)
    for key, run in plan.runs.items():
        plan.robustness[key] = _robustness_unit(cfg, plan, run)
        plan.predictivity[key] = _predictivity_unit(cfg, plan, run)
        plan.units += [plan.robustness[key], plan.predictivity[key]]
    plan.analyses["reconstruction"] = _reconstruction_unit(cfg, plan)
    plan.analyses["saliency"] = _saliency_unit(cfg, plan)
    plan.units += list(plan.analyses.values())
    plan.report = Unit(
        "report", "report", {}, lambda folder: report_hook(plan), upstream=list(plan.units), cost=0.2
    )
    plan.units.append(plan.report)
    return plan


def _v1_unit(cfg: StudyConfig) -> Unit:
    if cfg.v1.path is None:
        settings = {"simulate": config_to_dict(cfg.v1.simulate)}

        def run(folder: Path) -> None:
            from v1mtl.data.simulate import simulate_to_folder

            simulate_to_folder(cfg.v1.simulate, folder / "data", progress=cfg.progress)

    else:
        source = Path(cfg.v1.path)
        if not source.exists():
            raise InputError("no such V1 dataset", path=source, field="v1.path")
        settings = {"path": str(source.resolve()), "format": cfg.v1.format, "stamp": _stamp(source)}

        def run(folder: Path) -> None:
            from v1mtl.data.native import write_native
            from v1mtl.data.neural_io import read_v1

            write_native(read_v1(source, cfg.v1.format), folder / "data")

    return Unit("v1", "data", settings, run, cost=0.3)


def _fit_unit(cfg: StudyConfig, plan: StudyPlan, log: Callable[[str], None]) -> Unit:
    fit_cfg = copy.deepcopy(cfg.fit)
    fit_cfg.device = cfg.device
    fit_cfg.progress = cfg.progress
    data = plan.data_path(plan.v1)

    def run(folder: Path) -> None:
        from v1mtl.neural_model.fit import fit_v1_model

        summary = fit_v1_model(fit_cfg, data, folder)
        log("V1 model: " + json.dumps(summary, default=str))

    settings = config_to_dict(fit_cfg) | {
        "progress": None,
        "data": config_to_dict(fit_cfg.data) | {"path": None},
    }
    return Unit("fit", "v1-model", settings, run, upstream=[plan.v1], cost=3.0)


def _targets_unit(cfg: StudyConfig, plan: StudyPlan, target: str) -> Unit:
    data_cfg = cfg.train.data
    control = CONTROL_OF_TARGET[target]
    if cfg.targets.source == "model":
        upstream = [plan.fit]
        source = lambda: plan.fit.folder(plan.root) / "model.pt"  # noqa: E731
    else:
        upstream = [plan.v1]
        source = lambda: plan.data_path(plan.v1)  # noqa: E731
    settings = {
        "source": cfg.targets.source,
        "control": control,
        "seed": cfg.targets.seed,
        "images": data_cfg.source,
        "image_size": data_cfg.image_size,
        "split_seed": data_cfg.split_seed,
        "builtin_counts": list(data_cfg.builtin_counts),
    }

    def run(folder: Path) -> None:
        from v1mtl.neural_model.targets import predict_targets

        predict_targets(
            source(),
            data_cfg.source,
            folder / "data",
            control=control,
            seed=cfg.targets.seed,
            image_size=data_cfg.image_size,
            split_seed=data_cfg.split_seed,
            builtin_counts=tuple(data_cfg.builtin_counts),
            device=cfg.device,
            batch_size=cfg.targets.batch_size,
            progress=cfg.progress,
        )

    return Unit("targets", target, settings, run, upstream=upstream, cost=0.3)


def _train_unit(cfg: StudyConfig, plan: StudyPlan, condition: str, seed: int) -> Unit:
    train_cfg = copy.deepcopy(cfg.train)
    train_cfg.condition = condition
    train_cfg.seed = seed
    train_cfg.device = cfg.device
    train_cfg.logging.progress = cfg.progress
    upstream: list[Unit] = []
    if condition in TARGET_OF_CONDITION:
        target_unit = plan.targets[TARGET_OF_CONDITION[condition]]
        train_cfg.neural.targets = str(plan.data_path(target_unit))
        upstream.append(target_unit)
    if condition == "mtl-oracle":
        oracle = plan.runs[("noise-augmented", seed)]
        train_cfg.oracle.checkpoint = str(oracle.folder(plan.root))
        train_cfg.oracle.v1_dataset = str(plan.data_path(plan.v1))
        upstream += [oracle, plan.v1]
    settings = config_to_dict(train_cfg)
    settings["logging"] = None  # logging does not change results
    settings["study_fit"] = config_to_dict(cfg.fit) if condition == "mtl-oracle" else None

    def run(folder: Path) -> None:
        from v1mtl.training.trainer import train

        if condition == "mtl-oracle":
            fit_file = folder / "oracle-fit.yaml"
            save_config(cfg.fit, fit_file)
            train_cfg.oracle.fit_config = str(fit_file)
        train(train_cfg, folder)

    return Unit("train", run_name(condition, seed), settings, run, upstream=upstream, cost=5.0)


def run_command(argv: list[str]) -> None:
    """Run a ``v1mtl`` command in this process; a failure stops the study with the command's message."""
    from v1mtl.cli import main

    if main(argv) != 0:
        raise RuntimeError(f"v1mtl {' '.join(argv)} failed (see the error above)")


def _robustness_unit(cfg: StudyConfig, plan: StudyPlan, run: Unit) -> Unit:
    r = cfg.robustness
    common = [
        "--seed",
        str(r.seed),
        "--batch-size",
        str(r.batch_size),
        "--device",
        cfg.device,
        "--name",
        run.name,
    ]
    if r.limit is not None:
        common += ["--limit", str(r.limit)]
    if r.prerendered is None:
        source = ["--source", "on-the-fly", "--preset", r.preset] + (
            ["--jpeg-roundtrip"] if r.jpeg_roundtrip else []
        )
    else:
        source = ["--source", "pre-rendered", "--tinyimagenet-c", r.prerendered]
    corruptions = ["--corruptions", ",".join(r.corruptions), "--severities", ",".join(map(str, r.severities))]

    def execute(folder: Path) -> None:
        ckpt = str(run.folder(plan.root))
        run_command(
            [
                "evaluate",
                "robustness",
                ckpt,
                "--out",
                str(folder / "corruptions"),
                *source,
                *corruptions,
                *common,
            ]
        )
        if r.gaussian_sweep:
            sweep = str(folder / "gaussian-sweep")
            run_command(
                ["evaluate", "robustness", ckpt, "--out", sweep, "--source", "gaussian-sweep", *common]
            )

    settings = config_to_dict(r) | {"device": None}
    return Unit("robustness", run.name, settings, execute, upstream=[run], cost=2.0)


def _predictivity_unit(cfg: StudyConfig, plan: StudyPlan, run: Unit) -> Unit:
    p = cfg.predictivity
    argv = [
        "--readout",
        p.readout,
        "--max-epochs",
        str(p.max_epochs),
        "--device",
        cfg.device,
        "--name",
        run.name,
    ]
    if p.layers:
        argv += ["--layers", *p.layers]

    def execute(folder: Path) -> None:
        # Fresh readouts are fitted with the V1 model's settings (its stimulus preprocessing and optimizer);
        # the trunk comes from the trained network.
        fit_file = folder / "fit-config.yaml"
        save_config(cfg.fit, fit_file)
        ckpt = str(run.folder(plan.root))
        neural = str(plan.data_path(plan.v1))
        run_command(
            [
                "evaluate",
                "predictivity",
                ckpt,
                "--neural",
                neural,
                "--out",
                str(folder),
                "--fit-config",
                str(fit_file),
                *argv,
            ]
        )

    settings = config_to_dict(p) | {"fit": config_to_dict(cfg.fit) | {"progress": None, "device": None}}
    return Unit("predictivity", run.name, settings, execute, upstream=[run, plan.v1], cost=2.0)


def _ordered_runs(plan: StudyPlan) -> list[Unit]:
    """Runs with the baseline first: the analyses compare every network with the first one."""
    return sorted(plan.runs.values(), key=lambda u: (not u.name.startswith("baseline-"), u.name))


def _analysis_argv(plan: StudyPlan, runs: list[Unit], folder: Path, n_images: int, seed: int) -> list[str]:
    return [
        *[str(u.folder(plan.root)) for u in runs],
        "--names",
        *[u.name for u in runs],
        "--out",
        str(folder),
        "--n-images",
        str(n_images),
        "--seed",
        str(seed),
    ]


def _reconstruction_unit(cfg: StudyConfig, plan: StudyPlan) -> Unit:
    r = cfg.reconstruction
    runs = _ordered_runs(plan)
    extra = [
        "--budgets",
        *map(str, r.budgets),
        "--noise-stds",
        *map(str, r.noise_stds),
        "--steps",
        str(r.steps),
    ]
    if r.layer:
        extra += ["--layer", r.layer]

    def execute(folder: Path) -> None:
        run_command(
            ["analyze", "reconstruction", *_analysis_argv(plan, runs, folder, r.n_images, r.seed), *extra]
        )

    return Unit("analysis", "reconstruction", config_to_dict(r), execute, upstream=runs, cost=4.0)


def _saliency_unit(cfg: StudyConfig, plan: StudyPlan) -> Unit:
    s = cfg.saliency
    runs = _ordered_runs(plan)
    extra = ["--steps", str(s.steps)]
    if s.saliency_maps is not None:
        extra += ["--saliency-maps", s.saliency_maps]
    else:
        extra += ["--saliency-model", s.model]

    def execute(folder: Path) -> None:
        run_command(["analyze", "saliency", *_analysis_argv(plan, runs, folder, s.n_images, s.seed), *extra])

    return Unit("analysis", "saliency", config_to_dict(s), execute, upstream=runs, cost=3.0)


def _stamp(path: Path) -> list:
    """Sizes and modification times of a user's input, so an edited file reruns what depends on it."""
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    return [
        [str(p.relative_to(path) if path.is_dir() else p.name), p.stat().st_size, p.stat().st_mtime_ns]
        for p in files
    ]
