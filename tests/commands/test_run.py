"""``v1mtl run --smoke``: the whole pipeline at toy size, then a rerun that resumes and does nothing."""

import json
from pathlib import Path

import pytest

import v1mtl.study
from v1mtl.cli import main
from v1mtl.commands.run import default_out
from v1mtl.common.tables import read_csv
from v1mtl.report.claims import CLAIMS
from v1mtl.training import CONDITIONS


def test_smoke_study_runs_every_stage_then_resumes_without_work(tmp_path, capsys):
    out = tmp_path / "study"
    assert main(["run", "--smoke", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    for condition in CONDITIONS:
        assert (out / "train" / f"{condition}-s0" / "final.json").is_file()
        assert (out / "robustness" / f"{condition}-s0" / "corruptions" / "robustness.csv").is_file()
        assert (out / "predictivity" / f"{condition}-s0" / "summary.json").is_file()
        assert (out / "adversarial" / f"{condition}-s0" / "adversarial.json").is_file()
        assert f"| {condition} | 1 |" in printed
    assert (out / "fit" / "v1-model" / "summary.json").is_file()
    for target in ("real", "shuffled", "random", "oracle-s0"):
        assert (out / "targets" / target / "data" / "manifest.json").is_file()
    assert (out / "fit" / "oracle-s0" / "model.pt").is_file()  # the Oracle's readouts, a unit of their own
    assert (out / "analysis" / "reconstruction" / "per_image.csv").is_file()
    assert (out / "analysis" / "saliency" / "per_image.csv").is_file()
    report = (out / "report.md").read_text()
    for claim in CLAIMS:
        assert claim in report
    # the report opens with the summary box: every claim's verdict, accuracy beside chance, FEVE beside the
    # V1 model's; then the warning box (one seed), then the tables
    box = report[report.index("> **The answer**") : report.index("> **Warning:")]
    for number, claim in enumerate(CLAIMS, start=1):
        assert f"> - Claim {number} ({claim}): " in box
    assert "Claim 1 (MTL is more robust than Baseline): Undetermined:" in box and "n=1" in box
    assert "chance 10.0% with 10 classes" in box and "the V1 model that made the targets reaches" in box
    warning = report[report.index("> **Warning:") : report.index("## Summary")]
    assert "One seed" in warning and "'builtin-full' preset" in warning
    assert (
        report.index("> **The answer**") < report.index("## Summary") < report.index("## The paper's claims")
    )
    assert "The answer\n  - Claim 1 (MTL is more robust than Baseline)" in printed  # the console's last block
    assert "| mtl - baseline | 1 |" in report
    assert "## Relative robustness score" in report and "different setting" in report
    scores = (out / "report" / "relative_robustness.csv").read_text().splitlines()
    assert scores[0] == "step,condition,scope,name,n_seeds,score,ci_low,ci_high"
    assert any(line.startswith(",mtl,family,noise,1,") for line in scores)
    final = json.loads((out / "train" / "mtl-s0" / "final.json").read_text())
    assert -1 <= final["test_neural_corr"] <= 1 and isinstance(final["under_trained"], bool)
    assert (out / "report" / "paired_differences.csv").read_text().startswith("condition,reference,metric")
    # report.html stands alone: every figure is embedded, none is linked
    html = (out / "report.html").read_text()
    assert html.startswith("<!DOCTYPE html>") and '<section class="box answer">' in html
    figures = report.count("![")
    assert figures >= 5 and html.count('<img src="data:image/png;base64,') == figures
    # the study's tidy tables: one row per observation, with condition and seed columns
    summary = read_csv(out / "report" / "summary.csv")
    assert sorted((r["condition"], r["seed"]) for r in summary) == sorted((c, "0") for c in CONDITIONS)
    assert [r["claim"] for r in read_csv(out / "report" / "claims.csv")] == ["1", "2", "3", "4", "5"]
    robustness = read_csv(out / "report" / "robustness.csv")
    sweep = [r for r in robustness if r["source"] == "gaussian-sweep"]
    grid = [r for r in robustness if r["source"] != "gaussian-sweep"]
    assert sweep and all(r["severity"] == "" and float(r["noise_std"]) >= 0 for r in sweep)
    assert grid and all(r["noise_std"] == "" for r in grid)
    assert {r["network"] for r in robustness} == {f"{c}-s0" for c in CONDITIONS}
    predictivity = read_csv(out / "report" / "predictivity.csv")
    assert {r["condition"] for r in predictivity if r["best"] == "True"} == set(CONDITIONS)
    assert f"report: {out / 'report.md'}" in printed
    # every figure the report links exists
    for line in report.splitlines():
        if line.startswith("!["):
            assert (out / line.split("](", 1)[1].rstrip(")")).is_file(), line

    first = {p: json.loads(p.read_text())["finished"] for p in out.glob("*/*/.done.json")}
    assert main(["run", "--smoke", "--out", str(out)]) == 0
    rerun = capsys.readouterr().out
    assert "(0 run now" in rerun
    assert {p: json.loads(p.read_text())["finished"] for p in out.glob("*/*/.done.json")} == first


def test_changed_setting_reruns_only_the_units_that_depend_on_it(tmp_path, capsys):
    out = tmp_path / "study"
    smoke = ["run", "--smoke", "--out", str(out), "--executor", "local", "--set", "conditions=[baseline]"]
    assert main(smoke) == 0
    capsys.readouterr()
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    changed = [*smoke, "--set", "robustness.limit=20"]
    assert main(changed) == 2  # finished robustness results are not replaced unasked
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "1 finished unit(s) in " in err and "robustness/baseline-s0 (limit: " in err and " -> 20)" in err
    assert "report/report" not in err  # the report is derived: replaced without asking
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
    assert main([*changed, "--force"]) == 0
    printed = capsys.readouterr().out
    ran = [line.split()[1] for line in printed.splitlines() if line.startswith("done ")]
    assert ran == ["robustness/baseline-s0", "report/report"]
    [kept] = (out / "robustness").glob("baseline-s0.replaced-*")
    assert (kept / "corruptions" / "robustness.csv").is_file()


def test_unknown_study_key_is_one_clear_error(tmp_path, capsys):
    assert main(["run", "--smoke", "--out", str(tmp_path), "--set", "robustness.severitys=[1]"]) == 2
    err = capsys.readouterr().err
    assert "robustness.severitys" in err and len(err.strip().splitlines()) == 1


def test_study_with_steps_shares_unchanged_units_and_reports_every_step(tmp_path, capsys):
    out = tmp_path / "ladder"
    steps = "steps=[{name: a}, {name: b, base: a, set: {train.neural.weighting: fixed}}]"
    args = ["run", "--smoke", "--out", str(out), "--executor", "local"]
    args += ["--set", "conditions=[baseline, mtl, mtl-shuffled]"]
    assert main([*args, "--set", "analyses=[]", "--set", steps]) == 0
    capsys.readouterr()
    # the Baseline does not read the neural settings: one run serves both steps
    assert (out / "train" / "a" / "baseline-s0" / "final.json").is_file()
    assert not (out / "train" / "b" / "baseline-s0").exists()
    assert (out / "train" / "b" / "mtl-s0" / "final.json").is_file()
    assert not (out / "analysis").exists()
    report = (out / "report.md").read_text()
    assert "## Steps" in report and "| b | a + train.neural.weighting = fixed |" in report
    measures = (out / "report" / "steps.csv").read_text()
    assert "b,overall_mtl_minus_shuffled,1," in measures and "a,mtl_val_neural_corr,1," in measures


def test_study_with_teachers_reports_which_v1_property_transfers(tmp_path, capsys):
    out = tmp_path / "teachers"
    args = ["run", "--smoke", "--out", str(out), "--executor", "local", "--set", "conditions=[baseline, mtl]"]
    args += [
        "--set",
        "analyses=[]",
        "--set",
        "teachers=[full, no-normalization]",
        "--set",
        "targets.source=simulator",
    ]
    assert main(args) == 0
    capsys.readouterr()
    assert (out / "v1" / "no-normalization" / "data" / "data" / "ground_truth" / "population.npz").is_file()
    assert (out / "train" / "no-normalization" / "mtl-s0" / "final.json").is_file()
    assert not (out / "train" / "no-normalization" / "baseline-s0").exists()  # shared with 'full'
    report = (out / "report.md").read_text()
    assert "## Which V1 property transfers" in report and "## Steps" not in report
    assert "| no-normalization |" in report and "report/figures/teachers.png" in report
    assert (out / "report" / "figures" / "teachers.png").is_file()
    measures = (out / "report" / "teachers.csv").read_text()
    assert "no-normalization,mtl,relative_overall_minus_reference_teacher,1," in measures
    assert "full,mtl,relative_noise_minus_baseline,1," in measures


def test_study_of_one_step_still_reports_the_step(tmp_path, capsys):
    out = tmp_path / "one-step"
    steps = "steps=[{name: only, set: {train.neural.weighting: fixed}}]"
    args = ["run", "--smoke", "--out", str(out), "--executor", "local"]
    args += ["--set", "conditions=[baseline, mtl, mtl-shuffled]"]
    assert main([*args, "--set", "analyses=[]", "--set", steps]) == 0
    capsys.readouterr()
    report = (out / "report.md").read_text()
    assert "## Steps" in report and "| only | train.neural.weighting = fixed |" in report
    measures = (out / "report" / "steps.csv").read_text()
    assert "only,overall_mtl_minus_baseline,1," in measures


def test_quiet_prints_only_the_answer_and_the_summary(tmp_path, capsys):
    out = tmp_path / "study"
    smoke = ["run", "--smoke", "--out", str(out), "--executor", "local", "--set", "conditions=[baseline,mtl]"]
    assert main([*smoke, "-q", "--no-progress"]) == 0
    printed = capsys.readouterr()
    assert not [line for line in printed.out.splitlines() if line.startswith(("done ", "study: "))]
    assert printed.out.lstrip().startswith("The answer\n  - Claim 1 (MTL is more robust than Baseline)")
    assert "| baseline | 1 |" in printed.out and f"report: {out / 'report.md'}" in printed.out
    assert "%|" not in printed.err  # no progress bar drawn


def test_each_preset_and_config_file_has_its_own_default_folder():
    assert default_out("quick", None) == Path("runs/quick")
    assert default_out("smoke", None) == Path("runs/smoke")
    assert default_out("paper", "studies/ablation.yaml") == Path("runs/paper")
    assert default_out(None, "studies/ablation.yaml") == Path("runs/ablation")


@pytest.mark.parametrize(
    ("args", "out", "replace"),
    [
        (["--smoke"], "runs/smoke", False),
        (["--preset", "paper", "--force"], "runs/paper", True),
        ([], "runs/quick", False),
        (["--smoke", "--out", "elsewhere", "--force"], "elsewhere", True),
    ],
)
def test_run_passes_its_default_folder_and_force_to_the_study(monkeypatch, tmp_path, args, out, replace):
    seen = {}

    def fake_run_study(cfg, out_dir, write_report, *, replace=False, **console):
        seen.update(out=Path(out_dir), replace=replace)
        return tmp_path / "report.md", "table"

    monkeypatch.setattr(v1mtl.study, "run_study", fake_run_study)
    assert main(["run", *args]) == 0
    assert seen == {"out": Path(out), "replace": replace}


def test_mlflow_records_the_study_and_every_network_once(tmp_path, monkeypatch, capsys):
    from v1mtl.tracking.mlflow_runs import PARENT_TAG, local_store_uri, open_store

    monkeypatch.chdir(tmp_path)
    out = tmp_path / "study"
    smoke = ["run", "--smoke", "--out", str(out), "--executor", "local", "--set", "conditions=[baseline,mtl]"]
    assert main([*smoke, "--mlflow"]) == 0  # the local store in ./mlruns
    store = open_store(local_store_uri(tmp_path / "mlruns"), "v1mtl/smoke")
    runs = store.client.search_runs([store.experiment_id])
    (parent,) = [r for r in runs if PARENT_TAG not in r.data.tags]
    children = {r.info.run_name: r for r in runs if r.data.tags.get(PARENT_TAG) == parent.info.run_id}
    assert sorted(children) == ["baseline-s0", "mtl-s0"]
    mtl = children["mtl-s0"].data
    assert mtl.tags["condition"] == "mtl" and mtl.params["condition"] == "mtl"
    assert {"test_accuracy", "val_accuracy", "mean_corruption_accuracy", "v1_predictivity_feve_mean"} <= set(
        mtl.metrics
    )
    assert {"adversarial_linf_eps0.25_accuracy", "adversarial_suspect_gradient_masking"} <= set(mtl.metrics)
    assert parent.data.params["conditions"] == '["baseline", "mtl"]'
    assert (
        parent.data.tags["claim1_verdict"] == "undetermined" and "mtl.clean_accuracy" in parent.data.metrics
    )
    capsys.readouterr()
    # a rerun that changes one evaluation logs that network's new scores into its run, and no new run
    assert main([*smoke, "--mlflow", "--force", "--set", "robustness.limit=20"]) == 0
    again = store.client.search_runs([store.experiment_id])
    assert len(again) == len(runs)
