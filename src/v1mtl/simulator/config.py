"""Settings of the V1 simulator, kept free of heavy imports so the command line can show the defaults.

``TuningSpec`` and ``ResponseSpec`` hold the distribution settings that the cited histograms leave open
(sources in ``v1mtl.simulator.tuning`` and ``v1mtl.simulator.population``); ``SimulationConfig`` is everything
that determines a simulated dataset, and is saved as ``config.yaml`` next to it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from v1mtl.common.errors import InputError


@dataclass(frozen=True)
class TuningSpec:
    """Settings of the tuning distributions that are not fixed by the cited histograms.

    Attributes:
        simple_fraction: fraction of simple cells (the rest are complex).
        position_sd_deg: standard deviation of receptive-field centres around the stimulus centre, degrees.
        max_offset_deg: receptive-field centres are redrawn until both coordinates are within this bound.
        max_sf_cycles_per_pixel: spatial frequencies above this (on the simulator's pixel grid) are redrawn,
            so no filter aliases on a coarse grid (Nyquist is 0.5 cycles/pixel).
    """

    simple_fraction: float = 0.4
    position_sd_deg: float = 0.2
    max_offset_deg: float = 0.5
    max_sf_cycles_per_pixel: float = 0.35


@dataclass(frozen=True)
class ResponseSpec:
    """Distributions of the response parameters (log-normal: median and standard deviation of the log).

    The defaults give counts typical of macaque V1 in a ~100 ms window: spontaneous ~0.3 spikes (~3 spikes/s)
    and a mean evoked count of ~1 spike (~10 spikes/s) to natural images, which drive V1 cells more weakly
    than optimal gratings, with a wide spread across cells.

    Attributes:
        mean_count_median, mean_count_log_sd: mean evoked count over the calibration images.
        spont_median, spont_log_sd: spontaneous count per trial.
        semisat_median, semisat_log_sd: semi-saturation constant as a multiple of the median pool energy.
        pool_orientations: orientations in the normalization pool.
        pool_scale: pool envelope width relative to the neuron's envelope (geometric mean of sx, sy).
    """

    mean_count_median: float = 1.0
    mean_count_log_sd: float = 0.5
    spont_median: float = 0.3
    spont_log_sd: float = 0.5
    semisat_median: float = 1.0
    semisat_log_sd: float = 0.5
    pool_orientations: int = 4
    pool_scale: float = 1.5


@dataclass(frozen=True)
class SimulationConfig:
    """Everything that determines a simulated dataset: the config of ``v1mtl simulate-v1`` (``--config``,
    ``--set``) and the ``v1.simulate`` section of a study.

    Attributes:
        neurons: neurons per session.
        sessions: recording sessions.
        images: training images, each shown once.
        test_images: test images, each shown ``repeats`` times.
        repeats: repeats per test image.
        image_size: stimulus side in pixels.
        seed: random seed of the population, the stimuli and the spike counts.
        fano: Fano factor of the spike counts (1 = Poisson).
        field_of_view_deg: degrees of visual angle the stimuli span.
        tuning: the tuning distributions' open settings.
        response: the response parameters' distributions.
    """

    neurons: int = 30
    sessions: int = 4
    images: int = 4000
    test_images: int = 100
    repeats: int = 10
    image_size: int = 64
    seed: int = 0
    fano: float = 1.5
    field_of_view_deg: float = 2.0
    tuning: TuningSpec = field(default_factory=TuningSpec)
    response: ResponseSpec = field(default_factory=ResponseSpec)

    @property
    def pixels_per_degree(self) -> float:
        return self.image_size / self.field_of_view_deg

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def check(self) -> None:
        """Raise ``InputError`` naming the config key when a setting is out of range."""
        minimum = {"neurons": 1, "sessions": 1, "images": 1, "test_images": 2, "repeats": 2, "image_size": 16}
        for name, low in minimum.items():
            value = getattr(self, name)
            if value < low:
                raise InputError(f"must be at least {low}, got {value}", field=name)
        if self.fano < 1:
            raise InputError(f"must be >= 1 (1 = Poisson), got {self.fano}", field="fano")
        if self.seed < 0:
            raise InputError(f"must be non-negative, got {self.seed}", field="seed")
