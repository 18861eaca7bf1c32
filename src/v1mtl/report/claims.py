"""The paper's five claims, each tested on what a study measured, with a plain verdict.

Verdicts: ``held`` (the effect is in the claimed direction and its 95% interval excludes zero),
``not held`` (the interval excludes zero in the other direction, or the point estimate contradicts it),
``not established`` (the interval includes zero), ``undetermined`` (too little data for an interval, e.g.
one seed, or a condition the study did not run).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from v1mtl.analysis.stats import Estimate, paired_bootstrap_difference, t_mean
from v1mtl.report.collect import RunResult
from v1mtl.report.differences import by_seed, paired_seed_difference

CLAIMS = (
    "MTL is more robust than Baseline",
    "MTL is close to the Oracle",
    "Robustness rises with brain-likeness",
    "MTL is more sensitive to content than to noise",
    "MTL is more sensitive to salient regions",
)
# "Close" to the Oracle: MTL recovers at least this share of the Oracle's robustness gain over the Baseline.
CLOSE_TO_ORACLE_SHARE = 0.5


@dataclass
class Claim:
    number: int
    statement: str
    measured: str
    verdict: str


def _verdict(est: Estimate, threshold: float = 0.0) -> str:
    if not np.isfinite(est.value):
        return "undetermined"
    if not (np.isfinite(est.ci_low) and np.isfinite(est.ci_high)):
        return "undetermined"
    if est.ci_low > threshold:
        return "held"
    if est.ci_high < threshold:
        return "not held"
    return "not established"


def _fmt(est: Estimate, digits: int = 3) -> str:
    ci = (
        f" (95% CI {est.ci_low:.{digits}f} to {est.ci_high:.{digits}f}, n={est.n})"
        if np.isfinite(est.ci_low)
        else f" (n={est.n}, no interval)"
    )
    return f"{est.value:+.{digits}f}{ci}"


def robustness_claim(runs: list[RunResult]) -> Claim:
    est = paired_seed_difference(runs, "baseline", "mtl", "mean_corruption_accuracy")
    return Claim(1, CLAIMS[0], f"mean corruption accuracy, MTL - Baseline: {_fmt(est)}", _verdict(est))


def oracle_claim(runs: list[RunResult]) -> Claim:
    base, mtl, oracle = by_seed(runs, "baseline"), by_seed(runs, "mtl"), by_seed(runs, "noise-augmented")
    seeds = sorted(set(base) & set(mtl) & set(oracle))
    gains = np.array([oracle[s].mean_corruption_accuracy - base[s].mean_corruption_accuracy for s in seeds])
    oracle_gain = t_mean(gains)
    if not seeds:
        return Claim(
            2, CLAIMS[1], "the study ran no Baseline, MTL and Oracle of a common seed", "undetermined"
        )
    shares = np.array(
        [mtl[s].mean_corruption_accuracy - base[s].mean_corruption_accuracy for s in seeds]
    ) / np.where(gains != 0, gains, np.nan)
    share = t_mean(shares)
    measured = (
        f"Oracle gain over Baseline {_fmt(oracle_gain)}; share of it MTL recovers {_fmt(share, 2)} "
        f"(close = at least {CLOSE_TO_ORACLE_SHARE:.0%})"
    )
    oracle_verdict = _verdict(oracle_gain)
    if oracle_verdict != "held":
        why = (
            "the Oracle is less robust than the Baseline here, so there is no gain to be close to"
            if oracle_verdict == "not held"
            else "the Oracle itself is not established as more robust"
        )
        return Claim(2, CLAIMS[1], f"{measured}; {why}", "undetermined")
    return Claim(2, CLAIMS[1], measured, _verdict(share, CLOSE_TO_ORACLE_SHARE))


def brain_claim(result: dict | None) -> Claim:
    if result is None:
        return Claim(3, CLAIMS[2], "no robustness and predictivity results to relate", "undetermined")
    est = Estimate(result["spearman"], result["ci_low"], result["ci_high"], result["n_models"])
    measured = f"Spearman correlation of mean corruption accuracy and V1 predictivity ({result['metric']}) over networks: {_fmt(est, 2)}"
    return Claim(3, CLAIMS[2], measured, _verdict(est))


def _per_image(path: Path, value: str) -> dict[str, dict[str, float]]:
    """``model -> image_id -> mean of value`` over the other columns (e.g. budgets and noise levels)."""
    sums: dict[tuple[str, str], list[float]] = {}
    with open(path, newline="") as fh:
        for row in csv.DictReader(fh):
            sums.setdefault((row["model"], row["image_id"]), []).append(float(row[value]))
    out: dict[str, dict[str, float]] = {}
    for (model, image), vals in sums.items():
        out.setdefault(model, {})[image] = float(np.mean(vals))
    return out


def _condition_vs_baseline(
    per_image: dict[str, dict[str, float]], runs: list[RunResult], condition: str
) -> Estimate:
    """Per image, the condition's networks (mean over seeds) minus the Baselines'; paired bootstrap over images."""
    names = {
        c: [r.name for r in runs if r.condition == c and r.name in per_image] for c in ("baseline", condition)
    }
    if not names["baseline"] or not names[condition]:
        return Estimate(float("nan"), float("nan"), float("nan"), 0)
    images = sorted(set.intersection(*(set(per_image[n]) for n in names["baseline"] + names[condition])))
    mean = {c: np.array([np.mean([per_image[n][i] for n in names[c]]) for i in images]) for c in names}
    return paired_bootstrap_difference(mean["baseline"], mean[condition])


def content_claim(per_image_csv: Path, runs: list[RunResult]) -> Claim:
    if not per_image_csv.is_file():
        return Claim(4, CLAIMS[3], "the reconstruction analysis has not run", "undetermined")
    est = _condition_vs_baseline(_per_image(per_image_csv, "content_gain"), runs, "mtl")
    measured = f"content gain of reconstructions (mean over budgets and noise levels), MTL - Baseline, paired over images: {_fmt(est)}"
    return Claim(4, CLAIMS[3], measured, _verdict(est))


def saliency_claim(per_image_csv: Path, runs: list[RunResult]) -> Claim:
    if not per_image_csv.is_file():
        return Claim(5, CLAIMS[4], "the saliency analysis has not run", "undetermined")
    est = _condition_vs_baseline(_per_image(per_image_csv, "nss"), runs, "mtl")
    measured = f"NSS of sensitivity maps in salient regions (mean over methods), MTL - Baseline, paired over images: {_fmt(est)}"
    return Claim(5, CLAIMS[4], measured, _verdict(est))
