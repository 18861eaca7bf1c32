"""Did a run train to convergence? A check of the validation-accuracy curve, written into ``final.json``.

A run is **under-trained** when it ended because it reached ``max_epochs`` (early stopping did not end it)
and its validation accuracy was still rising over its last epochs: the best accuracy of the last ``window``
epochs exceeds the best of all earlier epochs (the untrained network's score included) by more than
``2 * sqrt(p (1 - p) / n)``, twice the binomial standard error of an accuracy ``p`` measured on ``n``
validation images. ``window`` is a tenth of the epochs trained, at least 2. A run that early stopping ended
met the reference's own criterion (no improvement for ``patience + 1`` epochs) and is not flagged.

Under a one-cycle schedule the last tenth of the steps runs at a few percent of the peak learning rate, so
a gain there larger than noise means the schedule was too short for the run to settle.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

MIN_WINDOW = 2
WINDOW_FRACTION = 0.1


def convergence(
    val_accuracy: Sequence[float], initial: float, n_val: int, stopped_early: bool
) -> dict[str, Any]:
    """The check above for the per-epoch validation accuracies ``val_accuracy`` (epochs 1..E).

    Returns ``{"under_trained", "stopped_early", "window", "recent_gain", "noise"}``; ``recent_gain`` is
    the best of the last ``window`` epochs minus the best before them, ``noise`` the threshold it is
    compared with (None when there are too few epochs to tell, which counts as under-trained unless the
    run stopped early).
    """
    scores = [float(v) for v in val_accuracy]
    window = max(MIN_WINDOW, math.ceil(WINDOW_FRACTION * len(scores)))
    result: dict[str, Any] = {"stopped_early": bool(stopped_early), "window": window}
    if len(scores) <= window:
        result |= {"recent_gain": None, "noise": None, "under_trained": not stopped_early}
        return result
    before = max([float(initial), *scores[:-window]])
    recent = max(scores[-window:])
    best = max(before, recent)
    noise = 2 * math.sqrt(max(best * (1 - best), 0.0) / max(n_val, 1))
    gain = recent - before
    result |= {"recent_gain": gain, "noise": noise, "under_trained": (not stopped_early) and gain > noise}
    return result
