import numpy as np
import pytest

from v1mtl.common.stats import Estimate
from v1mtl.evaluate.relative_robustness import RelativeRobustness
from v1mtl.report import RunResult
from v1mtl.report.claims import (
    PAPER_SCORES,
    _verdict,
    brain_claim,
    brain_robustness,
    oracle_claim,
    paper_reference,
    robustness_claim,
)


def _runs(values: dict[str, list[float]]) -> list[RunResult]:
    """condition -> relative robustness score per seed (the Baseline's is 100 by definition)."""
    return [
        RunResult(c, seed, f"{c}-s{seed}", relative=RelativeRobustness(v), mean_corruption_accuracy=v / 200)
        for c, vs in values.items()
        for seed, v in enumerate(vs)
    ]


def test_verdicts_follow_the_interval():
    assert _verdict(Estimate(0.2, 0.1, 0.3, 5)) == "held"
    assert _verdict(Estimate(-0.2, -0.3, -0.1, 5)) == "not held"
    assert _verdict(Estimate(0.1, -0.1, 0.3, 5)) == "not established"
    assert _verdict(Estimate(0.2, float("nan"), float("nan"), 1)) == "undetermined"
    assert _verdict(Estimate(0.6, 0.55, 0.7, 3), threshold=0.5) == "held"


def test_robustness_claim_tests_the_relative_score_against_100():
    claim = robustness_claim(_runs({"baseline": [100, 100, 100], "mtl": [110, 112, 108]}))
    assert claim.verdict == "held"
    assert "110.0" in claim.measured
    # MTL's score is a per-seed ratio to its own Baseline, so a Baseline that varies a lot is no noise here
    worse = robustness_claim(_runs({"baseline": [100, 100, 100], "mtl": [90, 92, 94]}))
    assert worse.verdict == "not held"
    one_seed = robustness_claim(_runs({"baseline": [100], "mtl": [120]}))
    assert one_seed.verdict == "undetermined" and "no interval" in one_seed.measured


def test_oracle_claim_needs_an_established_oracle_gain():
    runs = _runs({"baseline": [100] * 3, "mtl": [116, 118, 114], "noise-augmented": [120, 120, 120]})
    # shares of the Oracle's +20: 0.8, 0.9, 0.7 -> mean 0.8 with a t interval above 0.5
    claim = oracle_claim(runs)
    assert claim.verdict == "held" and "+0.80" in claim.measured
    flat = _runs({"baseline": [100] * 3, "mtl": [105, 102, 101], "noise-augmented": [99, 102, 100]})
    assert oracle_claim(flat).verdict == "undetermined"
    assert "not established as more robust" in oracle_claim(flat).measured
    worse = _runs({"baseline": [100] * 3, "mtl": [100] * 3, "noise-augmented": [80, 82, 79]})
    claim = oracle_claim(worse)
    assert claim.verdict == "undetermined" and "less robust than the Baseline" in claim.measured


def _mtl_networks(clean, neural, robustness) -> list[RunResult]:
    return [
        RunResult(
            "mtl",
            i,
            f"mtl-s{i}",
            step=f"r{i}",
            clean_accuracy=c,
            predictivity=n,
            relative=RelativeRobustness(r),
        )
        for i, (c, n, r) in enumerate(zip(clean, neural, robustness, strict=True))
    ]


def test_brain_claim_controls_for_clean_accuracy():
    rng = np.random.default_rng(0)
    clean = rng.uniform(0.4, 0.6, 12)
    neural = rng.uniform(0.2, 0.4, 12)
    # robustness follows clean accuracy only: a rank correlation with Neural could appear by confounding,
    # but the OLS coefficient of Neural is ~0 and not established
    confounded = 100 + 50 * (clean - 0.5) + rng.normal(0, 0.5, 12)
    result = brain_robustness(_mtl_networks(clean, neural, confounded))
    assert result.n_mtl == 12
    assert result.clean.value == pytest.approx(0.5, abs=0.05)  # per percentage point of clean accuracy
    assert brain_claim(result).verdict == "not established"
    # robustness that rises with Neural at fixed clean accuracy: held, with the generating slope recovered
    driven = 100 + 50 * (clean - 0.5) + 40 * neural + rng.normal(0, 0.5, 12)
    result = brain_robustness(_mtl_networks(clean, neural, driven))
    assert brain_claim(result).verdict == "held"
    assert result.neural.ci_low < 40 < result.neural.ci_high
    assert result.p_value < 1e-6


def test_brain_claim_is_undetermined_with_too_few_mtl_networks():
    result = brain_robustness(_mtl_networks([0.5, 0.6, 0.55], [0.3, 0.35, 0.32], [101, 104, 103]))
    claim = brain_claim(result)
    assert claim.verdict == "undetermined" and "at least 4 MTL networks" in claim.measured


def test_paper_reference_row_names_its_setting():
    row = paper_reference()
    assert row.verdict == "reference" and "different setting" in row.statement
    for name, mean, std in PAPER_SCORES:
        assert f"{name} {mean:.1f} ± {std:.1f}" in row.measured


def test_a_network_shared_by_steps_counts_once():
    nets = _mtl_networks([0.5, 0.6, 0.55, 0.52], [0.3, 0.35, 0.32, 0.31], [101, 104, 103, 102])
    shared = RunResult(
        "baseline", 0, "default/baseline-s0", relative=RelativeRobustness(100), predictivity=0.3
    )
    once = brain_robustness([*nets, shared])
    twice = brain_robustness([*nets, shared, RunResult(**{**shared.__dict__, "step": "other"})])
    assert once.spearman == twice.spearman and once.n_mtl == 4
