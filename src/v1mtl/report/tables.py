"""The study's tidy tables in ``report/``: one row per observation, with ``condition`` and ``seed`` columns.

- ``summary.csv``: one row per trained network (step x condition x seed) with its headline scores;
- ``claims.csv``: one row per claim, with the effect, its interval, n, the threshold and the verdict;
- ``robustness.csv``: every robustness row of every network; the corruption grid keeps ``severity``
  (0 for clean), the Gaussian-noise sweep has its noise std in ``noise_std`` and no severity;
- ``predictivity.csv``: one row per network x scored layer (V1 predictivity of fresh readouts);
- ``adversarial.csv``: one row per network x threat model x budget (accuracy under PGD), with the network's
  gradient-masking flag.

Accuracies are fractions in [0, 1] here, as in every CSV of the project (figures and the report show percent).
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

from v1mtl.common.tables import write_csv
from v1mtl.evaluate.robustness_table import format_severity
from v1mtl.report.claims import Claim
from v1mtl.report.collect import RunResult

SUMMARY = "summary.csv"
CLAIMS = "claims.csv"
ROBUSTNESS = "robustness.csv"
PREDICTIVITY = "predictivity.csv"
ADVERSARIAL = "adversarial.csv"


def _keys(run: RunResult) -> dict:
    return {"step": run.step, "condition": run.condition, "seed": run.seed, "network": run.name}


def summary_rows(runs: list[RunResult]) -> list[dict]:
    """One row per network: clean and corruption accuracy, robustness scores, V1 predictivity, neural fit."""
    return [
        _keys(r)
        | {
            "clean_accuracy": r.clean_accuracy,
            "test_accuracy": r.test_accuracy,
            "mean_corruption_accuracy": r.mean_corruption_accuracy,
            "relative_robustness": r.relative_overall,
            "mce": r.mce,
            "relative_mce": r.relative_mce,
            "sweep_accuracy": r.sweep_accuracy,
            "relative_sweep": r.relative_sweep,
            "v1_predictivity_feve": r.predictivity,
            "v1_predictivity_feve_median": r.predictivity_median,
            "predictivity_neurons_used": r.predictivity_neurons[0],
            "predictivity_neurons_total": r.predictivity_neurons[1],
            "predictivity_failed": r.predictivity_failed,
            "predictivity_layer": r.predictivity_layer,
            "val_neural_corr": r.val_neural_corr,
            "test_neural_corr": r.test_neural_corr,
            "under_trained": r.under_trained,
        }
        for r in runs
    ]


def claim_rows(claims: list[Claim]) -> list[dict]:
    """One row per claim: the estimate its verdict rests on (NaN where there is none) and the verdict."""
    return [
        {
            "claim": c.number,
            "statement": c.statement,
            "verdict": c.verdict,
            "effect": c.effect_label,
            "value": c.effect.value,
            "ci_low": c.effect.ci_low,
            "ci_high": c.effect.ci_high,
            "n": c.effect.n,
            "threshold": c.threshold,
            "measured": c.measured,
        }
        for c in claims
    ]


def robustness_rows(runs: list[RunResult]) -> list[dict]:
    """Every robustness row of every network; sweep rows carry ``noise_std`` instead of ``severity``."""
    out = []
    for r in runs:
        for row in r.rows:
            fields = asdict(row)
            fields.pop("model")
            fields["severity"] = format_severity(row.severity)
            out.append(_keys(r) | fields | {"noise_std": "", "accuracy": row.accuracy})
        for row in r.sweep_rows:
            fields = asdict(row)
            fields.pop("model")
            fields["severity"] = ""
            out.append(
                _keys(r) | fields | {"noise_std": format_severity(row.severity), "accuracy": row.accuracy}
            )
    return out


def predictivity_rows(runs: list[RunResult]) -> list[dict]:
    """One row per network x layer of the predictivity stage, with ``best`` marking the layer reported."""
    return [
        _keys(r) | {"best": str(layer.get("layer")) == r.predictivity_layer} | layer
        for r in runs
        for layer in r.predictivity_layers
    ]


def adversarial_rows(runs: list[RunResult]) -> list[dict]:
    """One row per network x norm x budget of the adversarial stage; ``suspect_gradient_masking`` is the
    network's flag (the stage checks a network's rows together)."""
    return [
        _keys(r)
        | {
            "norm": row.norm,
            "eps": row.eps,
            "n": row.n,
            "correct": row.correct,
            "accuracy": row.accuracy,
            "mean_loss_start": row.mean_loss_start,
            "mean_loss_end": row.mean_loss_end,
            "suspect_gradient_masking": bool(r.gradient_masking),
        }
        for r in runs
        for row in r.adversarial_rows
    ]


def write_tables(runs: list[RunResult], claims: list[Claim], folder: Path) -> list[Path]:
    """Write the tables (a table with no rows yet is not written); return the paths written."""
    written = []
    for name, rows in (
        (SUMMARY, summary_rows(runs)),
        (CLAIMS, claim_rows(claims)),
        (ROBUSTNESS, robustness_rows(runs)),
        (PREDICTIVITY, predictivity_rows(runs)),
        (ADVERSARIAL, adversarial_rows(runs)),
    ):
        if rows:
            write_csv(folder / name, rows)
            written.append(folder / name)
    return written
