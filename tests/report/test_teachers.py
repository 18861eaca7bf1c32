"""The teachers table: rows per teacher and per other condition, paired by seed with the shared Baseline."""

import csv

import pytest

from v1mtl.evaluate.relative_robustness import RelativeRobustness
from v1mtl.report import RunResult
from v1mtl.report.teachers import figure, pixel_control_sentence, teacher_rows, write_csv


def _run(step: str, condition: str, seed: int, overall: float, clean: float = 0.5, noise: float = 100.0):
    rel = RelativeRobustness(overall, per_family={"noise": noise})
    return RunResult(
        condition,
        seed,
        f"{condition}-s{seed}",
        step=step,
        clean_accuracy=clean,
        relative=rel,
        val_neural_corr=0.9,
    )


def _study(
    pixel: list[float], mtl_full=(104.0, 106.0, 105.0), mtl_low=(101.0, 102.0, 100.0)
) -> list[RunResult]:
    runs = []
    for step in ("full", "low-sf"):
        for seed in range(3):
            # the shared Baseline appears once per step, as collect_runs lists it
            runs.append(_run(step, "baseline", seed, 100.0, clean=0.50 + 0.01 * seed))
            runs.append(_run(step, "pixel-similarity", seed, pixel[seed]))
            runs.append(_run(step, "vone", seed, 103.0, clean=0.45))
    runs += [_run("full", "mtl", s, v, clean=0.52 + 0.01 * s, noise=v + 2) for s, v in enumerate(mtl_full)]
    runs += [_run("low-sf", "mtl", s, v) for s, v in enumerate(mtl_low)]
    return runs


def test_rows_are_the_teachers_then_the_other_conditions_paired_by_seed():
    rows = teacher_rows(_study(pixel=[104.0, 105.0, 106.0]), ["full", "low-sf"])
    assert [(r.name, r.condition) for r in rows[:2]] == [("full", "mtl"), ("low-sf", "mtl")]
    assert sorted(r.condition for r in rows[2:]) == ["pixel-similarity", "vone"]
    full, low = rows[:2]
    assert full.scores["overall"].value == pytest.approx(5.0) and full.scores["overall"].n == 3
    assert full.scores["noise"].value == pytest.approx(7.0)
    assert full.clean_vs_baseline.value == pytest.approx(0.02)  # 0.52 + s/100 against 0.50 + s/100
    assert full.clean_vs_baseline.ci_high - full.clean_vs_baseline.ci_low == pytest.approx(0.0, abs=1e-9)
    assert full.vs_reference is None
    # low-sf minus full, seed by seed: -3, -4, -5
    assert low.vs_reference.value == pytest.approx(-4.0) and low.vs_reference.ci_high < 0


@pytest.mark.parametrize(
    ("pixel", "mtl_full", "expected"),
    [
        ([104.0, 105.0, 106.0], (104.0, 106.0, 105.0), "it matches MTL"),
        ([100.0, 100.5, 101.0], (104.0, 106.0, 105.0), "it falls short of MTL"),
        ([100.0, 100.5, 101.0], (99.0, 101.0, 100.0), "no established robustness gain"),
    ],
)
def test_pixel_control_sentence_says_whether_the_gain_needs_v1(pixel, mtl_full, expected):
    runs = _study(pixel=pixel, mtl_full=mtl_full)
    rows = teacher_rows(runs, ["full", "low-sf"])
    assert expected in pixel_control_sentence(rows, runs, "full")


def test_pixel_control_with_one_seed_is_undetermined_and_absent_without_the_condition():
    runs = [r for r in _study(pixel=[104.0, 105.0, 106.0]) if r.seed == 0]
    rows = teacher_rows(runs, ["full", "low-sf"])
    assert "undetermined" in pixel_control_sentence(rows, runs, "full")
    without = [r for r in runs if r.condition != "pixel-similarity"]
    assert pixel_control_sentence(teacher_rows(without, ["full"]), without, "full") is None


def test_csv_and_figure(tmp_path):
    rows = teacher_rows(_study(pixel=[104.0, 105.0, 106.0]), ["full", "low-sf"])
    path = write_csv(rows, tmp_path / "teachers.csv")
    with open(path, newline="") as fh:
        records = list(csv.DictReader(fh))
    low = {r["measure"]: r for r in records if r["teacher"] == "low-sf"}
    assert float(low["relative_overall_minus_reference_teacher"]["value"]) == pytest.approx(-4.0)
    assert low["relative_overall_minus_baseline"]["n_seeds"] == "3"
    assert "relative_overall_minus_reference_teacher" not in {
        r["measure"] for r in records if r["teacher"] == "full"
    }
    assert figure(rows, tmp_path / "teachers.png").stat().st_size > 1000
