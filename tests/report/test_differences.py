import csv

import numpy as np
import pytest

from v1mtl.report import RunResult
from v1mtl.report.build import differences_table
from v1mtl.report.differences import paired_differences, paired_seed_difference, write_csv


def _runs(table: dict[str, list[tuple[float, float]]]) -> list[RunResult]:
    """condition -> per seed (clean accuracy, mean corruption accuracy)."""
    return [
        RunResult(c, seed, f"{c}-s{seed}", clean_accuracy=clean, mean_corruption_accuracy=corr)
        for c, vals in table.items()
        for seed, (clean, corr) in enumerate(vals)
    ]


def test_difference_is_paired_by_seed_not_by_position():
    runs = _runs({"baseline": [(0.5, 0.30), (0.6, 0.40), (0.7, 0.50)], "mtl": [(0.5, 0.35), (0.6, 0.44)]})
    runs[-1].seed, runs[-2].seed = 0, 2  # mtl ran seeds 2 and 0, listed in that order
    est = paired_seed_difference(runs, "baseline", "mtl", "mean_corruption_accuracy")
    # seed 2: 0.35 - 0.50, seed 0: 0.44 - 0.30
    assert est.n == 2
    assert est.value == pytest.approx(np.mean([-0.15, 0.14]))


def test_interval_comes_from_the_spread_of_paired_differences():
    # the Baseline varies a lot across seeds, MTL is always 0.05 better: a tight interval around 0.05
    base = [(0.5, v) for v in (0.2, 0.4, 0.6, 0.3, 0.5)]
    mtl = [(0.5, v + d) for (_, v), d in zip(base, (0.04, 0.06, 0.05, 0.05, 0.05), strict=True)]
    est = paired_seed_difference(
        _runs({"baseline": base, "mtl": mtl}), "baseline", "mtl", "mean_corruption_accuracy"
    )
    assert est.value == pytest.approx(0.05)
    assert 0.035 < est.ci_low < 0.05 < est.ci_high < 0.065


def test_pairs_need_both_conditions_and_skip_unmeasured_metrics():
    runs = _runs({"baseline": [(0.5, 0.3)] * 3, "mtl": [(0.6, 0.35)] * 3, "mtl-shuffled": [(0.55, 0.3)] * 3})
    diffs = paired_differences(runs)
    pairs = {(d.condition, d.reference) for d in diffs}
    assert pairs == {("mtl", "baseline"), ("mtl-shuffled", "baseline"), ("mtl", "mtl-shuffled")}
    # predictivity was never measured (NaN): no row for it
    assert {d.metric for d in diffs} == {"clean_accuracy", "mean_corruption_accuracy"}
    table = differences_table(diffs)
    row = next(r for r in table.rows if r[0] == "mtl - baseline")
    assert row[1] == "3" and row[2].startswith("+0.100") and row[-1] == "–"


def test_csv_is_tidy_with_empty_interval_for_one_seed(tmp_path):
    runs = _runs({"baseline": [(0.5, 0.3)], "mtl": [(0.4, 0.25)]})
    path = write_csv(paired_differences(runs), tmp_path / "d.csv")
    with open(path, newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [(r["metric"], r["n_seeds"], r["ci_low"]) for r in rows] == [
        ("clean_accuracy", "1", ""),
        ("mean_corruption_accuracy", "1", ""),
    ]
    assert float(rows[0]["difference"]) == pytest.approx(-0.1)


def test_figure_is_written_as_a_png(tmp_path):
    from v1mtl.report import figures

    runs = _runs({"baseline": [(0.5, 0.3), (0.6, 0.4)], "mtl": [(0.55, 0.32), (0.62, 0.45)]})
    path = figures.paired_differences(paired_differences(runs), tmp_path / "d.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
