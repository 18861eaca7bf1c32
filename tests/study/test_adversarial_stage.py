"""The study's adversarial stage: one unit per network when ``adversarial.enabled``, resumed and rerun like
every unit, with expectation over transformation for stochastic networks; end to end on a smoke study of
one Baseline (about 8 s, run once for the module and copied for each test that changes it)."""

from __future__ import annotations

import contextlib
import io
import json
import shutil
from pathlib import Path

import pytest
import torch

from v1mtl.cli import main
from v1mtl.common.config import load_config
from v1mtl.common.tables import read_csv
from v1mtl.study import StudyConfig, build_plan
from v1mtl.study.config import StudyAdversarialConfig

SMOKE = ["--smoke", "--executor", "local", "--set", "conditions=[baseline]", "--set", "analyses=[]"]


def _run(out: Path, *extra: str) -> int:
    return main(["run", "--out", str(out), *SMOKE, *extra])


@pytest.fixture(scope="module")
def finished(tmp_path_factory) -> tuple[Path, str]:
    """A finished smoke study with the adversarial stage on (the smoke preset's), and what it printed."""
    out = tmp_path_factory.mktemp("adversarial") / "study"
    console = io.StringIO()  # capsys is per test; this study is the module's
    with contextlib.redirect_stdout(console):
        assert _run(out) == 0
    return out, console.getvalue()


@pytest.fixture
def study(finished, tmp_path) -> Path:
    """A copy of the finished study that a test may change."""
    copy = tmp_path / "study"
    shutil.copytree(finished[0], copy)
    return copy


def _finished_times(root: Path) -> dict[Path, str]:
    return {p.relative_to(root): json.loads(p.read_text())["finished"] for p in root.glob("*/*/.done.json")}


def test_the_stage_writes_its_unit_the_report_section_the_figures_and_the_csv(finished):
    out, printed = finished
    unit = out / "adversarial" / "baseline-s0"
    summary = json.loads((unit / "adversarial.json").read_text())
    assert (unit / "adversarial.csv").is_file() and summary["model"] == "baseline-s0"
    # the smoke preset's settings reach the stage; a deterministic network is attacked with one pass
    assert summary["settings"]["steps"] == 2 and summary["settings"]["eot_samples"] == 1
    assert [(r["norm"], r["eps"], r["n"]) for r in summary["rows"]] == [
        (norm, eps, 20)
        for norm, budgets in (("linf", (0.0, 0.02, 0.25)), ("l2", (0.0, 1.0, 8.0)))
        for eps in budgets
    ]
    assert "done adversarial/baseline-s0 in " in printed and ": accuracy under PGD L∞ " in printed

    report = (out / "report.md").read_text()
    section = report[report.index("## Adversarial robustness") : report.index("## The paper's claims")]
    assert "on 20 test images: 2 steps" in section
    assert "| condition | seeds | L∞ 0 | L∞ 0.02 | L∞ 0.25 |" in section
    clean = 100 * summary["rows"][0]["accuracy"]
    assert f"| baseline | 1 | {clean:.1f} |" in section
    if summary["suspect_gradient_masking"]:
        assert "Gradient masking suspected for 1 of 1 networks" in section
        assert f"- baseline-s0: {summary['gradient_masking_reasons'][0]}" in section
    else:
        assert "No network was flagged by the gradient-masking check" in section
    for norm in ("linf", "l2"):
        figure = f"report/figures/adversarial_{norm}.png"
        assert f"]({figure})" in section and (out / figure).read_bytes().startswith(b"\x89PNG")
    assert "adversarial attacks: PGD, 2 steps, 1 start(s), at most 20 test images" in report

    rows = read_csv(out / "report" / "adversarial.csv")
    assert list(rows[0])[:6] == ["step", "condition", "seed", "network", "norm", "eps"]
    assert [(r["condition"], r["seed"], r["norm"], float(r["eps"])) for r in rows] == [
        ("baseline", "0", r["norm"], r["eps"]) for r in summary["rows"]
    ]
    assert [float(r["accuracy"]) for r in rows] == [r["accuracy"] for r in summary["rows"]]


