"""How the batches of the two tasks interleave in one epoch (the reference's ``MTL_Cycler``).

Reference (sinzlab/neural_cotraining ``trainer/cyclers.py``): for every
classification batch, first ``ratio`` neural batches, the sessions visited round-robin; then the
classification batch. Every batch is backpropagated as it arrives and the optimizer steps once, after the
classification batch, so one step accumulates the gradients of ``ratio`` neural batches and one
classification batch. With ``ratio < 1`` one neural batch comes every ``1 / ratio`` classification batches.
The session cycle starts again with the first session every epoch, as the reference builds a new cycler per
epoch.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

# Guards floor() against round-off for ratios such as 0.1 * 10.
_EPS = 1e-9


@dataclass(frozen=True)
class Step:
    """One optimizer step: the neural sessions whose batches come first, in order, then one classification
    batch."""

    neural_sessions: tuple[str, ...]


def neural_batches_before(index: int, ratio: float) -> int:
    """Number of neural batches before classification batch ``index`` (0-based) of an epoch.

    ``floor((index + 1) * ratio) - floor(index * ratio)``: exactly ``ratio`` for an integer ratio, and over
    ``n`` classification batches ``floor(n * ratio)`` in total for any ratio.
    """
    if ratio < 0:
        raise ValueError(f"ratio must be >= 0, got {ratio}")
    return math.floor((index + 1) * ratio + _EPS) - math.floor(index * ratio + _EPS)


def interleave(n_classification: int, sessions: Sequence[str], ratio: float) -> Iterator[Step]:
    """The steps of one epoch with ``n_classification`` classification batches.

    Sessions are visited round-robin across the whole epoch; with no sessions every step has only its
    classification batch.
    """
    position = 0
    for index in range(n_classification):
        k = neural_batches_before(index, ratio) if sessions else 0
        chosen = tuple(sessions[(position + j) % len(sessions)] for j in range(k))
        position += k
        yield Step(chosen)
