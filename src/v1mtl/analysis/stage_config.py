"""The settings of the two analysis stages (constrained reconstruction, saliency sensitivity), as configs.

``AnalysisStageConfig`` holds what both share (images, layer, bootstrap, the reconstruction optimizer);
``ReconstructionConfig`` and ``SaliencyConfig`` add their own. Their defaults are those of the algorithms'
settings (``v1mtl.analysis.settings``). This module imports no torch, so the commands can show the defaults.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from v1mtl.analysis.settings import (
    CONSTRAINTS,
    SALIENCY_MODELS,
    SENSITIVITY_METHODS,
    ContentNoiseSettings,
    ReconstructionSettings,
    SaliencySettings,
)
from v1mtl.common.errors import InputError
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
    n_images: int = 16
    size: int | None = None
    batch_size: int = 32
    n_boot: int = DEFAULT_N_BOOT
    seed: int = 0
    steps: int = _OPTIMIZER.steps
    lr: float = _OPTIMIZER.lr
    blur_sigma: float = _OPTIMIZER.blur_sigma
    constraint: Literal["sphere", "ball"] = "sphere"
    recon_seed: int = _OPTIMIZER.seed

    def validate(self) -> AnalysisStageConfig:
        """Check the shared settings; a bad one raises an ``InputError`` naming its key."""
        require(self.n_images >= 1, "n_images", f"must be at least 1, got {self.n_images}")
        require(self.size is None or self.size >= 1, "size", f"must be at least 1, got {self.size}")
        require(self.batch_size >= 1, "batch_size", f"must be at least 1, got {self.batch_size}")
        require(self.n_boot >= 1, "n_boot", f"must be at least 1, got {self.n_boot}")
        require(self.steps >= 1, "steps", f"must be at least 1, got {self.steps}")
        require(self.lr > 0, "lr", f"must be positive, got {self.lr}")
        require(self.blur_sigma >= 0, "blur_sigma", f"must be >= 0, got {self.blur_sigma}")
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

    budgets: list[float] = field(default_factory=lambda: list(_SWEEP.budgets))
    noise_stds: list[float] = field(default_factory=lambda: list(_SWEEP.noise_stds))

    def validate(self) -> ReconstructionConfig:
        """Check every setting; a bad one raises an ``InputError`` naming its key."""
        super().validate()
        require(
            bool(self.budgets) and all(b > 0 for b in self.budgets),
            "budgets",
            f"must be positive and not empty, got {self.budgets}",
        )
        require(
            bool(self.noise_stds) and all(s >= 0 for s in self.noise_stds),
            "noise_stds",
            f"must be >= 0 and not empty, got {self.noise_stds}",
        )
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
    n_probes: int = _SCORING.n_probes
    budget: float = _SCORING.budget
    top_fraction: float = _SCORING.top_fraction

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
        require(self.n_probes >= 1, "n_probes", f"must be at least 1, got {self.n_probes}")
        require(self.budget > 0, "budget", f"must be positive, got {self.budget}")
        require(0 < self.top_fraction < 1, "top_fraction", f"must be in (0, 1), got {self.top_fraction}")
        return self
