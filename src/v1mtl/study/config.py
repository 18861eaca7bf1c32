"""The schema of a study (``v1mtl run``): every stage's settings, built from the stages' own schemas.

A study nests the configs of the commands it chains (``SimulationConfig`` of ``simulate-v1``,
``FitNeuralConfig`` of ``fit-neural``, ``TrainConfig`` of ``train``), so a key means the same thing in a study
as in the command, and ``--set train.schedule.max_epochs=3`` works like ``--set schedule.max_epochs=3`` does
for ``v1mtl train``. Presets: ``presets/study-<name>.yaml``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from v1mtl.common.config import apply_dotted, config_from_dict, config_to_dict
from v1mtl.common.errors import InputError
from v1mtl.neural_model.fit import FitNeuralConfig
from v1mtl.simulator import SimulationConfig
from v1mtl.training.config import CONDITIONS, Condition, TrainConfig

# the resolved config of a study, saved in its folder
STUDY_CONFIG = "study.yaml"


@dataclass
class V1Source:
    """Stage 1, the V1 recordings.

    Attributes:
        path: a user's V1 dataset (native, cadena2019 or nnvision); None simulates one.
        format: its format, or None to detect it.
        simulate: the simulator's settings when ``path`` is None.
    """

    path: str | None = None
    format: str | None = None
    simulate: SimulationConfig = field(default_factory=SimulationConfig)


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
    seed: int = 0
    batch_size: int = 256


@dataclass
class RobustnessConfig:
    """Stage 5, accuracy under corruptions (``v1mtl evaluate robustness``).

    Attributes:
        preset: the corruption parameter table for on-the-fly corruption of the test split.
        corruptions: corruption names, or ``["common"]`` for the 15 benchmark corruptions.
        severities: severities 1..5.
        prerendered: a Tiny-ImageNet-C folder to use instead of on-the-fly corruption.
        jpeg_roundtrip: pass corrupted images through JPEG quality 85, like the released files.
        gaussian_sweep: also run the reference's Gaussian-noise sweep.
        limit: evaluate at most this many test images (evenly spaced), or None for all.
        seed: seed of the per-image corruption draws (the same corrupted set for every model).
        batch_size: images per batch.
    """

    preset: Literal["tiny-imagenet", "imagenet", "cifar"] = "tiny-imagenet"
    corruptions: list[str] = field(default_factory=lambda: ["common"])
    severities: list[int] = field(default_factory=lambda: [1, 2, 3, 4, 5])
    prerendered: str | None = None
    jpeg_roundtrip: bool = False
    gaussian_sweep: bool = True
    limit: int | None = None
    seed: int = 0
    batch_size: int = 256


@dataclass
class PredictivityConfig:
    """Stage 6, V1 predictivity of every trained network (``v1mtl evaluate predictivity``).

    Attributes:
        layers: layers to score (names such as ``relu3_1`` or indices of ``features``); empty = the shared
            layer of each network.
        readout: ``gaussian`` (fresh Gaussian readouts with the V1 model's settings) or ``ridge``.
        max_epochs: epoch limit of each readout fit (the V1 model's settings otherwise).
    """

    layers: list[str] = field(default_factory=list)
    readout: Literal["gaussian", "ridge"] = "gaussian"
    max_epochs: int = 150


@dataclass
class ReconstructionConfig:
    """Stage 7a, constrained reconstruction of noisy images (``v1mtl analyze reconstruction``).

    Attributes:
        layer: the layer whose activations are matched (empty: the shared layer).
        n_images: test images analysed.
        budgets: L2 norms of the 3-channel normalized input (the reference's 5-60 at 64x64x3).
        noise_stds: std of the Gaussian noise added to the clean images, [0, 1] pixel units.
        steps: gradient steps per reconstruction (the reference runs 5000).
        seed: seed of the image crops, the noise and the bootstrap.
    """

    layer: str = ""
    n_images: int = 16
    budgets: list[float] = field(default_factory=lambda: [5.0, 10.0, 20.0, 40.0, 60.0])
    noise_stds: list[float] = field(default_factory=lambda: [0.1, 0.2])
    steps: int = 300
    seed: int = 0


@dataclass
class SaliencyConfig:
    """Stage 7b, sensitivity in salient regions (``v1mtl analyze saliency``).

    Attributes:
        n_images: test images analysed.
        saliency_maps: a user's saliency maps (``.npy``/``.npz``/``.h5`` keyed by image id); None uses the
            built-in model.
        model: the built-in saliency model.
        steps: gradient steps of the reconstruction-based sensitivity maps.
        seed: seed of the image crops, the probes and the bootstrap.
    """

    n_images: int = 16
    saliency_maps: str | None = None
    model: Literal["spectral_residual", "centre_surround"] = "spectral_residual"
    steps: int = 300
    seed: int = 0


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
            the V1 model).
        seeds: one run per condition and seed; confidence intervals are over seeds.
        device: ``cpu`` or ``cuda`` for every stage.
        progress: show progress bars inside the stages.
        analyses: which of the analyses (``reconstruction``, ``saliency``) to run, on the first step's
            networks.
        steps: recipe steps (``StepConfig``); empty = one step, the study's own settings. Every step trains
            every condition and seed; a unit whose settings a step leaves unchanged (often the Baseline)
            is shared with the earlier step that planned it, not run again.
    """

    name: str = "study"
    conditions: list[Condition] = field(default_factory=lambda: list(CONDITIONS))
    seeds: list[int] = field(default_factory=lambda: [0])
    device: Literal["cpu", "cuda"] = "cpu"
    progress: bool = True
    v1: V1Source = field(default_factory=V1Source)
    fit: FitNeuralConfig = field(default_factory=FitNeuralConfig)
    targets: TargetsConfig = field(default_factory=TargetsConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    robustness: RobustnessConfig = field(default_factory=RobustnessConfig)
    predictivity: PredictivityConfig = field(default_factory=PredictivityConfig)
    reconstruction: ReconstructionConfig = field(default_factory=ReconstructionConfig)
    saliency: SaliencyConfig = field(default_factory=SaliencyConfig)
    analyses: list[Literal["reconstruction", "saliency"]] = field(default_factory=lambda: list(ANALYSES))
    steps: list[StepConfig] = field(default_factory=list)

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
        return self

    def step_configs(self) -> list[tuple[str, StudyConfig]]:
        """``(step name, the study's config with that step's settings)`` for every step, in order; one step
        named ``""`` (the study's own settings) when there are none. The returned configs have no steps."""
        study = config_to_dict(self) | {"steps": []}
        if not self.steps:
            return [("", config_from_dict(StudyConfig, study, source="study"))]
        settings: dict[str, dict[str, Any]] = {"": study}
        out = []
        for i, step in enumerate(self.steps):
            settings[step.name] = apply_dotted(settings[step.base], step.set)
            cfg = config_from_dict(StudyConfig, settings[step.name], source=f"steps[{i}] ({step.name})")
            out.append((step.name, cfg.validate()))
        return out

    def step_changes(self) -> dict[str, str]:
        """Step name -> what it changes, in words (``base`` + its own settings)."""
        out = {}
        for step in self.steps:
            own = ", ".join(f"{k} = {v}" for k, v in step.set.items())
            out[step.name] = (f"{step.base} + " if step.base else "") + (own or "(the study's settings)")
        return out

    def needs_v1_model(self) -> bool:
        return any(c in ("mtl", "mtl-shuffled", "mtl-random") for c in self.conditions)
