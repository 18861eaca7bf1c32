import numpy as np

from v1mtl.common.stats import Estimate
from v1mtl.report import RunResult
from v1mtl.report.claims import Claim
from v1mtl.report.summary_box import NEURAL_FIT_TARGET, summary_box, warning_box


def _claim(verdict: str, value: float, low: float, high: float, n: int = 3) -> Claim:
    return Claim(
        1, "MTL is more robust than Baseline", "m", verdict, Estimate(value, low, high, n), "score", 100.0
    )


def test_claim_sentences_say_the_verdict_with_the_interval():
    assert (
        _claim("held", 110, 104, 116).sentence() == "Yes: score 110 [104, 116], n=3; the interval clears 100."
    )
    assert _claim("not held", 90, 85, 95).sentence().startswith("No: score 90 [85, 95]")
    assert "includes 100" in _claim("not established", 105, 95, 115).sentence()
    one = _claim("undetermined", 120, float("nan"), float("nan"), n=1).sentence()
    assert one == "Undetermined: score 120 from n=1, too few for an interval."
    reason = Claim(
        3, "s", "m", "undetermined", reason="the OLS needs at least 4 MTL networks, the study has 1"
    )
    assert reason.sentence() == "Undetermined: the OLS needs at least 4 MTL networks, the study has 1."


def _runs(seeds: int, **fields) -> list[RunResult]:
    return [
        RunResult(c, s, f"{c}-s{s}", clean_accuracy=0.5 + 0.01 * s, predictivity=0.2, n_classes=20, **fields)
        for c in ("baseline", "mtl")
        for s in range(seeds)
    ]


def test_summary_box_states_chance_level_and_the_v1_models_feve():
    box = summary_box([_claim("held", 110, 104, 116)], _runs(3), ["baseline", "mtl"], v1_model_feve=0.45)
    text = "\n".join(box.items)
    assert box.kind == "answer" and box.items[0].startswith(
        "Claim 1 (MTL is more robust than Baseline): Yes:"
    )
    assert "chance 5.0% with 20 classes" in text and "baseline 51.0% [48.5, 53.5]" in text
    assert "the V1 model that made the targets reaches 0.450" in text
    unknown = summary_box([], [RunResult("mtl", 0, "mtl-s0", clean_accuracy=0.3)], ["mtl"], None)
    assert "chance level not recorded" in unknown.items[0] and "mtl 30.0%" in unknown.items[0]


def test_warning_box_names_what_is_missing_and_the_preset_that_would_answer():
    assert warning_box(_runs(5), [_claim("held", 110, 104, 116, 5)], "builtin") is None
    one_seed = warning_box(_runs(1), [_claim("undetermined", 110, np.nan, np.nan, 1)], "builtin")
    assert one_seed.kind == "warning" and "One seed" in one_seed.items[0]
    assert "'builtin-full' preset" in one_seed.items[0]
    wide = warning_box(_runs(3), [_claim("not established", 105, 95, 115)], "/data/tiny-imagenet-200")
    assert "With 3 seeds" in wide.items[0] and "'paper' preset" not in wide.items[0]  # paper has 3 seeds
    runs = _runs(5, under_trained=True, val_neural_corr=NEURAL_FIT_TARGET - 0.1)
    both = warning_box(runs, [_claim("held", 110, 104, 116, 5)], "builtin")
    assert "10 of 10 runs were still improving" in both.items[0] and "schedule.max_epochs" in both.items[0]
    assert f"only {NEURAL_FIT_TARGET - 0.1:.3f}" in both.items[1]
