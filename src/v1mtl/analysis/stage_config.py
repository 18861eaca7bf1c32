"""The settings of the two analysis stages (constrained reconstruction, saliency sensitivity), as configs.

``AnalysisStageConfig`` holds what both share (images, layer, bootstrap, the reconstruction optimizer);
``ReconstructionConfig`` and ``SaliencyConfig`` add their own. Their defaults are those of the algorithms'
settings (``v1mtl.analysis.settings``). This module imports no torch, so the commands can show the defaults.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Literal

from v1mtl.analysis.settings import (
    CONSTRAINTS,
    SALIENCY_MODELS,
    SENSITIVITY_METHODS,
    ContentNoiseSettings,
    ReconstructionSettings,
    SaliencySettings,
)
from v1mtl.common.config import check_config
from v1mtl.common.errors import InputError
from v1mtl.common.ranges import (
    BatchSize,
    NonNegativeFloat,
    OpenFraction,
    PositiveFloat,
    Range,
    Resamples,
    Seed,
)
from v1mtl.common.stats import DEFAULT_N_BOOT

_OPTIMIZER = ReconstructionSettings()


def require(ok: bool, key: str, message: str) -> None:
    """Raise the one-line ``InputError`` naming config key ``key`` unless ``ok``."""
    if not ok:
        raise InputError(message, field=key)


@dataclass
class AnalysisStageConfig:
    """Settings both analyses share.

    Attributes:
        images: ``builtin`` (the bundled photographs), an image folder, or an ``.npy``/``.npz`` of images.
        layer: the layer whose activations are analysed, a name (``relu3_1``) or a module count ``k``; empty:
            each network's shared layer.
        n_images: images analysed.
        size: image side in pixels; None: the first network's training size.
        batch_size: images processed together (results do not depend on it).
        n_boot: bootstrap resamples of the confidence intervals.
        seed: seed of the image crops, the noise, the probes and the bootstrap.
        steps: gradient steps per reconstruction (the reference runs 5000).
        lr: SGD step size on the mean-squared activation error (reference 5000).
        blur_sigma: pixels of the Gaussian that blurs every gradient (reference 1; 0 = off).
        constraint: ``sphere`` (norm exactly the budget, reference) or ``ball`` (at most the budget).
        recon_seed: seed of the random starting images (reference 1000).
    """

    images: str = "builtin"
    layer: str = ""
    n_images: Annotated[int, Range(1, 100_000)] = 16
    size: Annotated[int, Range(8, 1024)] | None = None
    batch_size: BatchSize = 32
    n_boot: Resamples = DEFAULT_N_BOOT
    seed: Seed = 0
    steps: Annotated[int, Range(1, 1_000_000)] = _OPTIMIZER.steps
    lr: PositiveFloat = _OPTIMIZER.lr
    blur_sigma: NonNegativeFloat = _OPTIMIZER.blur_sigma
    constraint: Literal["sphere", "ball"] = "sphere"
    recon_seed: Seed = _OPTIMIZER.seed

    def validate(self) -> AnalysisStageConfig:
        """Check the settings' types and ranges (the schema's) and the constraint; a bad one raises an
        ``InputError`` naming its key."""
        check_config(self)
        require(
            self.constraint in CONSTRAINTS,
            "constraint",
            f"must be one of {CONSTRAINTS}, got {self.constraint!r}",
        )
        return self

    def reconstruction_settings(self) -> ReconstructionSettings:
        """The optimizer's settings (its ``log_every`` keeps the optimizer's default)."""
        return ReconstructionSettings(
            steps=self.steps,
            lr=self.lr,
            blur_sigma=self.blur_sigma,
            constraint=self.constraint,
            seed=self.recon_seed,
        )


_SWEEP = ContentNoiseSettings()


@dataclass
class ReconstructionConfig(AnalysisStageConfig):
    """Settings of the reconstruction stage: the shared ones (``AnalysisStageConfig``) and the sweep.

    Attributes:
        budgets: L2 norms of the 3-channel normalized input (the reference's 5-60 at 64x64x3).
        noise_stds: std of the Gaussian noise added to the clean images, [0, 1] pixel units.
    """

    budgets: list[PositiveFloat] = field(default_factory=lambda: list(_SWEEP.budgets))
    noise_stds: list[NonNegativeFloat] = field(default_factory=lambda: list(_SWEEP.noise_stds))

    def validate(self) -> ReconstructionConfig:
        """Check every setting; a bad one raises an ``InputError`` naming its key."""
        super().validate()
        require(bool(self.budgets), "budgets", "must not be empty")
        require(bool(self.noise_stds), "noise_stds", "must not be empty")
        return self


_SCORING = SaliencySettings()


@dataclass
class SaliencyConfig(AnalysisStageConfig):
    """Settings of the saliency stage: the shared ones (``AnalysisStageConfig``) and the saliency scoring.

    Attributes:
        saliency_maps: a user's saliency maps keyed by image id (``.npz``/``.h5``, or an ``.npy`` aligned with
            the images); None uses the built-in ``model``.
        log_density: the file holds log-densities (DeepGaze): exponentiate them.
        model: the built-in saliency model.
        methods: sensitivity maps to score (``jacobian``, ``reconstruction``).
        n_probes: random probes of the Jacobian-norm estimate.
        budget: L2 budget of the reconstructions, in the reference's 3-channel normalized units.
        top_fraction: share of most sensitive pixels that the AUC treats as positives, in (0, 1).
    """

    saliency_maps: str | None = None
    log_density: bool = False
    model: Literal["spectral_residual", "centre_surround"] = "spectral_residual"
    methods: list[Literal["jacobian", "reconstruction"]] = field(
        default_factory=lambda: list(_SCORING.methods)
    )
    n_probes: Annotated[int, Range(1, 10_000)] = _SCORING.n_probes
    budget: PositiveFloat = _SCORING.budget
    top_fraction: OpenFraction = _SCORING.top_fraction

    def validate(self) -> SaliencyConfig:
        """Check every setting; a bad one raises an ``InputError`` naming its key."""
        super().validate()
        require(
            self.model in SALIENCY_MODELS,
            "model",
            f"must be one of {SALIENCY_MODELS}, got {self.model!r}",
        )
        require(
            bool(self.methods) and set(self.methods) <= set(SENSITIVITY_METHODS),
            "methods",
            f"must be a non-empty list of {SENSITIVITY_METHODS}, got {self.methods}",
        )
        return self
