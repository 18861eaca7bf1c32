"""Tuning parameters of simulated macaque V1 neurons, sampled from published distributions.

Sources (the histogram values are the ones tabulated from these papers by Dapello et al. 2020, NeurIPS,
"Simulating a primary visual cortex at the front of CNNs improves robustness to image perturbations",
``vonenet/params.py``):
- Preferred orientation: De Valois, Yund & Hepler 1982, Vision Res 22:531 (foveal/parafoveal macaque V1),
  counts 66, 49, 77, 54 in 45-degree bins centred on 0, 45, 90, 135 degrees (more cells near the cardinals).
- Preferred spatial frequency: De Valois, Albrecht & Thorell 1982, Vision Res 22:545, counts 4, 4, 8, 25,
  32, 26, 28, 12, 8 in bins with edges 0.5, 0.7, 1.0, 1.4, 2.0, 2.8, 4.0, 5.6, 8.0, 11.2 cycles/degree
  (half-octave bins; median near 2.5-3 c/deg).
- Receptive-field size and shape: Ringach 2002, J Neurophysiol 88:455, the joint histogram of ``nx``
  (envelope width across the bars, in carrier cycles) and ``ny`` (along the bars) over log-spaced bins from
  0.1 to 10**0.2. SF and orientation bandwidths follow from ``nx`` and ``ny`` (see ``v1mtl.simulator.gabor``);
  the resulting medians (about 1.6 octaves; about 24 degrees half-width at half height) are close to the
  medians reported for macaque V1 by De Valois, Albrecht & Thorell 1982 (SF bandwidth roughly 1.4 octaves)
  and De Valois, Yund & Hepler 1982 (orientation bandwidth roughly 40 degrees full width).
- Spatial phase: uniform on [0, 360) degrees (Ringach 2002 finds no preferred symmetry of simple-cell
  receptive fields, contrary to a strict even/odd dichotomy).
- Simple vs complex: both classes are common in macaque V1 (Hubel & Wiesel 1968; Schiller, Finlay & Volman
  1976, J Neurophysiol 39:1288; De Valois, Albrecht & Thorell 1982). The fraction of simple cells depends
  on the criterion and layer; with the F1/F0 > 1 criterion about 40 % of cells are simple (Ringach,
  Shapley & Hawken 2002, J Neurosci 22:5639). Default ``simple_fraction = 0.4``.
- Receptive-field positions: an array or multi-electrode recording samples neighbouring neurons whose
  receptive fields scatter by a fraction of a degree around a common centre (Cadena et al. 2019, PLoS
  Comput Biol, placed the stimulus on the population receptive field of a 32-channel probe). Positions are
  Gaussian around the stimulus centre with ``position_sd_deg`` per axis, truncated at ``max_offset_deg``.
"""

from __future__ import annotations

import numpy as np

from v1mtl.simulator.config import TuningSpec

ORIENTATION_BIN_EDGES_DEG = np.array([-22.5, 22.5, 67.5, 112.5, 157.5])
ORIENTATION_COUNTS = np.array([66, 49, 77, 54], dtype=np.float64)

SF_BIN_EDGES_CPD = np.array([0.5, 0.7, 1.0, 1.4, 2.0, 2.8, 4.0, 5.6, 8.0, 11.2])
SF_COUNTS = np.array([4, 4, 8, 25, 32, 26, 28, 12, 8], dtype=np.float64)

NXY_BIN_EDGES = np.logspace(-1, 0.2, 6)
# Rows: nx bins; columns: ny bins (Ringach 2002, as tabulated by Dapello et al. 2020).
NXY_JOINT_COUNTS = np.array(
    [
        [2.0, 0.0, 1.0, 0.0, 0.0],
        [8.0, 9.0, 4.0, 1.0, 0.0],
        [1.0, 2.0, 19.0, 17.0, 3.0],
        [0.0, 0.0, 1.0, 7.0, 4.0],
        [0.0, 0.0, 0.0, 0.0, 0.0],
    ]
)


def sample_tuning(
    n: int, rng: np.random.Generator, pixels_per_degree: float, spec: TuningSpec
) -> dict[str, np.ndarray]:
    """Sample tuning for ``n`` neurons; returns ``(n,)`` arrays.

    Keys: ``is_complex`` (bool), ``x_deg``, ``y_deg`` (RF centre relative to the stimulus centre; y down),
    ``orientation_deg`` in [0, 180), ``sf_cpd``, ``nx``, ``ny``, ``phase_deg`` in [0, 360).
    """
    is_complex = rng.random(n) >= spec.simple_fraction
    orientation = np.mod(
        _from_histogram(ORIENTATION_BIN_EDGES_DEG, ORIENTATION_COUNTS, n, rng, log=False), 180.0
    )
    max_sf = spec.max_sf_cycles_per_pixel * pixels_per_degree
    sf = _from_histogram(SF_BIN_EDGES_CPD, SF_COUNTS, n, rng, log=True)
    while (too_high := sf > max_sf).any():
        if max_sf <= SF_BIN_EDGES_CPD[0]:
            raise ValueError(f"pixel grid too coarse: max SF {max_sf:.2f} c/deg is below the lowest SF bin")
        sf[too_high] = _from_histogram(SF_BIN_EDGES_CPD, SF_COUNTS, int(too_high.sum()), rng, log=True)
    nx, ny = _nxy_joint(n, rng)
    x = _truncated_normal(n, spec.position_sd_deg, spec.max_offset_deg, rng)
    y = _truncated_normal(n, spec.position_sd_deg, spec.max_offset_deg, rng)
    phase = rng.uniform(0.0, 360.0, n)
    return {
        "is_complex": is_complex,
        "x_deg": x,
        "y_deg": y,
        "orientation_deg": orientation,
        "sf_cpd": sf,
        "nx": nx,
        "ny": ny,
        "phase_deg": phase,
    }


def _from_histogram(
    edges: np.ndarray, counts: np.ndarray, n: int, rng: np.random.Generator, log: bool
) -> np.ndarray:
    """Draw a bin with probability proportional to its count, then a value uniform within it (in log if asked)."""
    bins = rng.choice(len(counts), size=n, p=counts / counts.sum())
    lo, hi = edges[bins], edges[bins + 1]
    u = rng.random(n)
    if log:
        return np.exp(np.log(lo) + u * (np.log(hi) - np.log(lo)))
    return lo + u * (hi - lo)


def _nxy_joint(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    p = NXY_JOINT_COUNTS.ravel() / NXY_JOINT_COUNTS.sum()
    cells = rng.choice(p.size, size=n, p=p)
    ix, iy = np.unravel_index(cells, NXY_JOINT_COUNTS.shape)
    log_edges = np.log(NXY_BIN_EDGES)
    nx = np.exp(log_edges[ix] + rng.random(n) * (log_edges[ix + 1] - log_edges[ix]))
    ny = np.exp(log_edges[iy] + rng.random(n) * (log_edges[iy + 1] - log_edges[iy]))
    return nx, ny


def _truncated_normal(n: int, sd: float, bound: float, rng: np.random.Generator) -> np.ndarray:
    out = rng.normal(0.0, sd, n)
    while (outside := np.abs(out) > bound).any():
        out[outside] = rng.normal(0.0, sd, int(outside.sum()))
    return out
