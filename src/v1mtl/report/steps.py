"""The table of a study with steps (an ablation ladder, a ratio sweep): one row per step.

Per step: what it changes, the MTL networks' fit to their targets, clean accuracy, the fresh-readout V1
predictivity of MTL minus the Baseline, and MTL minus the Baseline and minus MTL-Shuffled on the relative
robustness score (overall, noise family, Gaussian sweep). Every difference is paired by seed within the
step, with a 95% Student-t interval over seeds (none with one seed). Against the Baseline, the relative
score already is a per-seed ratio, so ``MTL - Baseline`` is the MTL score minus 100.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from v1mtl.common.stats import Estimate, t_mean
from v1mtl.common.tables import write_csv as write_table
from v1mtl.report.collect import RunResult

# (column key, label, run -> value)
SCORES = (
    ("overall", "relative robustness", lambda r: r.relative_overall),
    ("noise", "noise family", lambda r: r.relative_family("noise")),
    ("sweep", "Gaussian sweep", lambda r: r.relative_sweep),
)


@dataclass(frozen=True)
class StepRow:
    """One step's measures (estimates over seeds)."""

    step: str
    changes: str
    mtl_val_corr: Estimate
    clean: dict[str, Estimate]  # condition -> clean accuracy
    predictivity_vs_baseline: Estimate
    vs_baseline: dict[str, Estimate]  # score key -> MTL - Baseline
    vs_shuffled: dict[str, Estimate]  # score key -> MTL - MTL-Shuffled
    under_trained: int
    finished: int


def _paired(a: dict[int, RunResult], b: dict[int, RunResult], value) -> Estimate:
    seeds = sorted(set(a) & set(b))
    return t_mean(np.array([value(a[s]) - value(b[s]) for s in seeds], dtype=float))


def step_rows(runs: list[RunResult], changes: dict[str, str]) -> list[StepRow]:
    """One row per step in ``changes`` (step name -> description of what it changes), in that order."""
    rows = []
    for step, described in changes.items():
        mine = [r for r in runs if r.step == step]
        by = {c: {r.seed: r for r in mine if r.condition == c} for c in ("baseline", "mtl", "mtl-shuffled")}
        mtl = list(by["mtl"].values())
        rows.append(
            StepRow(
                step=step,
                changes=described,
                mtl_val_corr=t_mean(np.array([r.val_neural_corr for r in mtl], dtype=float)),
                clean={
                    c: t_mean(np.array([r.clean_accuracy for r in by[c].values()], dtype=float)) for c in by
                },
                predictivity_vs_baseline=_paired(by["mtl"], by["baseline"], lambda r: r.predictivity),
                vs_baseline={
                    key: t_mean(np.array([value(r) - 100.0 for r in mtl], dtype=float))
                    for key, _, value in SCORES
                },
                vs_shuffled={key: _paired(by["mtl"], by["mtl-shuffled"], value) for key, _, value in SCORES},
                under_trained=sum(r.under_trained for r in mine),
                finished=sum(np.isfinite(r.test_accuracy) for r in mine),
            )
        )
    return rows


def write_csv(rows: list[StepRow], path: str | Path) -> Path:
    """Tidy CSV, one row per (step, measure): step, measure, n_seeds, value, ci_low, ci_high."""

    def num(v: float) -> float | str:
        return float(v) if np.isfinite(v) else ""

    records = []
    for row in rows:
        measures = {"mtl_val_neural_corr": row.mtl_val_corr}
        measures |= {f"clean_accuracy_{c}": e for c, e in row.clean.items()}
        measures["predictivity_mtl_minus_baseline"] = row.predictivity_vs_baseline
        measures |= {f"{k}_mtl_minus_baseline": e for k, e in row.vs_baseline.items()}
        measures |= {f"{k}_mtl_minus_shuffled": e for k, e in row.vs_shuffled.items()}
        for name, est in measures.items():
            records.append(
                {
                    "step": row.step,
                    "measure": name,
                    "n_seeds": est.n,
                    "value": num(est.value),
                    "ci_low": num(est.ci_low),
                    "ci_high": num(est.ci_high),
                }
            )
    write_table(path, records)
    return Path(path)
