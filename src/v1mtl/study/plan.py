"""The study's units of work, in dependency order (see ``v1mtl.study.stages`` for skipping and resuming).

Folder layout under the study root (each unit owns one folder):
- ``v1/data``: the V1 dataset (simulated, or a user's file converted to the native format);
- ``fit/v1-model``: the single-task V1 model (``fit-neural``), with ``summary.json`` (FEVE, noise ceiling);
- ``targets/{real,shuffled,random}``: neural targets on the classification images (``predict-responses``);
- ``train/<condition>-s<seed>``: co-training runs (``train``);
- ``robustness/<condition>-s<seed>``, ``predictivity/<condition>-s<seed>``: per-network evaluations;
- ``adversarial/<condition>-s<seed>``: accuracy under PGD attacks, per network (``adversarial.enabled``);
- ``analysis/reconstruction``, ``analysis/saliency``: analyses comparing all networks on the same images;
- ``report``: ``report.md``, ``report.html`` and figures.

A study with steps (``StudyConfig.steps``) plans every step with its own settings; each unit of a step
lives in ``<stage>/<step>/<name>``, unless an earlier step already planned the same unit (same stage and
fingerprint), which is then shared. The analyses run on the first step's networks.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from v1mtl.common.config import config_to_dict
from v1mtl.common.errors import InputError
from v1mtl.data.neural.io import detect_v1_format
from v1mtl.neural_model import FitNeuralConfig
from v1mtl.study.config import StudyConfig
from v1mtl.study.stages import Unit
from v1mtl.training import SIMILARITY_NEURAL_KEYS, TrainConfig

TARGET_OF_CONDITION = {"mtl": "real", "mtl-shuffled": "shuffled", "mtl-random": "random"}
CONTROL_OF_TARGET = {"real": None, "shuffled": "shuffled", "random": "random"}
# Model settings that only the neural readouts use: a network without readouts does not depend on them.
READOUT_MODEL_KEYS = (
    "readout",
    "readout_output",
    "init_mu_range",
    "init_sigma_range",
    "gamma_readout",
    "elu_offset",
    "readout_bias",
)
# Model settings a network without a front end does not read (``model.front_end: none``).
FRONT_END_MODEL_KEYS = ("front_end", "vone")


def run_name(condition: str, seed: int) -> str:
    return f"{condition}-s{seed}"


@dataclass
class StepPlan:
    """The units of one step of a study (the whole study when it has no steps), keyed for the report.

    ``runs``, ``robustness``, ``adversarial`` (empty unless ``adversarial.enabled``) and ``predictivity`` are
    keyed ``(condition, seed)``; ``targets`` by target
    kind (``real``, ``shuffled``, ``random``); ``oracle_targets`` (the MTL-Oracle's) by seed. A unit another step already holds is the same object.
    """

    name: str
    cfg: StudyConfig
    v1: Unit
    fit: Unit | None = None
    targets: dict[str, Unit] = field(default_factory=dict)
    oracle_targets: dict[int, Unit] = field(default_factory=dict)
    runs: dict[tuple[str, int], Unit] = field(default_factory=dict)
    robustness: dict[tuple[str, int], Unit] = field(default_factory=dict)
    adversarial: dict[tuple[str, int], Unit] = field(default_factory=dict)
    predictivity: dict[tuple[str, int], Unit] = field(default_factory=dict)


@dataclass
class StudyPlan:
    """The units of a study plus the handles later stages and the report need."""

    root: Path
    units: list[Unit]
    steps: list[StepPlan]
    analyses: dict[str, Unit]
    report: Unit | None = None

    @property
    def first(self) -> StepPlan:
        """The first step: the study's own recipe, which the summary, claims and analyses describe."""
        return self.steps[0]

    def data_path(self, unit: Unit) -> Path:
        return unit.folder(self.root) / "data"


class _Registry:
    """Units by (stage, fingerprint): a unit that a later step builds again with the same settings and
    inputs is the one already planned, so its work is done once."""

    def __init__(self, units: list[Unit]):
        self.units = units
        self._by_key: dict[tuple[str, str], Unit] = {}

    def add(self, unit: Unit) -> Unit:
        key = (unit.stage, unit.fingerprint)
        if key not in self._by_key:
            self._by_key[key] = unit
            self.units.append(unit)
        return self._by_key[key]


def build_plan(
    cfg: StudyConfig,
    root: Path,
    *,
    report_hook: Callable[[StudyPlan], object] = lambda plan: None,
) -> StudyPlan:
    """All units of ``cfg`` under ``root``, in an order where every unit follows its inputs.

    With steps, every unit of a step is named ``<step>/<name>`` (folder ``<stage>/<step>/<name>``) unless
    an earlier step holds the same unit. ``report_hook(plan)`` is the last unit's work (the study passes
    the report writer).
    """
    cfg.validate()
    plan = StudyPlan(root, [], [], {})
    registry = _Registry(plan.units)
    for step_name, step_cfg in cfg.step_configs():
        plan.steps.append(_plan_step(step_cfg, step_name, plan, registry))
    runs = _ordered_runs(plan.first)
    if "reconstruction" in cfg.analyses:
        plan.analyses["reconstruction"] = registry.add(_reconstruction_unit(cfg, plan, runs))
    if "saliency" in cfg.analyses:
        plan.analyses["saliency"] = registry.add(_saliency_unit(cfg, plan, runs))
    plan.report = Unit(
        "report",
        "report",
        {},
        lambda folder: report_hook(plan),
        upstream=list(plan.units),
        cost=0.2,
        on_driver=True,
        derived=True,  # a summary of the other units, rewritten whenever any of them changes
    )
    plan.units.append(plan.report)
    return plan


def _plan_step(cfg: StudyConfig, step: str, plan: StudyPlan, registry: _Registry) -> StepPlan:
    def named(unit: Unit) -> Unit:
        if step:
            unit.name = f"{step}/{unit.name}"
        return registry.add(unit)

    sp = StepPlan(step, cfg, named(_v1_unit(cfg)))
    if cfg.needs_v1_model() and cfg.targets.source == "model":
        sp.fit = named(_fit_unit(cfg, plan, sp))
    needed = {TARGET_OF_CONDITION[c] for c in cfg.conditions if c in TARGET_OF_CONDITION}
    for target in ("real", "shuffled", "random"):
        if target in needed:
            sp.targets[target] = named(_targets_unit(cfg, plan, sp, target))
    order = sorted(cfg.conditions, key=lambda c: c == "mtl-oracle")  # an oracle run follows its oracle
    for seed in cfg.seeds:
        for condition in order:
            if condition == "mtl-oracle":
                fit = named(_oracle_fit_unit(cfg, plan, sp, seed))
                model = lambda fit=fit: fit.folder(plan.root) / "model.pt"  # noqa: E731
                targets = _predicted_targets_unit(cfg, plan, f"oracle-s{seed}", "oracle", None, fit, model)
                sp.oracle_targets[seed] = named(targets)
            sp.runs[(condition, seed)] = named(_train_unit(cfg, plan, sp, condition, seed))
    for (condition, seed), run in sp.runs.items():
        name = run_name(condition, seed)
        sp.robustness[(condition, seed)] = named(_robustness_unit(cfg, plan, run, name))
        if cfg.adversarial.enabled:
            sp.adversarial[(condition, seed)] = named(_adversarial_unit(cfg, plan, run, name))
        sp.predictivity[(condition, seed)] = named(_predictivity_unit(cfg, plan, sp.v1, run, name))
    return sp


def _v1_unit(cfg: StudyConfig) -> Unit:
    if cfg.v1.path is None:
        settings = {"simulate": config_to_dict(cfg.v1.simulate)}

        def run(folder: Path) -> None:
            from v1mtl.simulator import simulate_to_folder

            simulate_to_folder(cfg.v1.simulate, folder / "data", progress=cfg.progress)

    else:
        source = Path(cfg.v1.path)
        if not source.exists():
            raise InputError("no such V1 dataset", path=source, field="v1.path")
        settings = {"path": str(source.resolve()), "format": cfg.v1.format, "stamp": _stamp(source)}
        # only an NWB file reads these options: other datasets keep their fingerprints
        if (cfg.v1.format or detect_v1_format(source)) == "nwb":
            settings["nwb"] = config_to_dict(cfg.v1.nwb)

        def run(folder: Path) -> None:
            from v1mtl.data.neural import read_v1, write_native

            write_native(read_v1(source, cfg.v1.format, nwb=cfg.v1.nwb), folder / "data")

    return Unit("v1", "data", settings, run, cost=0.3)


def model_settings(model: dict) -> dict:
    """A model section of a fingerprint without the front-end keys when it has no front end, so networks
    of every other architecture keep the fingerprints they had before the keys existed."""
    if model.get("front_end") == "none":
        return {key: value for key, value in model.items() if key not in FRONT_END_MODEL_KEYS}
    return model


def _study_fit(cfg: StudyConfig) -> tuple[FitNeuralConfig, dict]:
    """The study's V1-model fit settings on its device, and the part of them a fit unit's fingerprint holds
    (not progress, not the dataset path: the upstream V1 unit covers it)."""
    fit_cfg = copy.deepcopy(cfg.fit)
    fit_cfg.device = cfg.device
    fit_cfg.progress = cfg.progress
    settings = config_to_dict(fit_cfg) | {
        "progress": None,
        "data": config_to_dict(fit_cfg.data) | {"path": None},
    }
    settings["model"] = model_settings(settings["model"])
    return fit_cfg, settings


def _fit_unit(cfg: StudyConfig, plan: StudyPlan, sp: StepPlan) -> Unit:
    fit_cfg, settings = _study_fit(cfg)
    v1 = sp.v1

    def run(folder: Path) -> None:
        from v1mtl.neural_model import fit_v1_model

        summary = fit_v1_model(fit_cfg, plan.data_path(v1), folder)
        print("V1 model: " + json.dumps(summary, default=str))  # into the unit's log on a worker

    return Unit("fit", "v1-model", settings, run, upstream=[v1], cost=3.0, uses_device=True)


def _targets_unit(cfg: StudyConfig, plan: StudyPlan, sp: StepPlan, target: str) -> Unit:
    control = CONTROL_OF_TARGET[target]
    if cfg.targets.source == "model":
        fit = sp.fit
        return _predicted_targets_unit(
            cfg, plan, target, "model", control, fit, lambda: fit.folder(plan.root) / "model.pt"
        )
    v1 = sp.v1
    return _predicted_targets_unit(cfg, plan, target, "simulator", control, v1, lambda: plan.data_path(v1))


def _predicted_targets_unit(
    cfg: StudyConfig,
    plan: StudyPlan,
    name: str,
    source: str,
    control: str | None,
    upstream: Unit,
    model_path: Callable[[], Path],
) -> Unit:
    """``targets/<name>``: the responses the V1 model (or simulation) at ``model_path()`` predicts for the
    classification images, as ``predict-responses`` makes them."""
    data_cfg = cfg.train.data
    settings = {
        "source": source,
        "control": control,
        "seed": cfg.targets.seed,
        "images": data_cfg.source,
        "image_size": data_cfg.image_size,
        "split_seed": data_cfg.split_seed,
        "builtin_counts": list(data_cfg.builtin_counts),
    }

    def run(folder: Path) -> None:
        from v1mtl.neural_model import predict_targets

        predict_targets(
            model_path(),
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

    return Unit("targets", name, settings, run, upstream=[upstream], cost=0.3, uses_device=True)


def train_settings(train_cfg: TrainConfig) -> dict:
    """The settings that determine a training run's results: its config without logging, and without the
    sections its condition does not read (neural task and readouts for classification-only conditions;
    for ``pixel-similarity``, which has no readouts, the readouts and every neural key but its auxiliary
    task's cadence and weighting, ``SIMILARITY_NEURAL_KEYS``; the noise mixture except for
    ``noise-augmented``, the oracle except for ``mtl-oracle``; the front-end keys of a network without a
    front end, ``model_settings``), so a step that changes, say, the neural weighting leaves the Baseline's
    fingerprint alone."""
    settings = config_to_dict(train_cfg)
    settings["logging"] = None
    settings["model"] = model_settings(settings["model"])
    if not train_cfg.uses_neural:
        if train_cfg.auxiliary_task == "similarity":
            settings["neural"] = {
                key: value if key in SIMILARITY_NEURAL_KEYS else None
                for key, value in settings["neural"].items()
            }
        else:
            settings["neural"] = None
        for key in READOUT_MODEL_KEYS:
            settings["model"][key] = None
    if train_cfg.condition != "noise-augmented":
        settings["noise"] = None
    if train_cfg.condition != "mtl-oracle":
        settings["oracle"] = None
    return settings


def _oracle_fit_unit(cfg: StudyConfig, plan: StudyPlan, sp: StepPlan, seed: int) -> Unit:
    """Fresh readouts on the frozen shared block of the seed's noise-augmented run: the MTL-Oracle's V1 model
    (the steps of ``v1mtl.training.conditions.make_oracle_targets``, as a unit of the study)."""
    fit_cfg, settings = _study_fit(cfg)
    fit_cfg.seed = settings["seed"] = seed
    oracle, v1 = sp.runs[("noise-augmented", seed)], sp.v1

    def run(folder: Path) -> None:
        from v1mtl.neural_model import fit_v1_model
        from v1mtl.training import check_oracle_checkpoint

        core = check_oracle_checkpoint(oracle.folder(plan.root))
        fit_v1_model(fit_cfg, plan.data_path(v1), folder, core_from=str(core), freeze_core=True)

    return Unit("fit", f"oracle-s{seed}", settings, run, upstream=[oracle, v1], cost=2.0, uses_device=True)


def _train_unit(cfg: StudyConfig, plan: StudyPlan, sp: StepPlan, condition: str, seed: int) -> Unit:
    train_cfg = copy.deepcopy(cfg.train)
    train_cfg.condition = condition
    train_cfg.apply_condition()
    train_cfg.seed = seed
    train_cfg.device = cfg.device
    train_cfg.logging.progress = cfg.progress
    upstream: list[Unit] = []
    target_unit = sp.oracle_targets.get(seed) if condition == "mtl-oracle" else None
    if condition in TARGET_OF_CONDITION:
        target_unit = sp.targets[TARGET_OF_CONDITION[condition]]
    if target_unit is not None:
        train_cfg.neural.targets = str(plan.data_path(target_unit))
        upstream.append(target_unit)
    settings = train_settings(train_cfg)
    # The targets' path lies inside the study folder and is covered by the upstream fingerprint; leaving it
    # out keeps a study folder valid when it is moved or merged with a copy made elsewhere.
    if settings["neural"] is not None:
        settings["neural"]["targets"] = None

    def run(folder: Path) -> None:
        from v1mtl.training import train

        train(train_cfg, folder)

    return Unit(
        "train", run_name(condition, seed), settings, run, upstream=upstream, cost=5.0, uses_device=True
    )


def _robustness_unit(cfg: StudyConfig, plan: StudyPlan, run: Unit, name: str) -> Unit:
    r = cfg.robustness

    def execute(folder: Path) -> None:
        from v1mtl.evaluate import run_robustness_stage

        ckpt = run.folder(plan.root)
        options = {"name": run.name, "device": cfg.device}
        run_robustness_stage(r.corruption_config(), ckpt, folder / "corruptions", **options)
        if r.gaussian_sweep:
            run_robustness_stage(r.sweep_config(), ckpt, folder / "gaussian-sweep", **options)

    settings = config_to_dict(r) | {"device": None}
    return Unit("robustness", name, settings, execute, upstream=[run], cost=2.0, uses_device=True)


def _adversarial_unit(cfg: StudyConfig, plan: StudyPlan, run: Unit, name: str) -> Unit:
    a = cfg.adversarial

    def execute(folder: Path) -> None:
        from v1mtl.evaluate import run_adversarial_stage
        from v1mtl.training import load_network

        ckpt = run.folder(plan.root)
        # A network that draws noise in its forward pass says so with a ``stochastic`` attribute; one
        # without it is deterministic. The stage itself takes eot_samples as given.
        stochastic = bool(getattr(load_network(ckpt, device=cfg.device).net, "stochastic", False))
        attack = a.attack_config(stochastic)
        print(
            f"adversarial: {'stochastic' if stochastic else 'deterministic'} network, eot_samples {attack.eot_samples}"
        )
        run_adversarial_stage(attack, ckpt, folder, name=run.name, device=cfg.device)

    # the stochastic network's EOT is chosen from these settings and the upstream run, both fingerprinted
    return Unit("adversarial", name, config_to_dict(a), execute, upstream=[run], cost=2.0, uses_device=True)


def _predictivity_unit(cfg: StudyConfig, plan: StudyPlan, v1: Unit, run: Unit, name: str) -> Unit:
    def execute(folder: Path) -> None:
        from v1mtl.evaluate import run_predictivity_stage

        # Fresh readouts are fitted with the V1 model's settings (its stimulus preprocessing and optimizer);
        # the trunk comes from the trained network.
        run_predictivity_stage(
            cfg.predictivity,
            run.folder(plan.root),
            plan.data_path(v1),
            folder,
            fit=cfg.fit,
            name=run.name,
            device=cfg.device,
            progress=cfg.progress,
        )

    fit = config_to_dict(cfg.fit) | {"progress": None, "device": None}
    settings = config_to_dict(cfg.predictivity) | {"fit": fit | {"model": model_settings(fit["model"])}}
    return Unit("predictivity", name, settings, execute, upstream=[run, v1], cost=2.0, uses_device=True)


def _ordered_runs(step: StepPlan) -> list[Unit]:
    """A step's runs with the baselines first: the analyses compare every network with the first one."""
    ordered = sorted(step.runs.items(), key=lambda item: (item[0][0] != "baseline", item[1].name))
    return [unit for _, unit in ordered]


def _reconstruction_unit(cfg: StudyConfig, plan: StudyPlan, runs: list[Unit]) -> Unit:
    def execute(folder: Path) -> None:
        from v1mtl.analysis import run_reconstruction_stage

        checkpoints = [u.folder(plan.root) for u in runs]
        names = [u.name for u in runs]
        run_reconstruction_stage(cfg.reconstruction, checkpoints, folder, names=names, device=cfg.device)

    return Unit(
        "analysis",
        "reconstruction",
        config_to_dict(cfg.reconstruction),
        execute,
        upstream=runs,
        cost=4.0,
        uses_device=True,
    )


def _saliency_unit(cfg: StudyConfig, plan: StudyPlan, runs: list[Unit]) -> Unit:
    def execute(folder: Path) -> None:
        from v1mtl.analysis import run_saliency_stage

        checkpoints = [u.folder(plan.root) for u in runs]
        names = [u.name for u in runs]
        run_saliency_stage(cfg.saliency, checkpoints, folder, names=names, device=cfg.device)

    return Unit(
        "analysis",
        "saliency",
        config_to_dict(cfg.saliency),
        execute,
        upstream=runs,
        cost=3.0,
        uses_device=True,
    )


def _stamp(path: Path) -> list:
    """Sizes and modification times of a user's input, so an edited file reruns what depends on it."""
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    return [
        [str(p.relative_to(path) if path.is_dir() else p.name), p.stat().st_size, p.stat().st_mtime_ns]
        for p in files
    ]
