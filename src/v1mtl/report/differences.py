"""Paired differences between conditions over seeds: the effect sizes the paper's comparisons rest on.

Two conditions trained with the same seed share their initialisation and data order, so their difference
on that seed removes the seed-to-seed spread both share. Each difference is the mean over the seeds both
conditions ran, with a 95% Student-t interval over those seeds (``analysis.stats.t_mean``; no interval with
one seed).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from v1mtl.common.stats import Estimate, t_mean
from v1mtl.common.tables import write_csv as write_table
from v1mtl.report.collect import RunResult

# (condition, reference): every control against the Baseline, then MTL against the controls that ask
# whether the brain data (shuffled, random, image similarities without V1 data) or the Oracle's features
# matter, and against the other way of a V1 bias (a fixed V1-like front end).
PAIRS = (
    ("mtl", "baseline"),
    ("mtl-shuffled", "baseline"),
    ("mtl-random", "baseline"),
    ("noise-augmented", "baseline"),
    ("mtl-oracle", "baseline"),
    ("vone", "baseline"),
    ("pixel-similarity", "baseline"),
    ("mtl", "mtl-shuffled"),
    ("mtl", "mtl-random"),
    ("mtl", "noise-augmented"),
    ("mtl", "mtl-oracle"),
    ("mtl", "vone"),
    ("mtl", "pixel-similarity"),
)
METRICS = {
    "clean_accuracy": "clean accuracy",
    "relative_overall": "relative robustness score",
    "mean_corruption_accuracy": "mean corruption accuracy",
    "predictivity": "V1 predictivity (FEVE)",
}


@dataclass(frozen=True)
class PairedDifference:
    """``condition - reference`` of one metric, paired by seed."""

    condition: str
    reference: str
    metric: str
    estimate: Estimate


def by_seed(runs: list[RunResult], condition: str) -> dict[int, RunResult]:
    """``seed -> run`` of one condition."""
    return {r.seed: r for r in runs if r.condition == condition}


def paired_seed_difference(runs: list[RunResult], reference: str, condition: str, attr: str) -> Estimate:
    """``condition - reference`` of ``attr`` over the seeds both ran (NaN values dropped), t interval."""
    ref, cond = by_seed(runs, reference), by_seed(runs, condition)
    seeds = sorted(set(ref) & set(cond))
    return t_mean(np.array([getattr(cond[s], attr) - getattr(ref[s], attr) for s in seeds], dtype=float))


def paired_differences(runs: list[RunResult]) -> list[PairedDifference]:
    """Every pair of ``PAIRS`` whose two conditions share at least one seed, for every metric of ``METRICS``."""
    present = {r.condition for r in runs}
    out = []
    for condition, reference in PAIRS:
        if condition not in present or reference not in present:
            continue
        for attr in METRICS:
            est = paired_seed_difference(runs, reference, condition, attr)
            if est.n:
                out.append(PairedDifference(condition, reference, attr, est))
    return out


def by_pair(differences: list[PairedDifference]) -> dict[tuple[str, str], dict[str, Estimate]]:
    """``(condition, reference) -> metric -> estimate``, pairs in ``PAIRS`` order."""
    out: dict[tuple[str, str], dict[str, Estimate]] = {}
    for d in differences:
        out.setdefault((d.condition, d.reference), {})[d.metric] = d.estimate
    return out


def write_csv(differences: list[PairedDifference], path: str | Path) -> Path:
    """Tidy CSV, one row per (condition, reference, metric); the interval is empty with one seed."""

    def num(v: float) -> float | str:
        return float(v) if np.isfinite(v) else ""

    rows = [
        {
            "condition": d.condition,
            "reference": d.reference,
            "metric": d.metric,
            "n_seeds": d.estimate.n,
            "difference": num(d.estimate.value),
            "ci_low": num(d.estimate.ci_low),
            "ci_high": num(d.estimate.ci_high),
        }
        for d in differences
    ]
    write_table(path, rows)
    return Path(path)
