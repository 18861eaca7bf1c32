"""The paper's five claims, each tested on what a study measured, with a plain verdict.

Robustness is the authors' relative robustness score (``v1mtl.evaluate.relative_robustness``: corruption
accuracy over the same-seed Baseline's, x 100). Claim 3 is tested the authors' way, by the OLS
``Robustness ~ Clean + Neural`` over the MTL networks (clean accuracy controlled for); the rank correlation
over all networks is reported beside it, labelled confounded (it mixes conditions that differ in how well
they learned at all).

Verdicts: ``held`` (the effect is in the claimed direction and its 95% interval excludes zero),
``not held`` (the interval excludes zero in the other direction, or the point estimate contradicts it),
``not established`` (the interval includes zero), ``undetermined`` (too little data for an interval, e.g.
one seed, or a condition the study did not run).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from v1mtl.common.stats import Estimate, bootstrap_spearman, ols, paired_bootstrap_difference, t_mean
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
BASELINE_SCORE = 100.0
# The paper's overall relative robustness scores on Tiny-ImageNet-C (VGG-19-BN on TinyImageNet, a different
# setting from a built-in study): mean and std over bootstrapped seeds, Baseline = 100. Source: the authors'
# figure code, sinzlab/nntransfer bias_transfer/analysis/plot_shahd.py @65afe93 (2021-03-09, before the
# final version), ``overview_data``.
PAPER_SCORES = (
    ("MTL-Monkey", 114.1, 4.0),
    ("MTL-Shuffled", 96.3, 2.8),
    ("MTL-Oracle", 121.7, 4.4),
    ("Oracle", 123.7, 3.8),
)
# Claim 3's OLS needs more observations than coefficients (intercept, Clean, Neural).
MIN_OLS_NETWORKS = 4


@dataclass
class Claim:
    """One claim tested on a study.

    Attributes:
        measured: what was measured, with every statistic, in one line (the claims table).
        effect: the estimate the verdict rests on (NaN-valued when there is none).
        effect_label: what ``effect`` is, in words (e.g. ``relative robustness score of MTL``).
        threshold: the value the interval must clear for the claim to hold (100 for claim 1, 0 for a difference).
        reason: why the claim is undetermined when no effect could be estimated, in a few words.
    """

    number: int
    statement: str
    measured: str
    verdict: str
    effect: Estimate = field(default_factory=lambda: Estimate(float("nan"), float("nan"), float("nan"), 0))
    effect_label: str = ""
    threshold: float = 0.0
    reason: str = ""

    def sentence(self) -> str:
        """The verdict in one plain sentence, with the effect, its interval and n."""
        e, label = self.effect, self.effect_label
        if self.reason:
            return f"Undetermined: {self.reason}."
        if not np.isfinite(e.value):
            return f"Undetermined: {self.measured}."
        value = f"{label} {e.value:.3g}"
        if not np.isfinite(e.ci_low):
            return f"Undetermined: {value} from n={e.n}, too few for an interval."
        ci = f"{value} [{e.ci_low:.3g}, {e.ci_high:.3g}], n={e.n}"
        return {
            "held": f"Yes: {ci}; the interval clears {self.threshold:g}.",
            "not held": f"No: {ci}; the interval lies on the other side of {self.threshold:g}.",
            "not established": f"Not established: {ci}; the interval includes {self.threshold:g}.",
        }.get(self.verdict, f"Undetermined: {ci}.")


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


def _relative_over_seeds(runs: list[RunResult], condition: str) -> Estimate:
    """A condition's overall relative robustness score over its seeds (each against its own Baseline)."""
    return t_mean(np.array([r.relative_overall for r in runs if r.condition == condition], dtype=float))


def robustness_claim(runs: list[RunResult]) -> Claim:
    score = _relative_over_seeds(runs, "mtl")
    acc = paired_seed_difference(runs, "baseline", "mtl", "mean_corruption_accuracy")
    measured = (
        f"relative robustness score of MTL (Baseline = 100): {_fmt(score, 1).lstrip('+')}; "
        f"mean corruption accuracy, MTL - Baseline: {_fmt(acc)}"
    )
    return Claim(
        1,
        CLAIMS[0],
        measured,
        _verdict(score, BASELINE_SCORE),
        score,
        "MTL's relative robustness score (Baseline = 100)",
        BASELINE_SCORE,
    )


def oracle_claim(runs: list[RunResult]) -> Claim:
    mtl, oracle = by_seed(runs, "mtl"), by_seed(runs, "noise-augmented")
    seeds = sorted(s for s in set(mtl) & set(oracle) if np.isfinite(oracle[s].relative_overall))
    if not seeds:
        why = "the study ran no Baseline, MTL and Oracle of a common seed"
        return Claim(2, CLAIMS[1], why, "undetermined", reason=why)
    gains = np.array([oracle[s].relative_overall - BASELINE_SCORE for s in seeds])
    oracle_gain = t_mean(gains)
    shares = np.array([mtl[s].relative_overall - BASELINE_SCORE for s in seeds]) / np.where(
        gains != 0, gains, np.nan
    )
    share = t_mean(shares)
    measured = (
        f"Oracle's relative robustness score minus 100: {_fmt(oracle_gain, 1)}; share of that gain MTL "
        f"recovers: {_fmt(share, 2)} (close = at least {CLOSE_TO_ORACLE_SHARE:.0%})"
    )
    oracle_verdict = _verdict(oracle_gain)
    if oracle_verdict != "held":
        why = (
            "the Oracle is less robust than the Baseline here, so there is no gain to be close to"
            if oracle_verdict == "not held"
            else "the Oracle itself is not established as more robust"
        )
        return Claim(2, CLAIMS[1], f"{measured}; {why}", "undetermined", reason=why)
    return Claim(
        2,
        CLAIMS[1],
        measured,
        _verdict(share, CLOSE_TO_ORACLE_SHARE),
        share,
        "share of the Oracle's robustness gain that MTL recovers",
        CLOSE_TO_ORACLE_SHARE,
    )


