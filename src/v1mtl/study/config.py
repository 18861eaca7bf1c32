"""The schema of a study (``v1mtl run``): every stage's settings, built from the stages' own schemas.

A study nests the configs of the commands it chains (``SimulationConfig`` of ``simulate-v1``,
``FitNeuralConfig`` of ``fit-neural``, ``TrainConfig`` of ``train``), so a key means the same thing in a study
as in the command, and ``--set train.schedule.max_epochs=3`` works like ``--set schedule.max_epochs=3`` does
for ``v1mtl train``. Presets: ``presets/study-<name>.yaml``.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any, Literal

from v1mtl.analysis import ReconstructionConfig, SaliencyConfig
from v1mtl.common.config import apply_dotted, config_from_dict, config_to_dict
from v1mtl.common.errors import InputError
from v1mtl.common.ranges import BatchSize, PositiveInt, Seed
from v1mtl.data.neural.nwb import NwbOptions
from v1mtl.evaluate import AdversarialConfig, PredictivityConfig, RobustnessConfig
from v1mtl.neural_model import FitNeuralConfig
from v1mtl.simulator import SimulationConfig
from v1mtl.simulator.config import Ablation
from v1mtl.study.executor_config import ExecutorConfig
from v1mtl.training import CONDITIONS, Condition, TrainConfig

# the resolved config of a study, saved in its folder
STUDY_CONFIG = "study.yaml"


@dataclass
class V1Source:
    """Stage 1, the V1 recordings.

    Attributes:
        path: a user's V1 dataset (native, cadena2019 or nnvision); None simulates one.
        format: its format, or None to detect it.
        simulate: the simulator's settings when ``path`` is None.
        nwb: where an NWB file keeps its presentations, image column and images, and the counting window
            (``v1mtl.data.neural.nwb.NwbOptions``; docs/neural-data.md, "NWB"); other formats ignore it.
    """

    path: str | None = None
    format: str | None = None
    simulate: SimulationConfig = field(default_factory=SimulationConfig)
    nwb: NwbOptions = field(default_factory=NwbOptions)


@dataclass
class TargetsConfig:
    """Stage 3, the neural targets on the classification images.

    Attributes:
        source: ``model``, the fitted V1 model (the paper's ``mtl_monkey_dataset``), or ``simulator``, the
            simulator's noise-free ground truth (only with a simulated V1 dataset).
        seed: seed of the shuffled and random controls.
        batch_size: images per forward pass.
    """

    source: Literal["model", "simulator"] = "model"
    seed: Seed = 0
    batch_size: BatchSize = 256


@dataclass
class StudyRobustnessConfig(RobustnessConfig):
    """Stage 5, accuracy under corruptions: the settings of ``v1mtl evaluate robustness``
    (``v1mtl.evaluate.robustness_stage.RobustnessConfig``), plus the study's own.

    Attributes:
        table: as the stage's, but a study defaults to ``tiny-imagenet`` (the 64 px Tiny-ImageNet-C values).
        gaussian_sweep: also run the reference's Gaussian-noise sweep for every network (``source:
            gaussian-sweep`` with this section's ``stds``, ``limit``, ``seed``, ``data``, ``space`` and
            ``batch_size``), into the unit's ``gaussian-sweep`` folder beside ``corruptions``.
    """

    table: Literal["tiny-imagenet", "imagenet", "cifar"] | None = "tiny-imagenet"
    gaussian_sweep: bool = True

    def corruption_config(self) -> RobustnessConfig:
        """The stage's settings of the corruption grid."""
        return RobustnessConfig(**{f.name: getattr(self, f.name) for f in fields(RobustnessConfig)})

    def sweep_config(self) -> RobustnessConfig:
        """The stage's settings of the Gaussian-noise sweep (the grid's corruptions and table do not apply)."""
        return RobustnessConfig(
            source="gaussian-sweep",
            stds=self.stds,
            data=self.data,
            space=self.space,
            limit=self.limit,
            seed=self.seed,
            batch_size=self.batch_size,
        )


