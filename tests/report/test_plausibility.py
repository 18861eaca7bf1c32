"""The report's checks that its numbers can be true, and its list of failed fits, on hand-written unit files."""

from __future__ import annotations

import json

import pytest

from v1mtl.common.config import load_config
from v1mtl.evaluate.robustness_table import RobustnessRow
from v1mtl.report.collect import RunResult
from v1mtl.report.plausibility import (
    failed_fits,
    failed_fits_box,
    plausibility_box,
    plausibility_flags,
    wilson_interval,
)
from v1mtl.study import StudyConfig, build_plan


@pytest.fixture
def plan(tmp_path):
    cfg = load_config(
        StudyConfig, preset="study-smoke", overrides=["conditions=[baseline, mtl]", "seeds=[0]"]
    )
    return build_plan(cfg, tmp_path)


def _unit(plan, stage):
    return next(u for u in plan.units if u.stage == stage)


def _write(plan, stage, summary):
    folder = _unit(plan, stage).folder(plan.root)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "summary.json").write_text(json.dumps(summary))
    return folder / "summary.json"


def _row(corruption, severity, correct, n=100):
    return RobustnessRow("m", "on-the-fly", "tiny", False, "gray", corruption, severity, n, correct)


def test_wilson_interval_brackets_the_observed_rate():
    for correct, n in ((0, 10), (7, 20), (20, 20), (450, 1000)):
        low, high = wilson_interval(correct, n)
        assert 0 <= low <= correct / n <= high <= 1
    wide, narrow = wilson_interval(9, 20), wilson_interval(450, 1000)
    assert narrow[1] - narrow[0] < wide[1] - wide[0]  # more images, a tighter interval


def test_plausible_numbers_raise_no_flag(plan):
    _write(plan, "fit", {"status": "ok", "feve_mean": 0.3, "feve_median": 0.25})
    layers = [{"layer": "relu2_1", "status": "ok", "feve_mean": 0.2, "feve_median": -0.4}]
    _write(plan, "predictivity", {"status": "ok", "layers": layers})
    run = RunResult("baseline", 0, "baseline-s0", test_accuracy=0.5, clean_accuracy=0.5)
    run.rows = [_row("clean", 0, 50), _row("contrast", 1, 55)]  # above clean, within the intervals
    # on 4 images, 1 correct after a corruption and none clean is no evidence of anything
    few = RunResult("mtl", 0, "mtl-s0", test_accuracy=0.0, clean_accuracy=0.0)
    few.rows = [_row("clean", 0, 0, n=4), _row("fog", 1, 1, n=4)]
    assert plausibility_flags(plan, [run, few]) == [] and plausibility_box(plan, [run, few]) is None
    assert failed_fits(plan) == [] and failed_fits_box(plan) is None


def test_each_implausible_number_is_flagged_with_its_file(plan):
    fit = _write(plan, "fit", {"status": "ok", "feve_mean": -4.3e21, "feve_median": 0.1})
    layers = [{"layer": "relu2_1", "status": "ok", "feve_mean": 1.5, "feve_median": 0.2}]
    pred = _write(plan, "predictivity", {"status": "ok", "layers": layers})
    run = RunResult("baseline", 0, "baseline-s0", test_accuracy=1.2, clean_accuracy=0.3)
    run.rows = [_row("clean", 0, 30), _row("fog", 2, 60)]
    flags = plausibility_flags(plan, [run])
    root = plan.root
    assert any("feve_mean = -4.3e+21" in f and str(fit.relative_to(root)) in f for f in flags)
    assert any("layer relu2_1 feve_mean = 1.5" in f and str(pred.relative_to(root)) in f for f in flags)
    assert any("test accuracy = 1.2" in f and "final.json" in f for f in flags)
    assert any("fog severity 2" in f and "robustness.csv" in f for f in flags)
    assert len(flags) == 4
    assert plausibility_box(plan, [run]).kind == "warning"


def test_a_failed_fit_is_listed_and_its_scores_are_not_flagged(plan):
    path = _write(
        plan, "fit", {"status": "failed", "failure": "non-finite training loss", "feve_mean": -1e16}
    )
    layers = [{"layer": "relu2_1", "status": "failed", "feve_mean": -9e20}]
    _write(
        plan, "predictivity", {"status": "failed", "failure": "every layer's fit failed", "layers": layers}
    )
    assert plausibility_flags(plan, []) == []
    listed = failed_fits(plan)
    assert len(listed) == 2
    assert any("non-finite training loss" in f and str(path.relative_to(plan.root)) in f for f in listed)
    assert failed_fits_box(plan).kind == "warning"