@dataclass(frozen=True)
class BrainRobustness:
    """Claim 3's statistics: the OLS over MTL networks and the confounded rank correlation over all."""

    neural: Estimate  # the OLS coefficient of Neural, with its t interval
    p_value: float
    clean: Estimate  # the OLS coefficient of Clean
    r_squared: float
    n_mtl: int
    spearman: Estimate  # over all networks


def brain_robustness(runs: list[RunResult]) -> BrainRobustness:
    """OLS ``Robustness ~ Clean + Neural`` over the MTL networks of every step (Robustness = relative
    robustness score in %, Clean = clean accuracy in %, Neural = V1 predictivity, mean FEVE), as the authors
    fitted it over MTL networks trained with different batch ratios; plus the Spearman correlation of
    relative robustness and predictivity over all networks. A network that several steps share counts once."""
    runs = list({r.name: r for r in runs}.values())
    mtl = [r for r in runs if r.condition == "mtl"]
    fit = ols(
        np.array([r.relative_overall for r in mtl], dtype=float),
        {
            "Clean": np.array([100 * r.clean_accuracy for r in mtl], dtype=float),
            "Neural": np.array([r.predictivity for r in mtl], dtype=float),
        },
    )
    nan = float("nan")

    def term(name: str) -> Estimate:
        t = fit[name]
        return Estimate(t.coefficient, t.ci_low, t.ci_high, fit.n)

    rank = bootstrap_spearman(
        np.array([r.relative_overall for r in runs], dtype=float),
        np.array([r.predictivity for r in runs], dtype=float),
    )
    neural = term("Neural") if fit.n >= MIN_OLS_NETWORKS else Estimate(nan, nan, nan, fit.n)
    return BrainRobustness(neural, fit["Neural"].p_value, term("Clean"), fit.r_squared, fit.n, rank)


def brain_claim(result: BrainRobustness) -> Claim:
    rank = result.spearman
    secondary = (
        f"secondary, confounded (conditions differ in how well they learned at all): Spearman correlation of "
        f"relative robustness and V1 predictivity over all networks {_fmt(rank, 2)}"
    )
    if result.n_mtl < MIN_OLS_NETWORKS:
        measured = (
            f"OLS Robustness ~ Clean + Neural needs at least {MIN_OLS_NETWORKS} MTL networks, the study has "
            f"{result.n_mtl} (the ratio-sweep preset trains MTL at several batch ratios); {secondary}"
        )
        why = f"the OLS needs at least {MIN_OLS_NETWORKS} MTL networks, the study has {result.n_mtl}"
        return Claim(3, CLAIMS[2], measured, "undetermined", reason=why)
    measured = (
        f"OLS over {result.n_mtl} MTL networks, Robustness (relative score, %) ~ Clean (%) + Neural (mean "
        f"FEVE): Neural coefficient {_fmt(result.neural, 1)}, p = {result.p_value:.3g}, R^2 = "
        f"{result.r_squared:.2f}; {secondary}"
    )
    return Claim(
        3, CLAIMS[2], measured, _verdict(result.neural), result.neural, "OLS coefficient of V1 predictivity"
    )


def paper_reference() -> Claim:
    """The paper's own overall scores, as a reference row of the claims table (a different setting)."""
    scores = ", ".join(f"{name} {mean:.1f} ± {std:.1f}" for name, mean, std in PAPER_SCORES)
    return Claim(
        0,
        "Reference: the paper's relative robustness scores (TinyImageNet, VGG-19-BN, Tiny-ImageNet-C; a different setting)",
        f"{scores} (mean ± std over bootstrapped seeds; Baseline = 100)",
        "reference",
    )


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


# Claims 4 and 5: the analysis, its per-image measure and what the measure is, in words.
_ANALYSIS_CLAIMS = {
    4: (
        "reconstruction",
        "content_gain",
        "content gain of reconstructions (mean over budgets and noise levels)",
    ),
    5: ("saliency", "nss", "NSS of sensitivity maps in salient regions (mean over methods)"),
}


def content_claim(per_image_csv: Path, runs: list[RunResult]) -> Claim:
    return _analysis_claim(4, per_image_csv, runs)


def saliency_claim(per_image_csv: Path, runs: list[RunResult]) -> Claim:
    return _analysis_claim(5, per_image_csv, runs)


def _analysis_claim(number: int, per_image_csv: Path, runs: list[RunResult]) -> Claim:
    """Claims 4 and 5: MTL - Baseline on an analysis's per-image measure, paired over images."""
    analysis, measure, what = _ANALYSIS_CLAIMS[number]
    if not per_image_csv.is_file():
        why = f"the {analysis} analysis has not run"
        return Claim(number, CLAIMS[number - 1], why, "undetermined", reason=why)
    est = _condition_vs_baseline(_per_image(per_image_csv, measure), runs, "mtl")
    measured = f"{what}, MTL - Baseline, paired over images: {_fmt(est)}"
    return Claim(number, CLAIMS[number - 1], measured, _verdict(est), est, f"MTL - Baseline, {what}")