@dataclass
class StudyAdversarialConfig(AdversarialConfig):
    """Stage 5b, accuracy under PGD attacks: the settings of ``v1mtl evaluate adversarial``
    (``v1mtl.evaluate.adversarial.AdversarialConfig``), plus the study's own.

    Attributes:
        enabled: run the stage for every network (one ``adversarial/<condition>-s<seed>`` unit each). Off by
            default: at the stage's default settings (1000 images, 20 steps, 10 budgets) it costs hundreds of
            forward and backward passes per image, minutes per network on a CPU; the presets turn it on with
            settings sized to their budgets.
        eot_samples: as the stage's, or None (the default) to choose per network: 1 for a deterministic
            network, ``stochastic_eot_samples`` for a stochastic one (a network whose ``stochastic``
            attribute is true), whose gradient a single pass only samples (Athalye et al. 2018,
            "Obfuscated gradients give a false sense of security", ICML: expectation over transformation).
        stochastic_eot_samples: the forward passes averaged per gradient for a stochastic network when
            ``eot_samples`` is None.
    """

    enabled: bool = False
    eot_samples: PositiveInt | None = None
    stochastic_eot_samples: PositiveInt = 8

    def attack_config(self, stochastic: bool) -> AdversarialConfig:
        """The stage's settings for one network; ``stochastic``: whether its forward pass draws noise."""
        own = {f.name: getattr(self, f.name) for f in fields(AdversarialConfig)}
        if self.eot_samples is None:
            own["eot_samples"] = self.stochastic_eot_samples if stochastic else 1
        return AdversarialConfig(**own)


ANALYSES = ("reconstruction", "saliency")
# Keys a step may change: the settings of the stages that make, train and corrupt-test the networks.
STEP_KEYS = ("v1.", "fit.", "targets.", "train.", "robustness.")


@dataclass
class StepConfig:
    """One step of a study that varies its recipe (an ablation ladder, a ratio sweep).

    Attributes:
        name: the step's name (folder names and report rows); letters, digits, ``-``, ``_`` and ``.``.
        base: the earlier step this one starts from, or ``""`` for the study's own settings. A chain of
            steps each naming the one before is a ladder that changes one factor at a time.
        set: dotted study keys (``train.neural.weighting``) -> values, applied on top of ``base``'s
            settings.
    """

    name: str
    base: str = ""
    set: dict[str, Any] = field(default_factory=dict)


