"""The report's summary table: the V1-predictivity cell says mean, median and neurons used, or 'failed'."""

from v1mtl.report.build import summary_table
from v1mtl.report.collect import RunResult


def _run(condition, seed, **fields):
    return RunResult(condition, seed, f"{condition}-s{seed}", **fields)


def _cell(runs, condition):
    table = summary_table(runs)
    column = table.header.index("V1 predictivity (FEVE; median; reliable neurons)")
    return next(row[column] for row in table.rows if row[0] == condition)


def test_the_cell_holds_mean_median_and_the_neurons_used():
    runs = [_run("baseline", 1, predictivity=0.25, predictivity_median=0.2, predictivity_neurons=(9, 12))]
    assert _cell(runs, "baseline") == "0.250; median 0.200; 9 of 12 neurons"


def test_a_failed_fit_reads_failed_never_a_score():
    failed = _run("mtl", 1, predictivity_failed=True, predictivity_failure="diverged")
    assert _cell([failed], "mtl") == "failed"
    ok = _run("mtl", 2, predictivity=0.1, predictivity_median=0.1, predictivity_neurons=(8, 12))
    cell = _cell([failed, ok], "mtl")
    assert cell.startswith("0.100; median 0.100; 8 of 12 neurons") and cell.endswith("1 of 2 fits failed")
