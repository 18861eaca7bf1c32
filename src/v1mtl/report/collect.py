"""Read a study folder's outputs into per-run records (one per condition x seed)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from v1mtl.evaluate.robustness_metrics import score
from v1mtl.evaluate.robustness_table import RobustnessRow, read_rows
from v1mtl.study.plan import StudyPlan

PREDICTIVITY_METRIC = "feve_mean"


@dataclass
class RunResult:
    """What the report needs of one trained network.

    Attributes:
        clean_accuracy: test accuracy on clean images (``final.json``).
        mean_corruption_accuracy: mean over the corruption x severity grid.
        mce, relative_mce: mCE and relative mCE against the Baseline of the same seed (NaN without one).
        predictivity: mean FEVE of fresh readouts at the best layer (NaN when not measured).
        rows: the robustness rows (corruption grid), for the per-severity figure.
        history: ``metrics.jsonl`` records, for the training curves.
    """

    condition: str
    seed: int
    name: str
    clean_accuracy: float = float("nan")
    mean_corruption_accuracy: float = float("nan")
    relative_mce: float = float("nan")
    mce: float = float("nan")
    predictivity: float = float("nan")
    predictivity_layer: str = ""
    rows: list[RobustnessRow] = field(default_factory=list)
    history: list[dict[str, Any]] = field(default_factory=list)


def _read_json(path: Path) -> dict[str, Any] | None:
    return json.loads(path.read_text()) if path.is_file() else None


def collect_runs(plan: StudyPlan) -> list[RunResult]:
    """One ``RunResult`` per trained network, filled with whatever the study has produced so far."""
    results: dict[tuple[str, int], RunResult] = {}
    for (condition, seed), unit in plan.runs.items():
        res = RunResult(condition, seed, unit.name)
        folder = unit.folder(plan.root)
        final = _read_json(folder / "final.json")
        if final is not None:
            res.clean_accuracy = float(final["test_accuracy"])
        metrics = folder / "metrics.jsonl"
        if metrics.is_file():
            res.history = [json.loads(line) for line in metrics.read_text().splitlines() if line.strip()]
        csv = plan.robustness[(condition, seed)].folder(plan.root) / "corruptions" / "robustness.csv"
        if csv.is_file():
            res.rows = read_rows(csv)
        pred = _read_json(plan.predictivity[(condition, seed)].folder(plan.root) / "summary.json")
        if pred is not None:
            res.predictivity = float(pred["best"][PREDICTIVITY_METRIC])
            res.predictivity_layer = str(pred["best_layer"])
        results[(condition, seed)] = res
    for res in results.values():
        if not res.rows:
            continue
        base = results.get(("baseline", res.seed))
        reference = base.rows if base is not None and base.rows else None
        (summary,), _ = score(res.rows, reference)
        res.mean_corruption_accuracy = summary.mean_corruption_accuracy
        res.mce, res.relative_mce = summary.mce, summary.relative_mce
    return list(results.values())


def pooled_rows(runs: list[RunResult]) -> list[RobustnessRow]:
    """Robustness rows pooled over seeds per condition (counts summed), named by condition."""
    pooled: dict[tuple, RobustnessRow] = {}
    for run in runs:
        for row in run.rows:
            key = (run.condition, row.protocol, row.condition)
            if key in pooled:
                old = pooled[key]
                pooled[key] = replace(old, n=old.n + row.n, correct=old.correct + row.correct)
            else:
                pooled[key] = replace(row, model=run.condition)
    return list(pooled.values())
