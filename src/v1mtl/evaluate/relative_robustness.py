"""The relative robustness score of Safarani et al. 2021: a network's corruption accuracy over the Baseline's.

Definition (the score the paper's figures plot as "Robustness Score [%]", with the Baseline at 100; the
authors' figure code is sinzlab/nntransfer ``bias_transfer/analysis/plot_shahd.py`` @65afe93, which reads
the per-model scores and groups corruptions into families by averaging their scores): for a network ``f``
and the Baseline ``b`` trained with the same seed, on the same test images,

- per condition: ``r(c, s) = acc(f, c, s) / acc(b, c, s)``;
- per corruption: ``100 * mean_s r(c, s)``;
- per family (``FAMILIES``, the grouping of Hendrycks & Dietterich 2019, ICLR): the mean of its
  corruptions' scores;
- overall: ``100 * mean_{c, s} r(c, s)``, over every corruption and severity measured.

Above 100 = more robust than the Baseline. The Gaussian-noise sweep gets the same score over its noise
levels (std > 0). A condition where the Baseline's accuracy is 0 gives no ratio and is left out. Rows are
compared within one protocol (source, preset, JPEG round trip, space).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from v1mtl.common.errors import InputError
from v1mtl.evaluate.robustness_table import CLEAN, GAUSSIAN_SWEEP, RobustnessRow

FAMILIES: dict[str, tuple[str, ...]] = {
    "noise": ("gaussian_noise", "shot_noise", "impulse_noise", "speckle_noise"),
    "blur": ("defocus_blur", "glass_blur", "motion_blur", "zoom_blur", "gaussian_blur"),
    "weather": ("snow", "frost", "fog", "brightness", "spatter"),
    "digital": ("contrast", "elastic_transform", "pixelate", "jpeg_compression", "saturate"),
}
FAMILY_OF = {c: family for family, members in FAMILIES.items() for c in members}


@dataclass(frozen=True)
class RelativeRobustness:
    """One network's scores against its Baseline, in percent (Baseline = 100).

    Attributes:
        overall: mean over all corruption x severity ratios, x 100.
        per_corruption: corruption -> mean over its severities, x 100.
        per_family: family -> mean of its corruptions' scores.
        n_conditions: ratios averaged in ``overall``.
    """

    overall: float
    per_corruption: dict[str, float] = field(default_factory=dict)
    per_family: dict[str, float] = field(default_factory=dict)
    n_conditions: int = 0


def _accuracies(
    rows: Sequence[RobustnessRow], corrupted: bool
) -> dict[tuple, dict[tuple[str, float], float]]:
    """protocol -> (corruption, severity) -> accuracy, for corrupted (``s > 0``) or sweep rows."""
    out: dict[tuple, dict[tuple[str, float], float]] = {}
    for r in rows:
        is_sweep = r.corruption == GAUSSIAN_SWEEP
        if r.corruption == CLEAN or r.severity <= 0 or is_sweep == corrupted:
            continue
        out.setdefault(r.protocol, {})[(r.corruption, float(r.severity))] = r.accuracy
    return out


def _ratios(rows: Sequence[RobustnessRow], baseline: Sequence[RobustnessRow], corrupted: bool) -> dict:
    mine, ref = _accuracies(rows, corrupted), _accuracies(baseline, corrupted)
    if len(mine) > 1:
        raise InputError(f"the rows mix {len(mine)} protocols; score one protocol at a time", field="source")
    ratios: dict[tuple[str, float], float] = {}
    for protocol, accs in mine.items():
        ref_accs = ref.get(protocol)
        if ref_accs is None:
            raise InputError(f"the Baseline has no rows of protocol {protocol}", field="source")
        missing = sorted(set(accs) - set(ref_accs))
        if missing:
            raise InputError(
                f"the Baseline lacks {missing[0][0]} at severity {missing[0][1]:g}", field="severity"
            )
        for key, acc in accs.items():
            if ref_accs[key] > 0:
                ratios[key] = acc / ref_accs[key]
    return ratios


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else math.nan


def relative_robustness(
    rows: Sequence[RobustnessRow], baseline: Sequence[RobustnessRow]
) -> RelativeRobustness:
    """Scores of ``rows`` (one network's corruption grid) against ``baseline`` (its Baseline's rows)."""
    ratios = _ratios(rows, baseline, corrupted=True)
    by_corruption: dict[str, list[float]] = {}
    for (corruption, _), ratio in ratios.items():
        by_corruption.setdefault(corruption, []).append(ratio)
    per_corruption = {c: 100 * _mean(v) for c, v in by_corruption.items()}
    by_family: dict[str, list[float]] = {}
    for corruption, value in per_corruption.items():
        if corruption in FAMILY_OF:
            by_family.setdefault(FAMILY_OF[corruption], []).append(value)
    per_family = {f: _mean(by_family[f]) for f in FAMILIES if f in by_family}
    return RelativeRobustness(100 * _mean(list(ratios.values())), per_corruption, per_family, len(ratios))


def relative_sweep(rows: Sequence[RobustnessRow], baseline: Sequence[RobustnessRow]) -> float:
    """The same score over the Gaussian-noise sweep's noise levels (std > 0), in percent."""
    return 100 * _mean(list(_ratios(rows, baseline, corrupted=False).values()))


def mean_sweep_accuracy(rows: Sequence[RobustnessRow]) -> float:
    """Mean accuracy over the Gaussian sweep's noise levels (std > 0)."""
    return _mean([r.accuracy for r in rows if r.corruption == GAUSSIAN_SWEEP and r.severity > 0])
