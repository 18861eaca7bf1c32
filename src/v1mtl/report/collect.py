"""Read a study folder's outputs into per-run records (one per step x condition x seed)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from v1mtl.evaluate.adversarial import SUMMARY_NAME as ADVERSARIAL_SUMMARY
from v1mtl.evaluate.adversarial import AdversarialRow
from v1mtl.evaluate.relative_robustness import (
    RelativeRobustness,
    mean_sweep_accuracy,
    relative_robustness,
    relative_sweep,
)
from v1mtl.evaluate.robustness_metrics import score
from v1mtl.evaluate.robustness_table import RobustnessRow, read_rows
from v1mtl.study import StudyPlan

PREDICTIVITY_METRIC = "feve_mean"


@dataclass
class RunResult:
    """What the report needs of one trained network.

    Attributes:
        step: the study step it belongs to (``""`` for a study without steps).
        clean_accuracy: accuracy on the clean test images the corruptions were applied to (the robustness
            table's clean row), so clean and corrupted accuracy come from the same images; before the
            robustness stage has run, the test accuracy of ``final.json``.
        test_accuracy: accuracy on the whole clean test split (``final.json``).
        mean_corruption_accuracy: mean over the corruption x severity grid.
        mce, relative_mce: mCE and relative mCE against the Baseline of the same seed (NaN without one).
        relative: the relative robustness score against that Baseline (``evaluate.relative_robustness``).
        sweep_accuracy, relative_sweep: mean accuracy and relative score over the Gaussian-noise sweep.
        val_neural_corr, test_neural_corr: the network's correlation with its own neural targets (MTL).
        under_trained: the run's convergence check (``training.convergence``) flagged it.
        predictivity: mean FEVE of fresh readouts at the best layer, over its reliable neurons (NaN when not
            measured, or when every layer's readout fit failed).
        predictivity_median: the median FEVE at that layer.
        predictivity_neurons: ``(n_used, n_total)``: the neurons the summary uses of all scored ((0, 0) when
            not recorded).
        predictivity_failed: every layer's readout fit failed (``predictivity_failure`` says why).
        predictivity_layers: the predictivity stage's per-layer records (``summary.json``'s ``layers``).
        n_classes: the classifier's number of classes (``final.json``; 0 when not recorded), for chance level.
        rows: the robustness rows (corruption grid), for the per-severity figure.
        adversarial_rows: accuracy under PGD per norm and budget (the adversarial stage's rows; empty when
            the stage did not run).
        gradient_masking: why the adversarial stage suspected gradient masking (empty when it did not).
        history: ``metrics.jsonl`` records, for the training curves.
    """

    condition: str
    seed: int
    name: str
    step: str = ""
    clean_accuracy: float = float("nan")
    test_accuracy: float = float("nan")
    mean_corruption_accuracy: float = float("nan")
    relative_mce: float = float("nan")
    mce: float = float("nan")
    relative: RelativeRobustness | None = None
    sweep_accuracy: float = float("nan")
    relative_sweep: float = float("nan")
    val_neural_corr: float = float("nan")
    test_neural_corr: float = float("nan")
    under_trained: bool = False
    predictivity: float = float("nan")
    predictivity_median: float = float("nan")
    predictivity_neurons: tuple[int, int] = (0, 0)
    predictivity_failed: bool = False
    predictivity_failure: str = ""
    predictivity_layer: str = ""
    predictivity_layers: list[dict[str, Any]] = field(default_factory=list)
    n_classes: int = 0
    rows: list[RobustnessRow] = field(default_factory=list)
    sweep_rows: list[RobustnessRow] = field(default_factory=list)
    adversarial_rows: list[AdversarialRow] = field(default_factory=list)
    gradient_masking: list[str] = field(default_factory=list)
    history: list[dict[str, Any]] = field(default_factory=list)

    @property
    def relative_overall(self) -> float:
        return self.relative.overall if self.relative is not None else float("nan")

    def relative_family(self, family: str) -> float:
        if self.relative is None:
            return float("nan")
        return self.relative.per_family.get(family, float("nan"))


def _read_json(path: Path) -> dict[str, Any] | None:
    return json.loads(path.read_text()) if path.is_file() else None


def _number(value: Any) -> float:
    return float("nan") if value is None else float(value)


def collect_runs(plan: StudyPlan) -> list[RunResult]:
    """One ``RunResult`` per trained network of every step, filled with whatever the study has produced so
    far. A network shared by several steps appears once per step."""
    out: list[RunResult] = []
    for sp in plan.steps:
        results: dict[tuple[str, int], RunResult] = {}
        for (condition, seed), unit in sp.runs.items():
            res = RunResult(condition, seed, unit.name, step=sp.name)
            folder = unit.folder(plan.root)
            final = _read_json(folder / "final.json")
            if final is not None:
                res.test_accuracy = res.clean_accuracy = float(final["test_accuracy"])
                res.val_neural_corr = _number(final.get("val_neural_corr"))
                res.test_neural_corr = _number(final.get("test_neural_corr"))
                res.under_trained = bool(final.get("under_trained", False))
                res.n_classes = int(final.get("n_classes", 0))
            metrics = folder / "metrics.jsonl"
            if metrics.is_file():
                res.history = [json.loads(line) for line in metrics.read_text().splitlines() if line.strip()]
            robustness = sp.robustness[(condition, seed)].folder(plan.root)
            if (robustness / "corruptions" / "robustness.csv").is_file():
                res.rows = read_rows(robustness / "corruptions" / "robustness.csv")
            if (robustness / "gaussian-sweep" / "robustness.csv").is_file():
                res.sweep_rows = read_rows(robustness / "gaussian-sweep" / "robustness.csv")
            adversarial = sp.adversarial.get((condition, seed))
            attack = (
                None
                if adversarial is None
                else _read_json(adversarial.folder(plan.root) / ADVERSARIAL_SUMMARY)
            )
            if attack is not None:
                res.adversarial_rows = [
                    AdversarialRow(**{k: v for k, v in row.items() if k != "accuracy"})
                    for row in attack["rows"]
                ]
                res.gradient_masking = list(attack["gradient_masking_reasons"])
            pred = _read_json(sp.predictivity[(condition, seed)].folder(plan.root) / "summary.json")
            if pred is not None:
                best = pred["best"]
                res.predictivity_failed = pred.get("status") == "failed"
                res.predictivity_failure = str(pred.get("failure") or "")
                if not res.predictivity_failed:  # a failed fit's scores are not results
                    res.predictivity = _number(best[PREDICTIVITY_METRIC])
                    res.predictivity_median = _number(best.get("feve_median"))
                    res.predictivity_neurons = (int(best.get("n_used", 0)), int(best.get("n_total", 0)))
                res.predictivity_layer = str(pred["best_layer"])
                res.predictivity_layers = list(pred.get("layers", []))
            results[(condition, seed)] = res
        for res in results.values():
            base = results.get(("baseline", res.seed))
            if res.sweep_rows:
                res.sweep_accuracy = mean_sweep_accuracy(res.sweep_rows)
                if base is not None and base.sweep_rows:
                    res.relative_sweep = relative_sweep(res.sweep_rows, base.sweep_rows)
            if not res.rows:
                continue
            reference = base.rows if base is not None and base.rows else None
            (summary,), _ = score(res.rows, reference)
            res.mean_corruption_accuracy = summary.mean_corruption_accuracy
            res.mce, res.relative_mce = summary.mce, summary.relative_mce
            if np.isfinite(summary.clean_accuracy):
                res.clean_accuracy = summary.clean_accuracy
            if reference is not None:
                res.relative = relative_robustness(res.rows, reference)
        out += results.values()
    return out


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