def test_a_rerun_skips_every_unit(study, capsys):
    before = _finished_times(study)
    assert _run(study) == 0
    assert "(0 run now" in capsys.readouterr().out
    assert _finished_times(study) == before


def test_a_changed_attack_setting_reruns_only_the_adversarial_units(study, capsys):
    before = _finished_times(study)
    assert _run(study, "--set", "adversarial.steps=3") == 2  # finished results are not replaced unasked
    assert "adversarial/baseline-s0 (steps: 2 -> 3)" in capsys.readouterr().err
    assert _run(study, "--set", "adversarial.steps=3", "--force") == 0
    ran = [line.split()[1] for line in capsys.readouterr().out.splitlines() if line.startswith("done ")]
    assert ran == ["adversarial/baseline-s0", "report/report"]
    after = _finished_times(study)
    unchanged = [p for p in before if p.parts[0] not in ("adversarial", "report")]
    assert unchanged and all(after[p] == before[p] for p in unchanged)
    summary = json.loads((study / "adversarial" / "baseline-s0" / "adversarial.json").read_text())
    assert summary["settings"]["steps"] == 3


def _other_fingerprints(plan) -> dict[tuple[str, str], str]:
    return {(u.stage, u.name): u.fingerprint for u in plan.units if u.stage not in ("adversarial", "report")}


def test_turning_the_stage_off_plans_no_unit_and_on_adds_one_per_network(tmp_path):
    conditions = "conditions=[baseline, mtl]"
    off = build_plan(
        load_config(StudyConfig, preset="study-smoke", overrides=[conditions, "adversarial.enabled=false"]),
        tmp_path,
    )
    assert not [u for u in off.units if u.stage == "adversarial"] and not off.first.adversarial
    on = build_plan(load_config(StudyConfig, preset="study-smoke", overrides=[conditions]), tmp_path)
    units = {u.name: u for u in on.units if u.stage == "adversarial"}
    assert sorted(units) == ["baseline-s0", "mtl-s0"]
    for (condition, seed), unit in on.first.adversarial.items():
        assert unit.upstream == [on.first.runs[(condition, seed)]] and unit.uses_device
        assert on.units.index(unit) > on.units.index(unit.upstream[0])
    # the other units do not depend on it: turning it on replaces nothing
    assert _other_fingerprints(on) == _other_fingerprints(off)


@pytest.mark.parametrize(
    ("eot_samples", "stochastic", "expected"),
    [(None, False, 1), (None, True, 8), (3, False, 3), (3, True, 3)],
)
def test_eot_samples_left_unset_follow_whether_the_network_is_stochastic(eot_samples, stochastic, expected):
    section = StudyAdversarialConfig(eot_samples=eot_samples, stochastic_eot_samples=8, steps=7)
    attack = section.attack_config(stochastic)
    assert attack.eot_samples == expected and attack.steps == 7
    assert type(attack).__name__ == "AdversarialConfig"  # the stage's own settings, without the study's keys


class _Noisy(torch.nn.Module):
    stochastic = True


@pytest.mark.parametrize(("net", "expected"), [(_Noisy(), 8), (torch.nn.Identity(), 1)])
def test_the_unit_reads_the_networks_stochastic_attribute(tmp_path, monkeypatch, net, expected):
    calls = []
    monkeypatch.setattr(
        "v1mtl.training.checkpoint.load_network", lambda ckpt, **kw: type("Loaded", (), {"net": net})
    )
    monkeypatch.setattr(
        "v1mtl.evaluate.adversarial.run_adversarial_stage", lambda cfg, *args, **kwargs: calls.append(cfg)
    )
    cfg = load_config(StudyConfig, preset="study-smoke", overrides=["adversarial.stochastic_eot_samples=8"])
    unit = next(u for u in build_plan(cfg, tmp_path).units if u.stage == "adversarial")
    unit.run(tmp_path / "adversarial")
    assert [c.eot_samples for c in calls] == [expected]
