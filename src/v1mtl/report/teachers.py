"""Which V1 property transfers: one row per ablation teacher and per other way of adding a V1 bias.

A study with ``teachers`` trains MTL once per simulator ablation (one step each, ``StudyConfig.teachers``);
the networks that read no V1 data (the Baseline, ``vone``, ``pixel-similarity``) are shared by every step,
so every row is paired by seed with the same Baseline. Per row: the network's fit to its own targets
(validation correlation), clean accuracy and its difference from the Baseline, and the relative robustness
score minus the Baseline's 100, overall and per corruption family (Hendrycks & Dietterich 2019). For each
ablation teacher, also its overall score minus that of the first teacher (``full``), paired by seed: the
part of MTL's effect that the ablated property carries. Estimates are means over seeds with a 95% Student-t
interval (none with one seed).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from v1mtl.common import figure_style as style
from v1mtl.common.stats import Estimate, t_mean
from v1mtl.common.tables import write_csv as write_table
from v1mtl.evaluate.relative_robustness import FAMILIES
from v1mtl.report.collect import RunResult

SCOPES = ("overall", *FAMILIES)
# conditions that co-train on the teacher's V1 targets: one row per teacher
TEACHER_CONDITION = "mtl"
PIXEL_CONTROL = "pixel-similarity"


@dataclass(frozen=True)
class TeacherRow:
    """One teacher (the MTL networks of its step) or one other condition of the first step.

    Attributes:
        name: the teacher (``full``, ``low-sf``, ...) or the condition's label.
        condition: ``mtl`` for a teacher, else the condition.
        fit: correlation with the network's own auxiliary targets on the validation images (NaN without).
        clean: clean accuracy (fraction); ``clean_vs_baseline``: minus the Baseline's, paired by seed.
        scores: scope (``overall`` or a family) -> relative robustness score minus 100.
        vs_reference: overall score minus the first teacher's, paired by seed (teachers after the first).
    """

    name: str
    condition: str
    fit: Estimate
    clean: Estimate
    clean_vs_baseline: Estimate
    scores: dict[str, Estimate]
    vs_reference: Estimate | None


def _mean(runs: list[RunResult], value: Callable[[RunResult], float]) -> Estimate:
    return t_mean(np.array([value(r) for r in runs], dtype=float))


def _paired(a: list[RunResult], b: list[RunResult], value: Callable[[RunResult], float]) -> Estimate:
    other = {r.seed: r for r in b}
    return t_mean(np.array([value(r) - value(other[r.seed]) for r in a if r.seed in other], dtype=float))


def _score(scope: str) -> Callable[[RunResult], float]:
    if scope == "overall":
        return lambda r: r.relative_overall - 100.0
    return lambda r: r.relative_family(scope) - 100.0


def _row(
    name: str, condition: str, runs: list[RunResult], baseline: list[RunResult], reference
) -> TeacherRow:
    return TeacherRow(
        name=name,
        condition=condition,
        fit=_mean(runs, lambda r: r.val_neural_corr),
        clean=_mean(runs, lambda r: r.clean_accuracy),
        clean_vs_baseline=_paired(runs, baseline, lambda r: r.clean_accuracy),
        scores={scope: _mean(runs, _score(scope)) for scope in SCOPES},
        vs_reference=None if reference is None else _paired(runs, reference, _score("overall")),
    )


def teacher_rows(runs: list[RunResult], teachers: list[str]) -> list[TeacherRow]:
    """Rows for ``teachers`` (the study's step names, the reference first), then for every other condition
    of the first step except the Baseline, in the figures' order."""
    if not teachers:
        return []

    def of(step: str, condition: str) -> list[RunResult]:
        return sorted((r for r in runs if r.step == step and r.condition == condition), key=lambda r: r.seed)

    first = teachers[0]
    baseline = of(first, "baseline")
    reference = of(first, TEACHER_CONDITION)
    rows = [
        _row(t, TEACHER_CONDITION, of(t, TEACHER_CONDITION), baseline, None if t == first else reference)
        for t in teachers
    ]
    others = style.in_order({r.condition for r in runs if r.step == first} - {"baseline", TEACHER_CONDITION})
    rows += [_row(style.label(c), c, of(first, c), baseline, None) for c in others]
    return rows


def pixel_control_sentence(rows: list[TeacherRow], runs: list[RunResult], first: str) -> str | None:
    """What the pixel-similarity control says about MTL's gain on the first teacher, or None without it."""
    pixel = [r for r in runs if r.step == first and r.condition == PIXEL_CONTROL]
    mtl = [r for r in runs if r.step == first and r.condition == TEACHER_CONDITION]
    if not pixel or not mtl:
        return None
    gain = rows[0].scores["overall"]
    diff = _paired(pixel, mtl, _score("overall"))
    if not np.isfinite(diff.ci_low) or not np.isfinite(gain.ci_low):
        return (
            "Pixel-similarity control: undetermined (an interval needs two seeds or more); "
            f"pixel-similarity minus MTL, overall: {diff.value:+.1f}."
        )
    interval = f"{diff.value:+.1f} [{diff.ci_low:.1f}, {diff.ci_high:.1f}]"
    if gain.ci_low <= 0:
        return (
            f"Pixel-similarity control: MTL on the '{first}' teacher shows no established robustness gain "
            f"({gain.value:+.1f} [{gain.ci_low:.1f}, {gain.ci_high:.1f}] over the Baseline), so there is no "
            f"gain for the control to explain (pixel-similarity minus MTL: {interval})."
        )
    if diff.ci_high >= 0:
        return (
            f"Pixel-similarity control: it matches MTL (pixel-similarity minus MTL, overall: {interval}), so in "
            "this study the gain need not come from V1: targets computed from the images alone give as much."
        )
    return (
        f"Pixel-similarity control: it falls short of MTL (pixel-similarity minus MTL, overall: {interval}), so "
        "in this study part of the gain depends on the V1 targets, not only on the images' pixel statistics."
    )


def write_csv(rows: list[TeacherRow], path: str | Path) -> Path:
    """Tidy CSV, one row per (row, measure): teacher, condition, measure, n_seeds, value, ci_low, ci_high."""

    def num(v: float) -> float | str:
        return float(v) if np.isfinite(v) else ""

    records = []
    for row in rows:
        measures = {"fit_val_corr": row.fit, "clean_accuracy": row.clean}
        measures["clean_accuracy_minus_baseline"] = row.clean_vs_baseline
        measures |= {f"relative_{scope}_minus_baseline": est for scope, est in row.scores.items()}
        if row.vs_reference is not None:
            measures["relative_overall_minus_reference_teacher"] = row.vs_reference
        for name, est in measures.items():
            records.append(
                {
                    "teacher": row.name,
                    "condition": row.condition,
                    "measure": name,
                    "n_seeds": est.n,
                    "value": num(est.value),
                    "ci_low": num(est.ci_low),
                    "ci_high": num(est.ci_high),
                }
            )
    write_table(path, records)
    return Path(path)


def figure(rows: list[TeacherRow], path: Path) -> Path:
    """One panel per scope with a score (overall, then the families): each row's score minus the Baseline's
    (dot) with its 95% interval (bar), a line at 0. Teachers in MTL's colour, other conditions in their own."""
    scopes = [s for s in SCOPES if any(np.isfinite(r.scores[s].value) for r in rows)] or ["overall"]
    fig = style.new_figure(0.28 * len(rows) + 1.3)
    axes = fig.subplots(1, len(scopes), sharey=True, squeeze=False)[0]
    y = np.arange(len(rows))[::-1]
    for ax, scope in zip(axes, scopes, strict=True):
        for yi, row in zip(y, rows, strict=True):
            est = row.scores[scope]
            if not np.isfinite(est.value):
                continue
            colour = style.colour(row.condition)
            if np.isfinite(est.ci_low):
                ax.plot([est.ci_low, est.ci_high], [yi, yi], color=colour, lw=1.5)
            ax.plot(est.value, yi, marker=style.marker(row.condition), color=colour, ms=5)
        ax.axvline(0, color=style.REFERENCE_COLOUR, lw=0.9)
        ax.set_title(scope, fontsize=style.SMALL)
        ax.tick_params(labelsize=style.SMALL)
    axes[0].set_yticks(y, [r.name for r in rows], fontsize=style.SMALL)
    axes[0].set_ylim(-0.6, len(rows) - 0.4)
    fig.supxlabel("relative robustness score minus the Baseline's 100 [points]", fontsize=style.SMALL)
    return style.save(fig, path)
