"""``v1mtl data inspect`` for V1 datasets: counts, NaN fraction and explainable variance as one dict."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from v1mtl.data.neural.io import detect_v1_format, read_v1
from v1mtl.data.neural.nwb import NwbOptions
from v1mtl.data.neural.recordings import V1Dataset

EV_THRESHOLD = 0.15


def detect_neural_format(path: str | Path) -> str | None:
    """The V1 format of ``path`` (``native``, ``cadena2019``, ``nnvision``, ``nwb``) or None."""
    return detect_v1_format(path)


def inspect_neural(
    path: str | Path, fmt: str | None, max_elements: int | None = None, nwb: NwbOptions | None = None
) -> dict[str, Any]:
    """Read the dataset at ``path`` (``read_v1``'s ``max_elements`` and ``nwb``) and summarize it (``summarize``)."""
    dataset = read_v1(path, fmt, max_elements, nwb)
    return summarize(dataset, fmt or detect_v1_format(path) or "unknown")


def summarize(dataset: V1Dataset, fmt: str) -> dict[str, Any]:
    """JSON-ready summary of a dataset.

    ``nan_fraction`` is the share of NaN entries over all training and test response values.
    ``explainable_variance`` is computed per neuron from each session's test repeats
    (``v1mtl.common.measures.explainable_variance``); its median and the fraction of neurons above 0.15 are taken
    over neurons with a defined value (``n_neurons`` says how many).
    """
    from v1mtl.common.measures import explainable_variance

    n_nan = 0
    n_values = 0
    ev_parts = []
    sessions = []
    for s in dataset.sessions:
        for arr in (s.train_responses, s.test_responses):
            n_nan += int(np.isnan(arr).sum())
            n_values += int(arr.size)
        if s.n_test_images and s.n_repeats:
            ev_parts.append(explainable_variance(np.asarray(s.test_responses)))
        sessions.append(
            {
                "id": s.session_id,
                "subject": s.subject_id,
                "n_neurons": s.n_neurons,
                "n_train_trials": s.n_train_trials,
                "n_test_images": s.n_test_images,
                "n_repeats": s.n_repeats,
            }
        )
    ev = np.concatenate(ev_parts) if ev_parts else np.zeros(0)
    ev = ev[np.isfinite(ev)]
    return {
        "format": fmt,
        "n_images": int(dataset.images.shape[0]),
        "image_shape": list(dataset.image_shape),
        "image_dtype": str(dataset.images.dtype),
        "pixels_per_degree": dataset.pixels_per_degree,
        "n_neurons_total": dataset.n_neurons,
        "nan_fraction": n_nan / n_values if n_values else 0.0,
        "sessions": sessions,
        "explainable_variance": {
            "median": float(np.median(ev)) if len(ev) else None,
            f"fraction_above_{EV_THRESHOLD}": float(np.mean(ev > EV_THRESHOLD)) if len(ev) else None,
            "n_neurons": int(len(ev)),
        },
    }