@dataclass
class StudyConfig:
    """A whole study: V1 data -> V1 model -> targets -> co-training -> evaluation -> analyses -> report.

    Attributes:
        name: shown in the report.
        conditions: which conditions to train (``mtl-oracle`` needs ``noise-augmented``; ``mtl*`` need
            the V1 model; ``pixel-similarity`` needs nothing but the classification images).
        seeds: one run per condition and seed; confidence intervals are over seeds.
        device: ``cpu`` or ``cuda`` for every stage.
        progress: show progress bars inside the stages (drawn only on a terminal, never into a unit's
            ``log.txt``).
        analyses: which of the analyses (``reconstruction``, ``saliency``) to run, on the first step's
            networks.
        steps: recipe steps (``StepConfig``); empty = one step, the study's own settings. Every step trains
            every condition and seed; a unit whose settings a step leaves unchanged (often the Baseline)
            is shared with the earlier step that planned it, not run again.
        teachers: simulator ablations (``v1mtl.simulator.ablations``) to co-train on, one step each, named
            by the teacher and setting ``v1.simulate.ablation`` (so each gets its own simulated V1, V1 model
            and targets, while the networks that read no V1 data, e.g. the Baseline, are shared and every
            teacher is paired by seed with the same Baseline); the first is the reference the summary
            describes (``full`` usually). Only with a simulated V1 dataset and without ``steps``.
        executor: where the units run (``ExecutorConfig``: Ray on this machine's cores by default); it
            does not change any result, so a study resumes under another executor.
    """

    name: str = "study"
    conditions: list[Condition] = field(default_factory=lambda: list(CONDITIONS))
    seeds: list[Seed] = field(default_factory=lambda: [0])
    device: Literal["cpu", "cuda"] = "cpu"
    progress: bool = True
    v1: V1Source = field(default_factory=V1Source)
    fit: FitNeuralConfig = field(default_factory=FitNeuralConfig)
    targets: TargetsConfig = field(default_factory=TargetsConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    robustness: StudyRobustnessConfig = field(default_factory=StudyRobustnessConfig)
    adversarial: StudyAdversarialConfig = field(default_factory=StudyAdversarialConfig)
    predictivity: PredictivityConfig = field(default_factory=PredictivityConfig)
    reconstruction: ReconstructionConfig = field(default_factory=ReconstructionConfig)
    saliency: SaliencyConfig = field(default_factory=SaliencyConfig)
    analyses: list[Literal["reconstruction", "saliency"]] = field(default_factory=lambda: list(ANALYSES))
    steps: list[StepConfig] = field(default_factory=list)
    teachers: list[Ablation] = field(default_factory=list)
    executor: ExecutorConfig = field(default_factory=ExecutorConfig)

    def validate(self) -> StudyConfig:
        if not self.conditions:
            raise InputError("no conditions to train", field="conditions")
        if len(set(self.conditions)) != len(self.conditions):
            raise InputError(f"conditions repeat: {self.conditions}", field="conditions")
        if "mtl-oracle" in self.conditions and "noise-augmented" not in self.conditions:
            raise InputError(
                "mtl-oracle needs the noise-augmented condition (its oracle)", field="conditions"
            )
        if not self.seeds or len(set(self.seeds)) != len(self.seeds):
            raise InputError(f"seeds must be distinct and non-empty, got {self.seeds}", field="seeds")
        if self.targets.source == "simulator" and self.v1.path is not None:
            raise InputError("targets from the simulator need a simulated V1 dataset", field="targets.source")
        if self.teachers:
            self._check_teachers()
        names = [s.name for s in self.steps]
        if len(set(names)) != len(names):
            raise InputError(f"step names repeat: {names}", field="steps")
        for i, step in enumerate(self.steps):
            if not step.name or not all(ch.isalnum() or ch in "-_." for ch in step.name):
                raise InputError(
                    f"step name {step.name!r} must be letters, digits, '-', '_' or '.'",
                    field=f"steps[{i}].name",
                )
            if step.base and step.base not in names[:i]:
                raise InputError(
                    f"base {step.base!r} is not an earlier step (earlier: {', '.join(names[:i]) or 'none'})",
                    field=f"steps[{i}].base",
                )
            for key in step.set:
                if not key.startswith(STEP_KEYS):
                    raise InputError(
                        f"a step may only change {', '.join(k + '*' for k in STEP_KEYS)}",
                        field=f"steps[{i}].set.{key}",
                    )
        if len(set(self.analyses)) != len(self.analyses):
            raise InputError(f"analyses repeat: {self.analyses}", field="analyses")
        self._check_stages()
        self.executor.validate()
        return self

    def _check_teachers(self) -> None:
        if len(set(self.teachers)) != len(self.teachers):
            raise InputError(f"teachers repeat: {self.teachers}", field="teachers")
        if self.v1.path is not None:
            raise InputError(
                "teachers are simulator ablations: they need a simulated V1 dataset (v1.path: null)",
                field="teachers",
            )
        if self.steps:
            raise InputError(
                "a study names either steps or teachers (each teacher is a step)", field="teachers"
            )
        if not any(c in self.conditions for c in ("mtl", "mtl-shuffled", "mtl-random")):
            raise InputError("teachers need a condition that co-trains on V1 targets (mtl)", field="teachers")

    def recipe_steps(self) -> list[StepConfig]:
        """The study's steps: ``steps``, or one per teacher (named by it, setting ``v1.simulate.ablation``)."""
        if self.teachers:
            return [StepConfig(name=t, set={"v1.simulate.ablation": t}) for t in self.teachers]
        return list(self.steps)

    def _check_stages(self) -> None:
        """What the stages' own schemas check beyond their ranges, named by the study's keys."""
        if self.v1.path is None:
            self.v1.simulate.check("study", prefix="v1.simulate.")
        self.fit.model.validate("study", prefix="fit.model.")
        self.train.check_settings("study", prefix="train.")
        self.train.model.validate("study", prefix="train.model.")

    def step_configs(self) -> list[tuple[str, StudyConfig]]:
        """``(step name, the study's config with that step's settings)`` for every step, in order; one step
        named ``""`` (the study's own settings) when there are none. The returned configs have no steps."""
        study = config_to_dict(self) | {"steps": [], "teachers": []}
        steps = self.recipe_steps()
        if not steps:
            return [("", config_from_dict(StudyConfig, study, source="study"))]
        settings: dict[str, dict[str, Any]] = {"": study}
        out = []
        for i, step in enumerate(steps):
            settings[step.name] = apply_dotted(settings[step.base], step.set)
            cfg = config_from_dict(StudyConfig, settings[step.name], source=f"steps[{i}] ({step.name})")
            out.append((step.name, cfg.validate()))
        return out

    def step_changes(self) -> dict[str, str]:
        """Step name -> what it changes, in words (``base`` + its own settings)."""
        out = {}
        for step in self.recipe_steps():
            own = ", ".join(f"{k} = {v}" for k, v in step.set.items())
            out[step.name] = (f"{step.base} + " if step.base else "") + (own or "(the study's settings)")
        return out

    def needs_v1_model(self) -> bool:
        return any(c in ("mtl", "mtl-shuffled", "mtl-random") for c in self.conditions)
