"""Whether a readout fit worked, from what every fit records: its history and the size of its predictions.

A fit failed (issue 18: a diverged readout gave a FEVE of -1e16, and the mean over neurons carried it into a
study's report) when
- a training loss was not finite;
- its predictions, on the validation and test images, reach more than ``PREDICTION_FACTOR`` times the
  largest recorded response (a Poisson readout that predicts rates no trial came near has diverged);
- its best validation correlation is not above the one before training (epoch 0): the weights it hands on
  are the untrained ones, or no better.
These rules and the factor 10 are v1mtl's choice, not the reference's (its trainers have no such check).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

# how far beyond the largest recorded response a prediction may go before the fit counts as diverged
PREDICTION_FACTOR = 10.0


def _non_finite_loss(history: Sequence[dict[str, Any]]) -> str | None:
    for record in history:
        loss = record.get("train_loss")
        if loss is not None and not math.isfinite(loss):
            return f"non-finite training loss in epoch {record['epoch']}"
    return None


def _exploded(prediction_peak: float, response_peak: float) -> str | None:
    if not math.isfinite(prediction_peak):
        return "non-finite predictions"
    if prediction_peak > PREDICTION_FACTOR * response_peak:
        return (
            f"predictions reach {prediction_peak:.3g}, more than {PREDICTION_FACTOR:g}x the largest "
            f"response ({response_peak:.3g})"
        )
    return None


def _no_progress(history: Sequence[dict[str, Any]]) -> str | None:
    start = history[0]["val_corr"] if history else float("nan")
    trained = [r["val_corr"] for r in history[1:] if r.get("val_corr") is not None]
    finite = [v for v in trained if math.isfinite(v)]
    if not finite:
        return "no finite validation correlation after training"
    best = max(finite)
    if math.isfinite(start) and best <= start:
        return f"best validation correlation {best:.4f} is not above its start {start:.4f} (epoch 0)"
    return None


def fit_failure(
    history: Sequence[dict[str, Any]], prediction_peak: float, response_peak: float
) -> str | None:
    """Why the fit failed, in a sentence, or None when it did not.

    Args:
        history: the fit's per-epoch records (``metrics.jsonl``): epoch 0 holds ``val_corr`` before
            training, later epochs ``train_loss`` and ``val_corr``.
        prediction_peak: the largest absolute prediction over the validation and test images.
        response_peak: the largest recorded response of the dataset.
    """
    return _non_finite_loss(history) or _exploded(prediction_peak, response_peak) or _no_progress(history)


def failure_words(summary: dict[str, Any]) -> str | None:
    """``failed after N attempts: <reason>`` for a summary whose ``status`` is ``failed``, else None (a summary
    written before fits had a status counts as ok)."""
    if summary.get("status") != "failed":
        return None
    n = len(summary.get("attempts") or [None])
    return f"failed after {n} attempt{'s' if n != 1 else ''}: {summary.get('failure')}"


def number(value: float | None, digits: int = 3) -> str:
    """A summary value for a console line: ``–`` where there is none (no reliable neuron, say)."""
    return "–" if value is None or not math.isfinite(value) else f"{value:.{digits}f}"
