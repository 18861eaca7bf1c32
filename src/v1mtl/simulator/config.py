"""Settings of the V1 simulator, kept free of heavy imports so the command line can show the defaults.

``TuningSpec`` and ``ResponseSpec`` hold the distribution settings that the cited histograms leave open
(sources in ``v1mtl.simulator.tuning`` and ``v1mtl.simulator.population``); ``SimulationConfig`` is everything
that determines a simulated dataset, and is saved as ``config.yaml`` next to it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Annotated, Any, Literal

from v1mtl.common.config import check_config
from v1mtl.common.errors import InputError
from v1mtl.common.ranges import NonNegativeFloat, PositiveFloat, Probability, Range, Seed

# A simulation holds its stimuli (uint8 and a float64 copy), the noise-free rates (float64) and the test
# trials (float32) in memory at once; beyond this it would end in a MemoryError after minutes of work.
MAX_MEMORY_BYTES = 16 << 30
# The lowest preferred spatial frequency drawn (``v1mtl.simulator.tuning.SF_BIN_EDGES_CPD[0]``); the pixel
# grid must resolve it.
LOWEST_SF_CPD = 0.5

# One property of the population changed, everything else drawn from the same random numbers
# (``v1mtl.simulator.ablations`` builds each; docs/simulator.md says why each isolates its property).
Ablation = Literal["full", "no-normalization", "low-sf", "high-sf", "simple-only", "complex-only", "linear"]
ABLATIONS: tuple[str, ...] = Ablation.__args__


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

    simple_fraction: Probability = 0.4
    position_sd_deg: Annotated[float, Range(0, 10)] = 0.2
    # a tiny bound with a wide spread would redraw almost every centre, almost forever
    max_offset_deg: Annotated[float, Range(0.01, 10)] = 0.5
    max_sf_cycles_per_pixel: Annotated[float, Range(0, 0.5, low_open=True)] = 0.35


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

    mean_count_median: PositiveFloat = 1.0
    # a log-normal with a log sd beyond 5 spans more than 4 orders of magnitude either side of its median
    mean_count_log_sd: Annotated[float, Range(0, 5)] = 0.5
    spont_median: NonNegativeFloat = 0.3
    spont_log_sd: Annotated[float, Range(0, 5)] = 0.5
    semisat_median: PositiveFloat = 1.0
    semisat_log_sd: Annotated[float, Range(0, 5)] = 0.5
    pool_orientations: Annotated[int, Range(1, 64)] = 4
    pool_scale: Annotated[float, Range(0, 10, low_open=True)] = 1.5


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
        ablation: ``full`` (the model above) or the one property changed for an ablation teacher
            (``v1mtl.simulator.ablations``).
    """

    neurons: Annotated[int, Range(1, 10_000)] = 30
    sessions: Annotated[int, Range(1, 1000)] = 4
    images: Annotated[int, Range(1, 1_000_000)] = 4000
    test_images: Annotated[int, Range(2, 100_000)] = 100
    repeats: Annotated[int, Range(2, 1000)] = 10
    image_size: Annotated[int, Range(16, 512)] = 64
    seed: Seed = 0
    # 1 = Poisson; larger is over-dispersed (negative binomial)
    fano: Annotated[float, Range(1, 100)] = 1.5
    field_of_view_deg: Annotated[float, Range(0, 30, low_open=True)] = 2.0
    tuning: TuningSpec = field(default_factory=TuningSpec)
    response: ResponseSpec = field(default_factory=ResponseSpec)
    ablation: Ablation = "full"

    @property
    def pixels_per_degree(self) -> float:
        return self.image_size / self.field_of_view_deg

    def memory_bytes(self) -> int:
        """About the memory a simulation of this config holds at its peak (see ``MAX_MEMORY_BYTES``)."""
        n_images = self.images + self.test_images
        n_neurons = self.neurons * self.sessions
        stimuli = n_images * self.image_size**2 * (1 + 8)  # uint8 and float64
        return stimuli + n_images * n_neurons * 8 + self.test_images * self.repeats * n_neurons * 4

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def check(self, source: str = "config", prefix: str = "") -> None:
        """Raise ``InputError`` naming the config key (``prefix`` + key) when a setting is out of range."""
        check_config(self, source=source, prefix=prefix)
        if self.memory_bytes() > MAX_MEMORY_BYTES:
            raise InputError(
                f"the simulation would hold about {self.memory_bytes() / 2**30:.0f} GiB in memory (images, "
                f"image_size, neurons, sessions, test_images, repeats); at most {MAX_MEMORY_BYTES >> 30} GiB",
                path=source,
                field=prefix.rstrip(".") or None,
            )
        if self.tuning.max_sf_cycles_per_pixel * self.pixels_per_degree <= LOWEST_SF_CPD:
            raise InputError(
                f"{self.pixels_per_degree:g} px per degree (image_size / field_of_view_deg) cannot show "
                f"{LOWEST_SF_CPD} cycles/degree, the lowest preferred spatial frequency",
                path=source,
                field=f"{prefix}field_of_view_deg",
            )
