"""The settings of the analyses' algorithms: reconstruction, the content-vs-noise sweep, saliency scoring.

Plain dataclasses apart from the code that runs them, so that a command can show their defaults (and a
config can take them) without importing torch.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

CONSTRAINTS = ("sphere", "ball")
SENSITIVITY_METHODS = ("jacobian", "reconstruction")
SALIENCY_MODELS = ("spectral_residual", "centre_surround")


@dataclass
class ReconstructionSettings:
    """Settings of one reconstruction run.

    Attributes:
        steps: gradient steps (reference 5000; a few hundred suffice for the small CPU networks).
        lr: SGD step size on the mean-squared activation error (reference 5000).
        blur_sigma: standard deviation in pixels of the Gaussian that blurs every gradient (reference 1;
            0 turns preconditioning off).
        constraint: ``"sphere"`` (norm exactly ``budget``, reference) or ``"ball"`` (norm at most ``budget``).
        seed: seed of the random initial images; image ``i`` of a batch uses ``seed + i``.
        log_every: record the loss every this many steps.
    """

    steps: int = 300
    lr: float = 5000.0
    blur_sigma: float = 1.0
    constraint: str = "sphere"
    seed: int = 1000
    log_every: int = 10

    def validate(self) -> ReconstructionSettings:
        if self.steps < 1:
            raise ValueError(f"steps must be at least 1, got {self.steps}")
        if self.lr <= 0:
            raise ValueError(f"lr must be positive, got {self.lr}")
        if self.blur_sigma < 0:
            raise ValueError(f"blur_sigma must be >= 0, got {self.blur_sigma}")
        if self.constraint not in CONSTRAINTS:
            raise ValueError(f"constraint must be one of {CONSTRAINTS}, got {self.constraint!r}")
        if self.log_every < 1:
            raise ValueError(f"log_every must be at least 1, got {self.log_every}")
        return self


@dataclass
class ContentNoiseSettings:
    """What to sweep.

    Attributes:
        budgets: L2 budgets in the reference's units: the norm of the 3-channel normalized input tensor
            (reference {5, 10, 20, 40, 60} at 64x64x3). A gray image is optimized in 1 channel with the
            norm that gives this budget once repeated to 3 channels.
        noise_stds: standard deviations of the added pixel noise, in [0, 1] pixel units.
        mean, std: the network's input normalization ``(pixel - mean) / std``.
        recon: reconstruction settings.
        batch_size: images reconstructed together (results do not depend on it).
        seed: seed of the noise.
        n_examples: reconstructions kept per condition for figures.
    """

    budgets: Sequence[float] = (5.0, 10.0, 20.0, 40.0, 60.0)
    noise_stds: Sequence[float] = (0.1, 0.2)
    mean: float = 0.0
    std: float = 1.0
    recon: ReconstructionSettings = field(default_factory=ReconstructionSettings)
    batch_size: int = 32
    seed: int = 0
    n_examples: int = 4


@dataclass
class SaliencySettings:
    """Settings of the saliency-sensitivity analysis.

    Attributes:
        methods: sensitivity maps to compute (``"jacobian"``, ``"reconstruction"``).
        mean, std: the network's input normalization.
        n_probes: random probes of the Jacobian estimate.
        budget: L2 budget of the reconstructions, in the reference's 3-channel units.
        recon: reconstruction settings.
        recon_smooth_sigma: pixels of the Gaussian that smooths the reconstruction energy.
        top_fraction: share of most sensitive pixels that the AUC treats as positives.
        batch_size: images processed together.
        seed: seed of the probes.
    """

    methods: Sequence[str] = SENSITIVITY_METHODS
    mean: float = 0.0
    std: float = 1.0
    n_probes: int = 16
    budget: float = 20.0
    recon: ReconstructionSettings = field(default_factory=ReconstructionSettings)
    recon_smooth_sigma: float = 1.0
    top_fraction: float = 0.2
    batch_size: int = 32
    seed: int = 0
