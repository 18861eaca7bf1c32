"""``v1mtl run --smoke``: the whole pipeline at toy size, then a rerun that resumes and does nothing."""

import json

from v1mtl.cli import main
from v1mtl.report.claims import CLAIMS
from v1mtl.training.config import CONDITIONS


def test_smoke_study_runs_every_stage_then_resumes_without_work(tmp_path, capsys):
    out = tmp_path / "study"
    assert main(["run", "--smoke", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    for condition in CONDITIONS:
        assert (out / "train" / f"{condition}-s0" / "final.json").is_file()
        assert (out / "robustness" / f"{condition}-s0" / "corruptions" / "robustness.csv").is_file()
        assert (out / "predictivity" / f"{condition}-s0" / "summary.json").is_file()
        assert f"| {condition} | 1 |" in printed
    assert (out / "fit" / "v1-model" / "summary.json").is_file()
    for target in ("real", "shuffled", "random"):
        assert (out / "targets" / target / "data" / "manifest.json").is_file()
    assert (out / "analysis" / "reconstruction" / "per_image.csv").is_file()
    assert (out / "analysis" / "saliency" / "per_image.csv").is_file()
    report = (out / "report.md").read_text()
    for claim in CLAIMS:
        assert claim in report
    assert "| mtl - baseline | 1 |" in report
    assert (out / "report" / "paired_differences.csv").read_text().startswith("condition,reference,metric")
    assert (out / "report.html").read_text().startswith("<!DOCTYPE html>")
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
    smoke = ["run", "--smoke", "--out", str(out), "--set", "conditions=[baseline]"]
    assert main(smoke) == 0
    capsys.readouterr()
    assert main([*smoke, "--set", "robustness.limit=20"]) == 0
    printed = capsys.readouterr().out
    ran = [line.split(": running")[0].split()[-1] for line in printed.splitlines() if ": running (" in line]
    assert ran == ["baseline-s0", "report"]
    assert "robustness] unit" in next(line for line in printed.splitlines() if ": running (" in line)


def test_unknown_study_key_is_one_clear_error(tmp_path, capsys):
    assert main(["run", "--smoke", "--out", str(tmp_path), "--set", "robustness.severitys=[1]"]) == 2
    err = capsys.readouterr().err
    assert "robustness.severitys" in err and len(err.strip().splitlines()) == 1
