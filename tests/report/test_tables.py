import math

from v1mtl.common.stats import Estimate
from v1mtl.common.tables import read_csv
from v1mtl.evaluate.robustness_table import RobustnessRow
from v1mtl.report import RunResult
from v1mtl.report.claims import Claim
from v1mtl.report.tables import write_tables


def _row(model: str, source: str, corruption: str, severity: float, correct: int) -> RobustnessRow:
    return RobustnessRow(model, source, "tiny-imagenet", False, "gray", corruption, severity, 10, correct)


def _run(condition: str, seed: int) -> RunResult:
    name = f"{condition}-s{seed}"
    return RunResult(
        condition,
        seed,
        name,
        clean_accuracy=0.5,
        predictivity=0.3,
        predictivity_layer="relu3_1",
        predictivity_layers=[{"layer": "relu2_1", "feve_mean": 0.2}, {"layer": "relu3_1", "feve_mean": 0.3}],
        rows=[_row(name, "on-the-fly", "clean", 0, 5), _row(name, "on-the-fly", "contrast", 3.0, 2)],
        sweep_rows=[_row(name, "gaussian-sweep", "gaussian_sweep", 0.1, 4)],
    )


def test_study_tables_have_condition_and_seed_and_one_row_per_observation(tmp_path):
    runs = [_run(c, s) for c in ("baseline", "mtl") for s in (0, 1)]
    claims = [
        Claim(1, "MTL is more robust than Baseline", "m", "held", Estimate(110, 104, 116, 2), "score", 100)
    ]
    written = write_tables(runs, claims, tmp_path)
    assert [p.name for p in written] == ["summary.csv", "claims.csv", "robustness.csv", "predictivity.csv"]

    summary = read_csv(tmp_path / "summary.csv")
    assert [(r["condition"], r["seed"], r["network"]) for r in summary][:2] == [
        ("baseline", "0", "baseline-s0"),
        ("baseline", "1", "baseline-s1"),
    ]
    assert float(summary[0]["clean_accuracy"]) == 0.5 and summary[0]["under_trained"] == "False"

    (claim,) = read_csv(tmp_path / "claims.csv")
    assert (claim["claim"], claim["verdict"], float(claim["ci_low"]), claim["n"]) == ("1", "held", 104.0, "2")

    robustness = read_csv(tmp_path / "robustness.csv")
    assert len(robustness) == 4 * 3  # 4 networks x (clean, contrast, one sweep std)
    sweep = [r for r in robustness if r["source"] == "gaussian-sweep"]
    assert len(sweep) == 4 and all(r["severity"] == "" and r["noise_std"] == "0.1" for r in sweep)
    contrast = next(r for r in robustness if r["corruption"] == "contrast")
    assert (contrast["severity"], contrast["noise_std"], float(contrast["accuracy"])) == ("3", "", 0.2)
    assert "model" not in robustness[0]

    predictivity = read_csv(tmp_path / "predictivity.csv")
    assert len(predictivity) == 8
    assert {r["layer"] for r in predictivity if r["best"] == "True"} == {"relu3_1"}


def test_tables_without_rows_are_not_written(tmp_path):
    claims = [Claim(2, "MTL is close to the Oracle", "m", "undetermined", reason="no Oracle")]
    written = write_tables([RunResult("mtl", 0, "mtl-s0")], claims, tmp_path)
    assert [p.name for p in written] == ["summary.csv", "claims.csv"]
    (claim,) = read_csv(tmp_path / "claims.csv")
    assert math.isnan(float(claim["value"]))
