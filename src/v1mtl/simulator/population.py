"""A simulated macaque V1 population: noise-free rates for any grayscale images, and noisy spike counts.

Model, per neuron ``j`` (all neurons computed together as one matrix product over pixels):

    L1, L2 = <g_j(phase), I>, <g_j(phase + 90), I>           quadrature pair of Gabor filters (unit norm)
    D_j    = max(L1, 0)^2            simple cell: half-squared linear filter (Heeger 1992, Vis Neurosci 9:181)
           = L1^2 + L2^2             complex cell: energy model (Adelson & Bergen 1985, JOSA A 2:284)
    P_j    = mean over K orientations of the energy of quadrature pairs at the neuron's position and SF,
             with a round envelope ``pool_scale`` times wider than the neuron's (untuned local pool)
    rate_j = spont_j + gain_j * D_j / (semisat_j + P_j)     divisive normalization (Carandini & Heeger
                                                             2012, Nat Rev Neurosci 13:51, eq. 1 with n = 2)

Ablation teachers (``v1mtl.simulator.ablations``) replace the last line by ``spont + gain * D`` (``energy``,
no normalization) or ``max(spont + gain * L1, 0)`` (``linear``; ``spont`` then holds the offset).

``I`` is the image in [0, 1] on the simulator's pixel grid; the filters are zero-mean, so mean luminance does
not drive a cell. The pool covers the receptive field and a near surround (envelope 1.5 times wider), since
the suppressive surround of macaque V1 neurons extends beyond the classical receptive field (Cavanaugh,
Bair & Movshon 2002, J Neurophysiol 88:2530). Rates are expected spike counts per trial (one presentation).

Calibration: ``semisat_j`` is a sampled multiple of the neuron's median pool energy over a calibration set
of natural-image crops, and ``gain_j`` is set so that the neuron's mean evoked count over that set equals a
sampled target. Both are then fixed constants of the population, reused on any other images.

Noise: counts are Poisson (``fano = 1``) or gamma-Poisson (negative binomial) with a constant Fano factor
``fano > 1``: ``count ~ Poisson(lam)``, ``lam ~ Gamma(shape = rate / (fano - 1), scale = fano - 1)``, so
``E[count] = rate`` and ``Var[count] = fano * rate``. Macaque V1 Fano factors are about 1-2 (Goris, Movshon &
Simoncelli 2014, Nat Neurosci 17:858, whose modulated-Poisson model lets the Fano factor grow with the rate;
here it is a constant for simplicity).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields
from pathlib import Path

import numpy as np
from PIL import Image
from tqdm import tqdm

from v1mtl.common.atomic import atomic_open
from v1mtl.common.errors import InputError
from v1mtl.common.progress import bar_disabled
from v1mtl.simulator.ablations import RESPONSE_MODELS, ablate_tuning, response_model
from v1mtl.simulator.config import ResponseSpec, TuningSpec
from v1mtl.simulator.gabor import gabor_bank
from v1mtl.simulator.tuning import sample_tuning

FORMAT_VERSION = 1
# The linear teacher's mean rate is at least this many of its standard deviations above 0, so the floor at
# 0 (counts cannot be negative) cuts few responses (a few percent of natural images: their filter outputs
# are heavy-tailed) and the teacher stays linear.
LINEAR_MEAN_IN_SDS = 2.5


@dataclass
class V1Population:
    """All parameters of a simulated population. Per-neuron arrays are ``(neurons,)``.

    Attributes:
        image_size: side of the square pixel grid the receptive fields live on.
        field_of_view_deg: visual angle spanned by that grid; ``pixels_per_degree = image_size / fov``.
        fano: Fano factor of the spike counts (1 = Poisson).
        pool_orientations, pool_scale: normalization pool (see ``ResponseSpec``).
        session: session index of each neuron (int64); neurons of a session are contiguous.
        is_complex: True for complex cells.
        x_deg, y_deg: receptive-field centre relative to the image centre (degrees; y grows downwards).
        orientation_deg: direction of the carrier's wave vector, [0, 180).
        sf_cpd: preferred spatial frequency, cycles/degree.
        nx, ny: envelope widths across / along the bars, in carrier cycles (Ringach 2002).
        phase_deg: carrier phase of the simple-cell filter.
        semisat: semi-saturation constant (squared filter-output units).
        gain: multiplies the normalized drive; spike counts per unit normalized drive.
        spont: spontaneous count per trial (the offset of the ``linear`` response model).
        response_model: ``normalized`` (the model above), ``energy`` or ``linear`` (ablation teachers).
    """

    image_size: int
    field_of_view_deg: float
    fano: float
    pool_orientations: int
    pool_scale: float
    session: np.ndarray
    is_complex: np.ndarray
    x_deg: np.ndarray
    y_deg: np.ndarray
    orientation_deg: np.ndarray
    sf_cpd: np.ndarray
    nx: np.ndarray
    ny: np.ndarray
    phase_deg: np.ndarray
    semisat: np.ndarray
    gain: np.ndarray
    spont: np.ndarray
    response_model: str = "normalized"
    _weights: np.ndarray | None = field(default=None, init=False, repr=False, compare=False)

    SCALARS = ("image_size", "field_of_view_deg", "fano", "pool_orientations", "pool_scale", "response_model")

    @property
    def n_neurons(self) -> int:
        return int(self.session.shape[0])

    @property
    def pixels_per_degree(self) -> float:
        return self.image_size / self.field_of_view_deg

    @property
    def sigma_x_deg(self) -> np.ndarray:
        return self.nx / self.sf_cpd

    @property
    def sigma_y_deg(self) -> np.ndarray:
        return self.ny / self.sf_cpd

    @classmethod
    def sample(
        cls,
        neurons_per_session: int,
        sessions: int,
        image_size: int,
        field_of_view_deg: float,
        fano: float,
        rng: np.random.Generator,
        calibration_images: np.ndarray,
        tuning: TuningSpec | None = None,
        response: ResponseSpec | None = None,
        ablation: str = "full",
    ) -> V1Population:
        """Sample a population and calibrate it on ``calibration_images`` ``(n, image_size, image_size)``.

        ``tuning`` and ``response`` default to ``TuningSpec()`` and ``ResponseSpec()``. ``ablation`` changes
        one property (``v1mtl.simulator.ablations``); the random numbers drawn are the same for every
        ablation, so the populations of one seed differ only in that property.
        """
        tuning = tuning or TuningSpec()
        response = response or ResponseSpec()
        if fano < 1:
            raise ValueError(f"fano must be >= 1 (Poisson or overdispersed), got {fano}")
        n = neurons_per_session * sessions
        ppd = image_size / field_of_view_deg
        t = ablate_tuning(sample_tuning(n, rng, ppd, tuning), ablation, tuning.max_sf_cycles_per_pixel * ppd)
        pop = cls(
            image_size=int(image_size),
            field_of_view_deg=float(field_of_view_deg),
            fano=float(fano),
            pool_orientations=int(response.pool_orientations),
            pool_scale=float(response.pool_scale),
            session=np.repeat(np.arange(sessions, dtype=np.int64), neurons_per_session),
            is_complex=t["is_complex"],
            x_deg=t["x_deg"],
            y_deg=t["y_deg"],
            orientation_deg=t["orientation_deg"],
            sf_cpd=t["sf_cpd"],
            nx=t["nx"],
            ny=t["ny"],
            phase_deg=t["phase_deg"],
            semisat=np.ones(n),
            gain=np.ones(n),
            spont=np.zeros(n),
            response_model=response_model(ablation),
        )
        linear, drive, pool = pop._filter_responses(pop._on_grid(calibration_images))
        pop.semisat = np.median(pool, axis=0) * _lognormal(
            response.semisat_median, response.semisat_log_sd, n, rng
        )
        normalized = drive / (pop.semisat + pool)
        target = _lognormal(response.mean_count_median, response.mean_count_log_sd, n, rng)
        pop.gain = target / np.maximum(normalized.mean(axis=0), 1e-12)
        pop.spont = _lognormal(response.spont_median, response.spont_log_sd, n, rng)
        if pop.response_model == "energy":
            # the same mean evoked count as the normalized neuron
            pop.gain = target / np.maximum(drive.mean(axis=0), 1e-12)
        elif pop.response_model == "linear":
            # the normalized neuron's standard deviation, around a mean high enough to keep the floor at 0 rare
            full = pop.spont + pop.gain * normalized
            sd = full.std(axis=0)
            pop.gain = sd / np.maximum(linear.std(axis=0), 1e-12)
            mean = np.maximum(full.mean(axis=0), LINEAR_MEAN_IN_SDS * sd)
            pop.spont = mean - pop.gain * linear.mean(axis=0)
        return pop

    def rates(self, images: np.ndarray, batch_size: int = 1024, progress: bool = False) -> np.ndarray:
        """Noise-free expected counts: ``(n, h, w)`` grayscale images in [0, 1] (or uint8) -> ``(n, neurons)``.

        Images of another size are resampled (antialiased bilinear) to the simulator's square grid, i.e. any
        square stimulus is taken to span the same ``field_of_view_deg``; non-square images are refused.
        """
        grid = self._on_grid(images)
        out = np.empty((grid.shape[0], self.n_neurons), dtype=np.float64)
        starts = range(0, grid.shape[0], batch_size)
        for start in tqdm(starts, desc="V1 rates", unit="batch", disable=bar_disabled(progress)):
            linear, drive, pool = self._filter_responses(grid[start : start + batch_size])
            if self.response_model == "normalized":
                rates = self.spont + self.gain * drive / (self.semisat + pool)
            elif self.response_model == "energy":
                rates = self.spont + self.gain * drive
            else:
                rates = np.maximum(self.spont + self.gain * linear, 0.0)
            out[start : start + batch_size] = rates
        return out

    def sample_counts(self, rates: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Spike counts with mean ``rates`` and variance ``fano * rates``: any shape in, same shape out (float32)."""
        rates = np.asarray(rates, dtype=np.float64)
        if self.fano > 1:
            lam = rng.gamma(shape=np.maximum(rates, 1e-12) / (self.fano - 1), scale=self.fano - 1)
        else:
            lam = rates
        return rng.poisson(lam).astype(np.float32)

    def save(self, path: str | Path) -> None:
        """Write the population as one ``.npz`` (arrays plus a JSON header), atomically."""
        arrays = {
            f.name: getattr(self, f.name) for f in fields(self) if f.init and f.name not in self.SCALARS
        }
        header = {name: getattr(self, name) for name in self.SCALARS} | {"format_version": FORMAT_VERSION}
        with atomic_open(path, "wb") as fh:
            np.savez(fh, header=np.array(json.dumps(header)), **arrays)

    @classmethod
    def load(cls, path: str | Path) -> V1Population:
        """Read a population written by ``save``."""
        with np.load(path, allow_pickle=False) as z:
            header = json.loads(str(z["header"]))
            if header.get("format_version") != FORMAT_VERSION:
                raise InputError(
                    f"unsupported version {header.get('format_version')!r} (this reader knows {FORMAT_VERSION})",
                    path=path,
                    field="format_version",
                )
            arrays = {f.name: z[f.name] for f in fields(cls) if f.init and f.name not in cls.SCALARS}
        # populations saved before the ablation teachers existed are the normalized model
        header.setdefault("response_model", "normalized")
        if header["response_model"] not in RESPONSE_MODELS:
            raise InputError(
                f"unknown response model {header['response_model']!r}; expected one of {RESPONSE_MODELS}",
                path=path,
                field="response_model",
            )
        return cls(**{name: header[name] for name in cls.SCALARS}, **arrays)

    def _on_grid(self, images: np.ndarray) -> np.ndarray:
        """``(n, h, w)`` -> ``(n, image_size * image_size)`` float32 in [0, 1] on the simulator's grid."""
        images = np.asarray(images)
        if images.ndim != 3 or images.shape[1] != images.shape[2]:
            raise ValueError(f"images must be (n, size, size) grayscale, got shape {images.shape}")
        scale = 1.0 / 255.0 if images.dtype == np.uint8 else 1.0
        images = images.astype(np.float32) * scale
        if images.shape[1] != self.image_size:
            size = (self.image_size, self.image_size)
            images = np.stack(
                [
                    np.asarray(Image.fromarray(im, mode="F").resize(size, Image.Resampling.BILINEAR))
                    for im in images
                ]
            )
        return images.reshape(images.shape[0], -1)

    def _filter_responses(self, flat_images: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(n, pixels)`` -> the linear filter output ``L1``, the drive ``D`` and the pool energy ``P``, each
        ``(n, neurons)`` float64."""
        w = self._filter_matrix()
        out = (flat_images @ w).astype(np.float64)
        n = self.n_neurons
        k = self.pool_orientations
        l1, l2 = out[:, :n], out[:, n : 2 * n]
        drive = np.where(self.is_complex, l1**2 + l2**2, np.maximum(l1, 0.0) ** 2)
        pool_out = out[:, 2 * n :].reshape(out.shape[0], k, 2, n)
        pool = (pool_out**2).sum(axis=2).mean(axis=1)
        return l1, drive, pool

    def _filter_matrix(self) -> np.ndarray:
        """``(pixels, neurons * (2 + 2 K))`` float32: the quadrature pairs, then K pool pairs per orientation."""
        if self._weights is not None:
            return self._weights
        n, k = self.n_neurons, self.pool_orientations
        own_phase = np.concatenate([self.phase_deg, self.phase_deg + 90.0])
        pool_sigma = self.pool_scale * np.sqrt(self.sigma_x_deg * self.sigma_y_deg)
        pool_ori = self.orientation_deg[None, :] + 180.0 * np.arange(k)[:, None] / k  # (K, n)
        pool_ori = np.repeat(pool_ori[:, None, :], 2, axis=1).ravel()  # (K, 2, n) flattened
        pool_phase = np.tile(np.concatenate([np.zeros(n), np.full(n, 90.0)]), k)
        reps = 2 + 2 * k
        bank = gabor_bank(
            self.image_size,
            self.pixels_per_degree,
            x0_deg=np.tile(self.x_deg, reps),
            y0_deg=np.tile(self.y_deg, reps),
            orientation_deg=np.concatenate([self.orientation_deg, self.orientation_deg, pool_ori]),
            sf_cpd=np.tile(self.sf_cpd, reps),
            sigma_x_deg=np.concatenate([np.tile(self.sigma_x_deg, 2), np.tile(pool_sigma, 2 * k)]),
            sigma_y_deg=np.concatenate([np.tile(self.sigma_y_deg, 2), np.tile(pool_sigma, 2 * k)]),
            phase_deg=np.concatenate([own_phase, pool_phase]),
        )
        self._weights = np.ascontiguousarray(bank.reshape(bank.shape[0], -1).T)
        return self._weights


def _lognormal(median: float, log_sd: float, n: int, rng: np.random.Generator) -> np.ndarray:
    return median * np.exp(log_sd * rng.standard_normal(n))
