"""The schema of a co-training run (``v1mtl train``), with the reference's values as defaults.

Defaults follow the released recipes of sinzlab/neural_cotraining (docs/reference-implementation.md,
'Recipes'): SGD lr 0.1,
momentum 0.75, weight decay 5e-4, batch 128 + 128, ReduceLROnPlateau on validation accuracy (factor 0.4 for
the Baseline recipe, 0.3 for the MTL recipes, patience 5, relative threshold 1e-4, min lr 1e-4), early
stopping with patience 5 and 5 restore-best rounds, MSE neural loss with learned Kendall weights, a 1:1
task ratio and the TinyImageNet gray normalization (mean 0.4519, std 0.2221). The model defaults are the
paper's VGG-19-BN (``v1mtl.models.ModelConfig``). Options beyond the reference, for short budgets
(docs/training.md): Kendall weighting on the neural loss only, per-neuron standardized targets, AdamW and a
one-cycle schedule. See docs/configs.md for every key.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Literal

from v1mtl.common.config import check_config
from v1mtl.common.errors import InputError
from v1mtl.common.ranges import (
    BatchSize,
    Epochs,
    ImageCount,
    NonNegativeFloat,
    NonNegativeInt,
    OpenFraction,
    PixelValue,
    PositiveFloat,
    PositiveInt,
    Probability,
    Range,
    Seed,
)
from v1mtl.data.images import TIN_GRAY_MEAN, TIN_GRAY_STD
from v1mtl.models import ModelConfig

Condition = Literal[
    "baseline",
    "mtl",
    "mtl-shuffled",
    "mtl-random",
    "noise-augmented",
    "mtl-oracle",
    "vone",
    "pixel-similarity",
]
CONDITIONS: tuple[str, ...] = Condition.__args__
NEURAL_CONDITIONS = ("mtl", "mtl-shuffled", "mtl-random", "mtl-oracle")
# The auxiliary task's cadence and weighting that ``pixel-similarity`` reads from the ``neural`` section (it
# co-trains like MTL); the other neural keys describe V1 targets, which it has none of.
SIMILARITY_NEURAL_KEYS = ("ratio", "batch_size", "weighting", "fixed_weights")
# Conditions that fix the network's front end: ``vone`` is a classification-only network behind a VOneBlock.
FRONT_END_OF_CONDITION = {"vone": "vone"}

# ReduceLROnPlateau factor of the released recipes (nntransfer_recipes img_classification_model.py,
# mtl_models.py): 0.4 Baseline, 0.3 MTL-*.
LR_FACTOR_CLASSIFICATION_ONLY = 0.4
LR_FACTOR_MTL = 0.3
# image sides the built-in set is rendered at (``v1mtl.data.images.make_builtin``)
BUILTIN_SIZES = (32, 64)


@dataclass
class DataConfig:
    """The classification task.

    Attributes:
        source: ``"builtin"`` or a TinyImageNet-200 root / image folder (``v1mtl.data.images.types``).
        image_size: image side in pixels (64 for TinyImageNet).
        split_seed: seed of the train/validation split (1000 in the reference) and of the built-in set.
        builtin_counts: ``[train, val, test]`` image counts of the built-in set.
        batch_size: classification batch size (per process under DDP).
        eval_batch_size: batch size of validation and test passes.
        augment: random crop (pad 4), horizontal flip and rotation (15 deg) on training batches.
        mean, std: input normalization in [0, 1] pixel units (TinyImageNet gray statistics).
    """

    source: str = "builtin"
    image_size: Annotated[int, Range(8, 1024)] = 64
    split_seed: Seed = 1000
    builtin_counts: list[ImageCount] = field(default_factory=lambda: [20000, 2000, 5000])
    batch_size: BatchSize = 128
    eval_batch_size: BatchSize = 256
    augment: bool = True
    mean: PixelValue = TIN_GRAY_MEAN
    std: Annotated[float, Range(0, 1, low_open=True)] = TIN_GRAY_STD


@dataclass
class NeuralConfig:
    """The neural task (conditions ``mtl*``), and the cadence and weighting of ``pixel-similarity``'s
    auxiliary task (``SIMILARITY_NEURAL_KEYS``: ``ratio``, ``batch_size``, ``weighting``, ``fixed_weights``,
    with ``fixed_weights.neural`` the weight of its similarity loss).

    Attributes:
        targets: a native V1 dataset written by ``v1mtl predict-responses`` (images = classification
            images, responses = predicted targets). For ``mtl-oracle``: the Oracle's targets when they were
            made beforehand (a study makes them as units of their own); empty = made in the run folder from
            ``oracle``.
        ratio: neural batches per classification batch (per neural dataset); below 1, one neural batch
            every ``1/ratio`` classification batches.
        loss: ``"mse"`` (the MTL recipe) or ``"poisson"`` (mean over recorded entries).
        batch_size: neural batch size.
        weighting: ``"learned"`` (Kendall et al. 2018 on both tasks, as the reference),
            ``"learned-neural"`` (Kendall on the neural loss, classification weight fixed at 1) or
            ``"fixed"`` (``fixed_weights``).
        fixed_weights: loss weights with ``weighting: fixed``, keys ``classification`` and ``neural``.
        target_scaling: ``"none"`` (the reference) or ``"standardize"``: every neuron's targets z-scored
            with its training-trial mean and std (needs ``model.readout_output: linear``).
        train_fraction, split_seed: the 80/20 train/validation split of image ids (seed 1000).
    """

    targets: str | None = None
    # above 100 neural batches per classification batch an epoch never ends in practice
    ratio: Annotated[float, Range(0, 100, low_open=True)] = 1.0
    loss: Literal["mse", "poisson"] = "mse"
    batch_size: BatchSize = 128
    weighting: Literal["learned", "learned-neural", "fixed"] = "learned"
    fixed_weights: dict[str, NonNegativeFloat] = field(
        default_factory=lambda: {"classification": 1.0, "neural": 1.0}
    )
    target_scaling: Literal["none", "standardize"] = "none"
    train_fraction: OpenFraction = 0.8
    split_seed: Seed = 1000


@dataclass
class OptimizerConfig:
    """The optimizer of the network and the learned loss weights.

    Attributes:
        name: ``"sgd"`` (the reference: SGD with momentum) or ``"adamw"`` (Loshchilov & Hutter 2019,
            decoupled weight decay; betas 0.9, 0.999).
        lr: learning rate (the peak LR of a one-cycle schedule).
        momentum: SGD momentum (unused by AdamW).
        weight_decay: L2 penalty (SGD) or decoupled decay (AdamW).
    """

    name: Literal["sgd", "adamw"] = "sgd"
    lr: PositiveFloat = 0.1
    # momentum 1 or more never forgets a gradient: the steps grow without bound
    momentum: Annotated[float, Range(0, 1, high_open=True)] = 0.75
    weight_decay: NonNegativeFloat = 5e-4


@dataclass
class ScheduleConfig:
    """Learning-rate schedule and early stopping.

    ``kind: plateau`` is the reference's (ReduceLROnPlateau on validation accuracy with early stopping in
    restore-best rounds). ``kind: onecycle`` (Smith & Topin 2019, "Super-convergence", arXiv 1708.07120;
    ``torch.optim.lr_scheduler.OneCycleLR``, stepped per optimizer step) warms the LR up over the first
    ``warmup_fraction`` of the steps to ``optimizer.lr`` and anneals it (cosine) to about 0 by the end of
    ``max_epochs``; every run then trains ``max_epochs`` epochs and the best validation epoch's weights are
    kept (the ``lr_*``, ``patience`` and ``restore_rounds`` keys are unused).

    Attributes:
        kind: ``"plateau"`` or ``"onecycle"``.
        warmup_fraction: share of the one-cycle steps spent rising to the peak LR.
        max_epochs: upper bound on epochs (400 Baseline / 407 MTL in the reference).
        lr_factor: ReduceLROnPlateau factor; None picks the reference's per condition (0.4 for
            classification-only conditions, 0.3 for MTL conditions).
        lr_patience: epochs without improvement before the LR drops.
        lr_threshold: ReduceLROnPlateau's improvement threshold, relative (``threshold_mode='rel'``).
        min_lr: LR floor.
        patience: early-stopping patience; a round ends after ``patience + 1`` non-improving epochs
            once the score has improved (``patience`` if it never did in that round).
        threshold: early-stopping improvement threshold, absolute, in accuracy units (fraction);
            1e-6 is the reference's 1e-4 in percent.
        restore_rounds: rounds of early stopping; the best weights are restored after each
            (``lr_decay_steps`` in the reference).
    """

    kind: Literal["plateau", "onecycle"] = "plateau"
    warmup_fraction: OpenFraction = 0.3
    max_epochs: Epochs = 400
    lr_factor: OpenFraction | None = None
    lr_patience: NonNegativeInt = 5
    lr_threshold: NonNegativeFloat = 1e-4
    min_lr: NonNegativeFloat = 1e-4
    patience: NonNegativeInt = 5
    threshold: NonNegativeFloat = 1e-6
    restore_rounds: PositiveInt = 5


@dataclass
class NoiseConfig:
    """The Gaussian-noise mixture of ``noise-augmented`` (the reference's default mix, see
    docs/reference-implementation.md, 'Noise augmentation').

    Each training image independently gets one level: ``stds[i]`` with probability ``probs[i]``, clean
    with the rest (0.5 by default). Noise is added in [0, 1] pixel space before normalization, then clamped.

    Attributes:
        stds, probs: the levels and their probabilities.
        space: ``"rgb"`` adds i.i.d. noise to each of the three (equal) RGB channels of the gray image,
            clamps, and converts back with the BT.601 luma weights, as the reference did (noise in RGB,
            then ``Grayscale``); the gray noise std is then about 0.669 x ``std``. ``"gray"`` adds ``std``
            to the gray image directly.
        validation: also apply the mixture (with a fixed seed) to the validation split used for model
            selection, as the reference does for its in-domain validation set.
    """

    stds: list[PositiveFloat] = field(default_factory=lambda: [0.08, 0.12, 0.18, 0.26, 0.38])
    probs: list[Probability] = field(default_factory=lambda: [0.1, 0.1, 0.1, 0.1, 0.1])
    space: Literal["rgb", "gray"] = "rgb"
    validation: bool = True


@dataclass
class OracleConfig:
    """``mtl-oracle``: targets from a readout fitted on the frozen shared block of a noise-augmented run.

    Attributes:
        checkpoint: run folder (or ``best.pt``) of a finished ``noise-augmented`` run.
        v1_dataset: the V1 dataset (native folder) the readouts are fitted to.
        fit_config: YAML config of the V1 model fit (``v1mtl.neural_model``); None = its defaults.
        fit_overrides: ``dotted.key=value`` overrides of the fit config.
    """

    checkpoint: str | None = None
    v1_dataset: str | None = None
    fit_config: str | None = None
    fit_overrides: list[str] = field(default_factory=list)


@dataclass
class LoggingConfig:
    """Outputs beyond ``metrics.jsonl`` (always written).

    Attributes:
        tensorboard: write TensorBoard event files.
        progress: show progress bars (drawn only when stderr is a terminal, and only by the main process).
    """

    tensorboard: bool = True
    progress: bool = True


@dataclass
class TrainConfig:
    """A co-training run.

    Attributes:
        condition: baseline, mtl, mtl-shuffled, mtl-random, noise-augmented, mtl-oracle, vone or
            pixel-similarity (docs/training.md); ``vone`` trains classification only behind a VOneBlock
            (``apply_condition`` sets ``model.front_end``).
        seed: seeds initialization, shuffling, augmentation and noise.
        device: ``cpu`` or ``cuda`` (under torchrun each process uses ``cuda:LOCAL_RANK``).
        bf16: run forward passes under ``torch.autocast(dtype=bfloat16)``.
        channels_last: use the ``channels_last`` memory format for the network and image batches.
        deterministic: ``torch.use_deterministic_algorithms(True)`` and no cuDNN autotuning.
    """

    condition: Condition = "baseline"
    seed: Seed = 1000
    device: Literal["cpu", "cuda"] = "cpu"
    bf16: bool = False
    channels_last: bool = False
    deterministic: bool = False
    data: DataConfig = field(default_factory=DataConfig)
    neural: NeuralConfig = field(default_factory=NeuralConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    optimizer: OptimizerConfig = field(default_factory=OptimizerConfig)
    schedule: ScheduleConfig = field(default_factory=ScheduleConfig)
    noise: NoiseConfig = field(default_factory=NoiseConfig)
    oracle: OracleConfig = field(default_factory=OracleConfig)
    logging: LoggingConfig = field(default_factory=LoggingConfig)

    @property
    def uses_neural(self) -> bool:
        return self.condition in NEURAL_CONDITIONS

    @property
    def auxiliary_task(self) -> Literal["neural", "similarity"] | None:
        """The task co-trained with classification: ``neural`` (V1 targets), ``similarity``
        (``pixel-similarity``) or None (classification only)."""
        if self.uses_neural:
            return "neural"
        return "similarity" if self.condition == "pixel-similarity" else None

    def lr_factor(self) -> float:
        """The ReduceLROnPlateau factor: the configured one, else the reference's for the condition (the MTL
        recipes' for every co-trained condition, ``pixel-similarity`` included)."""
        if self.schedule.lr_factor is not None:
            return self.schedule.lr_factor
        return LR_FACTOR_CLASSIFICATION_ONLY if self.auxiliary_task is None else LR_FACTOR_MTL

    def apply_condition(self) -> TrainConfig:
        """Set what the condition implies (``vone``: ``model.front_end: vone``), so the saved config and
        the checkpoint describe the network that was trained. Returns ``self``."""
        if self.condition in FRONT_END_OF_CONDITION:
            self.model.front_end = FRONT_END_OF_CONDITION[self.condition]
        return self

    def validate(self, source: str = "config", prefix: str = "") -> TrainConfig:
        """Set what the condition implies (``apply_condition``), check the ranges of the schema and what
        they cannot say; raise ``InputError`` naming the key (``prefix`` + key: ``"train."`` in a study).
        Returns ``self``."""
        self.apply_condition()
        check_config(self, source=source, prefix=prefix)
        self.check_settings(source, prefix)
        self._check_condition(source, prefix)
        self.model.validate(source, prefix=f"{prefix}model.")
        return self

    def check_settings(self, source: str = "config", prefix: str = "") -> None:
        """Keys that depend on one another, whatever the condition (a study sets the condition per run)."""
        checks = [
            (
                "data.image_size",
                self.data.source != "builtin" or self.data.image_size in BUILTIN_SIZES,
                f"the built-in set comes in {' or '.join(map(str, BUILTIN_SIZES))} px, not {self.data.image_size}",
            ),
            ("data.builtin_counts", len(self.data.builtin_counts) == 3, "must be [train, val, test]"),
            (
                "neural.fixed_weights",
                set(self.neural.fixed_weights) == {"classification", "neural"},
                "needs exactly the keys 'classification' and 'neural'",
            ),
            ("noise.probs", len(self.noise.probs) == len(self.noise.stds), "needs one probability per std"),
            ("noise.probs", sum(self.noise.probs) <= 1 + 1e-9, "must sum to at most 1 (the rest is clean)"),
        ]
        for key, ok, message in checks:
            if not ok:
                raise InputError(message, path=source, field=prefix + key)

    def _check_condition(self, source: str, prefix: str) -> None:
        """What the condition needs: targets, their scaling and loss, the Oracle's inputs."""
        if self.uses_neural and self.neural.target_scaling == "standardize":
            if self.model.readout_output != "linear":
                raise InputError(
                    "standardized targets are negative half of the time; set model.readout_output: linear",
                    path=source,
                    field=f"{prefix}neural.target_scaling",
                )
            if self.neural.loss != "mse":
                raise InputError(
                    "the Poisson loss needs non-negative targets; use neural.loss: mse",
                    path=source,
                    field=f"{prefix}neural.target_scaling",
                )
        if self.uses_neural and self.neural.loss == "poisson" and self.model.readout_output != "elu":
            raise InputError(
                "the Poisson loss needs positive predictions; use model.readout_output: elu",
                path=source,
                field=f"{prefix}model.readout_output",
            )
        if self.condition in ("mtl", "mtl-shuffled", "mtl-random") and not self.neural.targets:
            raise InputError(
                f"condition '{self.condition}' needs a targets dataset",
                path=source,
                field=f"{prefix}neural.targets",
            )
        if self.condition == "mtl-oracle" and not self.neural.targets:
            for key in ("checkpoint", "v1_dataset"):
                if not getattr(self.oracle, key):
                    raise InputError(
                        "condition 'mtl-oracle' needs it", path=source, field=f"{prefix}oracle.{key}"
                    )
