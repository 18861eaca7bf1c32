"""Checks that a study's numbers can be true, and the fits that failed, each naming the file to look at.

A report must never hand a user an impossible number as a result (issue 18: a diverged readout put a FEVE of
-4e21 into the summary table without a word). Flagged:
- a summarized FEVE (mean or median over neurons, of a fit or predictivity summary that did not fail) below
  -1 or above 1. FEVE is at most 1 up to sampling error, and a mean below -1 means the predictions are
  further from the responses than a constant by more than the whole explainable variance: such a value
  describes a broken fit, not a V1 model. Single neurons below -1 are common and not flagged; the
  summaries leave out unreliable neurons (``v1mtl.neural_model.evaluate``);
- an accuracy outside [0, 1] (clean, test, corrupted, under attack);
- a corrupted accuracy above the clean accuracy on the same images by more than chance allows: the lower end
  of the corrupted accuracy's 95% Wilson score interval (Wilson 1927, JASA 22:209) lies above the upper end
  of the clean accuracy's. Both are estimates from the same few images, so each one's sampling error counts
  (with 4 images, 1 correct after a corruption and 0 clean is no evidence of anything); a corruption rarely
  helps, and more often the clean row was not measured as the other rows.
The bounds are v1mtl's reading of what the measures can be, not a published rule.
Failed fits (``status: failed`` in a fit or predictivity unit's ``summary.json``) are listed in a box of their
own, so a "failed" cell in the tables always has its reason one look away.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from v1mtl.report.collect import RunResult
from v1mtl.report.document import Box
from v1mtl.study import StudyPlan

FEVE_RANGE = (-1.0, 1.0)
Z_95 = 1.959963984540054  # the two-sided 95% quantile of the standard normal
SUMMARY = "summary.json"
FEVE_KEYS = ("feve_mean", "feve_median")


def wilson_interval(correct: int, n: int, z: float = Z_95) -> tuple[float, float]:
    """The Wilson score interval ``(low, high)`` of ``correct`` successes in ``n`` trials (NaN for no trials)."""
    if n <= 0:
        return math.nan, math.nan
    p = correct / n
    centre = p + z * z / (2 * n)
    spread = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    scale = 1 + z * z / n
    return (centre - spread) / scale, (centre + spread) / scale


def _read(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return None


def _fit_summaries(plan: StudyPlan) -> list[tuple[str, Path, dict]]:
    """``(unit label, summary path, summary)`` of every fit and predictivity unit that has one."""
    out = []
    for unit in plan.units:
        if unit.stage not in ("fit", "predictivity"):
            continue
        path = unit.folder(plan.root) / SUMMARY
        summary = _read(path)
        if summary is not None:
            out.append((f"{unit.stage}/{unit.name}", path, summary))
    return out


def _where(path: Path, root: Path) -> str:
    return str(path.relative_to(root)) if path.is_relative_to(root) else str(path)


def failed_fits(plan: StudyPlan) -> list[str]:
    """One sentence per fit or predictivity unit whose fit failed, with its reason and file."""
    return [
        f"{label} failed: {summary.get('failure')} (see {_where(path, plan.root)})"
        for label, path, summary in _fit_summaries(plan)
        if summary.get("status") == "failed"
    ]


def _feve_values(summary: dict) -> list[tuple[str, float]]:
    """The summarized FEVE values of a fit summary (top level) or a predictivity summary (per layer)."""
    records = summary.get("layers") if isinstance(summary.get("layers"), list) else [summary]
    values = []
    for record in records:
        if record.get("status") == "failed":
            continue  # reported as failed, never as a score
        where = f"layer {record['layer']} " if "layer" in record else ""
        for key in FEVE_KEYS:
            value = record.get(key)
            if isinstance(value, int | float) and math.isfinite(value):
                values.append((f"{where}{key}", float(value)))
    return values


def _feve_flags(plan: StudyPlan) -> list[str]:
    low, high = FEVE_RANGE
    flags = []
    for label, path, summary in _fit_summaries(plan):
        if summary.get("status") == "failed" and "layers" not in summary:
            continue
        for key, value in _feve_values(summary):
            if not low <= value <= high:
                flags.append(
                    f"{label}: {key} = {value:.4g}, outside [{low:g}, {high:g}] (see {_where(path, plan.root)})"
                )
    return flags


def _run_files(plan: StudyPlan, run: RunResult) -> dict[str, Path]:
    """The files a run's accuracies come from."""
    step = next(sp for sp in plan.steps if sp.name == run.step)
    key = (run.condition, run.seed)
    files = {"train": step.runs[key].folder(plan.root) / "final.json"}
    files["robustness"] = step.robustness[key].folder(plan.root) / "corruptions" / "robustness.csv"
    files["sweep"] = step.robustness[key].folder(plan.root) / "gaussian-sweep" / "robustness.csv"
    if key in step.adversarial:
        files["adversarial"] = step.adversarial[key].folder(plan.root) / "adversarial.json"
    return files


def _accuracy_flags(plan: StudyPlan, runs: list[RunResult]) -> list[str]:
    flags = []
    for run in runs:
        files = _run_files(plan, run)
        values = [
            ("test accuracy", run.test_accuracy, files["train"]),
            ("clean accuracy", run.clean_accuracy, files["robustness"]),
        ]
        values += [
            (f"{r.corruption} {r.severity:g} accuracy", r.accuracy, files["robustness"]) for r in run.rows
        ]
        values += [
            (f"Gaussian sweep {r.severity:g} accuracy", r.accuracy, files["sweep"]) for r in run.sweep_rows
        ]
        values += [
            (f"{r.norm} eps {r.eps:g} accuracy", r.accuracy, files.get("adversarial", files["train"]))
            for r in run.adversarial_rows
        ]
        for what, value, path in values:
            if math.isfinite(value) and not 0 <= value <= 1:
                flags.append(
                    f"{run.name}: {what} = {value:.4g}, outside [0, 1] (see {_where(path, plan.root)})"
                )
        clean = [r for r in run.rows if r.corruption == "clean"]
        if not clean:
            continue
        clean_high = wilson_interval(clean[0].correct, clean[0].n)[1]
        for r in run.rows:
            if r.corruption != "clean" and wilson_interval(r.correct, r.n)[0] > clean_high:
                flags.append(
                    f"{run.name}: {r.corruption} severity {r.severity:g} accuracy {r.accuracy:.3f} is above the "
                    f"clean {clean[0].accuracy:.3f} beyond both 95% intervals "
                    f"(see {_where(files['robustness'], plan.root)})"
                )
    return flags


def plausibility_flags(plan: StudyPlan, runs: list[RunResult]) -> list[str]:
    """Every implausible value of the study, one sentence each naming its file."""
    return _feve_flags(plan) + _accuracy_flags(plan, runs)


def plausibility_box(plan: StudyPlan, runs: list[RunResult]) -> Box | None:
    """The warning box of implausible values; None when there are none."""
    flags = plausibility_flags(plan, runs)
    if not flags:
        return None
    return Box("these numbers cannot be right: check the files named", flags, kind="warning")


def failed_fits_box(plan: StudyPlan) -> Box | None:
    """The warning box of failed fits; None when none failed."""
    failed = failed_fits(plan)
    if not failed:
        return None
    return Box("fits that failed (reported as failed, never as a score)", failed, kind="warning")
