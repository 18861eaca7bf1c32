from v1mtl.analysis.stats import Estimate
from v1mtl.report.claims import _verdict, oracle_claim, robustness_claim
from v1mtl.report.collect import RunResult


def _runs(values: dict[str, list[float]]) -> list[RunResult]:
    return [
        RunResult(c, seed, f"{c}-s{seed}", mean_corruption_accuracy=v)
        for c, vs in values.items()
        for seed, v in enumerate(vs)
    ]


def test_verdicts_follow_the_interval():
    assert _verdict(Estimate(0.2, 0.1, 0.3, 5)) == "held"
    assert _verdict(Estimate(-0.2, -0.3, -0.1, 5)) == "not held"
    assert _verdict(Estimate(0.1, -0.1, 0.3, 5)) == "not established"
    assert _verdict(Estimate(0.2, float("nan"), float("nan"), 1)) == "undetermined"
    assert _verdict(Estimate(0.6, 0.55, 0.7, 3), threshold=0.5) == "held"


def test_robustness_claim_pairs_seeds():
    # differences per seed: 0.10, 0.12, 0.08 -> mean 0.10 with a t interval excluding 0
    claim = robustness_claim(_runs({"baseline": [0.30, 0.40, 0.50], "mtl": [0.40, 0.52, 0.58]}))
    assert claim.verdict == "held"
    assert "+0.100" in claim.measured
    one_seed = robustness_claim(_runs({"baseline": [0.3], "mtl": [0.2]}))
    assert one_seed.verdict == "undetermined" and "-0.100" in one_seed.measured


def test_oracle_claim_needs_an_established_oracle_gain():
    runs = _runs(
        {"baseline": [0.30, 0.40, 0.50], "mtl": [0.38, 0.49, 0.57], "noise-augmented": [0.40, 0.50, 0.60]}
    )
    # shares: 0.8, 0.9, 0.7 -> mean 0.8 with a t interval above 0.5
    claim = oracle_claim(runs)
    assert claim.verdict == "held" and "+0.80" in claim.measured
    flat = _runs(
        {"baseline": [0.3, 0.4, 0.5], "mtl": [0.35, 0.45, 0.5], "noise-augmented": [0.3, 0.41, 0.49]}
    )
    assert oracle_claim(flat).verdict == "undetermined"
    assert "not established as more robust" in oracle_claim(flat).measured
    worse = _runs({"baseline": [0.3, 0.4, 0.5], "mtl": [0.3, 0.4, 0.5], "noise-augmented": [0.2, 0.31, 0.39]})
    claim = oracle_claim(worse)
    assert claim.verdict == "undetermined" and "less robust than the Baseline" in claim.measured
