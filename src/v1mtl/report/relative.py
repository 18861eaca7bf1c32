"""The relative robustness score per condition over seeds: overall, per family, per corruption, Gaussian sweep.

Each network is scored against the Baseline of its own seed (``v1mtl.evaluate.relative_robustness``), so a
condition's score is the mean over its seeds with a 95% Student-t interval over seeds (none with one seed).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from v1mtl.common.stats import Estimate, t_mean
from v1mtl.common.tables import write_csv as write_table
from v1mtl.evaluate.relative_robustness import FAMILIES
from v1mtl.report.collect import RunResult

OVERALL = "overall"
SWEEP = "gaussian_sweep"


@dataclass(frozen=True)
class ScoreOverSeeds:
    """One condition's relative robustness score in one scope (``overall``, a family, a corruption or the
    Gaussian sweep), over seeds."""

    step: str
    condition: str
    scope: str  # "overall", "family", "corruption" or "sweep"
    name: str
    estimate: Estimate


def _values(run: RunResult, scope: str, name: str) -> float:
    if scope == "overall":
        return run.relative_overall
    if scope == "sweep":
        return run.relative_sweep
    if run.relative is None:
        return float("nan")
    table = run.relative.per_family if scope == "family" else run.relative.per_corruption
    return table.get(name, float("nan"))


def scores_over_seeds(runs: list[RunResult]) -> list[ScoreOverSeeds]:
    """Every (step, condition) x scope that has at least one finite score, in run order."""
    corruptions = list(dict.fromkeys(c for r in runs if r.relative for c in r.relative.per_corruption))
    scopes = (
        [("overall", OVERALL)]
        + [("family", f) for f in FAMILIES]
        + [("corruption", c) for c in corruptions]
        + [("sweep", SWEEP)]
    )
    groups: dict[tuple[str, str], list[RunResult]] = {}
    for r in runs:
        groups.setdefault((r.step, r.condition), []).append(r)
    out = []
    for (step, condition), members in groups.items():
        for scope, name in scopes:
            est = t_mean(np.array([_values(r, scope, name) for r in members], dtype=float))
            if est.n:
                out.append(ScoreOverSeeds(step, condition, scope, name, est))
    return out


def lookup(scores: list[ScoreOverSeeds], step: str, condition: str, scope: str, name: str) -> Estimate | None:
    for s in scores:
        if (s.step, s.condition, s.scope, s.name) == (step, condition, scope, name):
            return s.estimate
    return None


def write_csv(scores: list[ScoreOverSeeds], path: str | Path) -> Path:
    """Tidy CSV: step, condition, scope, name, n_seeds, score, ci_low, ci_high (percent, Baseline = 100)."""

    def num(v: float) -> float | str:
        return float(v) if np.isfinite(v) else ""

    write_table(
        path,
        [
            {
                "step": s.step,
                "condition": s.condition,
                "scope": s.scope,
                "name": s.name,
                "n_seeds": s.estimate.n,
                "score": num(s.estimate.value),
                "ci_low": num(s.estimate.ci_low),
                "ci_high": num(s.estimate.ci_high),
            }
            for s in scores
        ],
    )
    return Path(path)
