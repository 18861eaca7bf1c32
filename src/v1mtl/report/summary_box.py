"""The box a report opens with: each claim's verdict in one sentence, accuracy beside chance, FEVE beside the
V1 model's own, and a warning box when the study cannot answer (one seed, under-trained runs, a neural fit
too weak to transfer anything), naming the preset that could.
"""

from __future__ import annotations

import numpy as np

from v1mtl.common.stats import t_mean
from v1mtl.report.claims import Claim
from v1mtl.report.collect import RunResult
from v1mtl.report.document import Box

# The neural fit this project asks of every MTL network before its robustness is read (docs/training.md).
NEURAL_FIT_TARGET = 0.8
# Presets that answer with more seeds, by the kind of classification data (docs/study.md).
MORE_SEEDS = {"builtin": ("builtin-full", 5), "other": ("paper", 3)}


def _percent(values: list[float]) -> str:
    est = t_mean(np.array(values, dtype=float))
    if not np.isfinite(est.value):
        return "–"
    if not np.isfinite(est.ci_low):
        return f"{100 * est.value:.1f}%"
    return f"{100 * est.value:.1f}% [{100 * est.ci_low:.1f}, {100 * est.ci_high:.1f}]"


def _by_condition(runs: list[RunResult], conditions: list[str], attr: str, fmt) -> str:
    parts = []
    for c in conditions:
        values = [getattr(r, attr) for r in runs if r.condition == c]
        if any(np.isfinite(values)):
            parts.append(f"{c} {fmt(values)}")
    return ", ".join(parts)


def _feve(values: list[float]) -> str:
    return f"{np.nanmean(values):.3f}"


def summary_box(
    claims: list[Claim], runs: list[RunResult], conditions: list[str], v1_model_feve: float | None
) -> Box:
    """Per claim its verdict in a sentence; then clean accuracy against chance and FEVE against the V1 model."""
    items = [f"Claim {c.number} ({c.statement}): {c.sentence()}" for c in claims]
    classes = max((r.n_classes for r in runs), default=0)
    chance = f"chance {100 / classes:.1f}% with {classes} classes" if classes else "chance level not recorded"
    accuracy = _by_condition(runs, conditions, "clean_accuracy", _percent)
    if accuracy:
        items.append(f"Clean accuracy ({chance}; mean over seeds [95% interval]): {accuracy}.")
    feve = _by_condition(runs, conditions, "predictivity", _feve)
    if feve:
        ceiling = (
            f"; the V1 model that made the targets reaches {v1_model_feve:.3f}"
            if v1_model_feve is not None and np.isfinite(v1_model_feve)
            else ""
        )
        items.append(
            f"V1 predictivity (FEVE: the share of the explainable variance predicted, 1 = the noise ceiling): "
            f"{feve}{ceiling}."
        )
    return Box("The answer", items)


def _answering_preset(data_source: str, seeds: int) -> str | None:
    name, n = MORE_SEEDS["builtin" if data_source == "builtin" else "other"]
    return name if seeds < n else None


def warning_box(runs: list[RunResult], claims: list[Claim], data_source: str) -> Box | None:
    """What keeps this study from answering, and what would; None when nothing does."""
    items = []
    seeds = len({r.seed for r in runs})
    preset = _answering_preset(data_source, seeds)
    if seeds < 2:
        items.append("One seed: there is no interval over seeds, so no claim can be decided.")
    elif claims and claims[0].verdict == "not established":
        items.append(f"With {seeds} seeds the interval of claim 1 is too wide to decide it.")
    if items and preset:
        items[-1] += f" The '{preset}' preset (more seeds) is the one that can answer it."
    flagged = [r.name for r in runs if r.under_trained]
    if flagged:
        items.append(
            f"{len(flagged)} of {len(runs)} runs were still improving when training stopped "
            f"({', '.join(flagged)}): raise schedule.max_epochs; their numbers describe unfinished networks."
        )
    fits = [r.val_neural_corr for r in runs if r.condition == "mtl" and np.isfinite(r.val_neural_corr)]
    if fits and min(fits) < NEURAL_FIT_TARGET:
        items.append(
            f"An MTL network fits its neural targets to a validation correlation of only {min(fits):.3f} "
            f"(this project asks {NEURAL_FIT_TARGET}): a trunk that barely learns the V1 task cannot inherit its bias."
        )
    return Box("this study cannot answer everything", items, kind="warning") if items else None
