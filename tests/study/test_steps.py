"""Studies with steps: cumulative settings per step, units shared between steps, clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from v1mtl.common.config import load_config
from v1mtl.common.errors import InputError
from v1mtl.study import StudyConfig, build_plan

LADDER = [
    "conditions=[baseline, mtl, mtl-shuffled]",
    "seeds=[0, 1]",
    "analyses=[]",
    "steps=[{name: default}, {name: weighting, base: default, set: {train.neural.weighting: learned}},"
    " {name: readout, base: weighting, set: {train.model.readout: gaussian}},"
    " {name: optimizer, base: readout, set: {train.optimizer.lr: 0.01}},"
    " {name: lr-only, set: {train.optimizer.lr: 0.01}}]",
]


def _study(*extra: str) -> StudyConfig:
    return load_config(StudyConfig, preset="study-smoke", overrides=[*LADDER, *extra])


def test_each_step_applies_its_changes_on_top_of_its_base():
    study = _study("train.model.readout=factorized")
    steps = dict(study.step_configs())
    assert list(steps) == ["default", "weighting", "readout", "optimizer", "lr-only"]
    assert steps["default"].train.model.readout == "factorized"
    assert steps["weighting"].train.neural.weighting == "learned"
    assert steps["weighting"].train.model.readout == "factorized"
    assert steps["readout"].train.model.readout == "gaussian"
    assert steps["optimizer"].train.neural.weighting == "learned"  # kept from the step before
    assert steps["optimizer"].train.optimizer.lr == 0.01
    # a step without a base starts from the study's own settings
    assert steps["lr-only"].train.neural.weighting == steps["default"].train.neural.weighting
    assert steps["lr-only"].train.model.readout == "factorized"
    assert all(not cfg.steps for cfg in steps.values())
    assert study.step_changes()["readout"] == "weighting + train.model.readout = gaussian"


def test_a_unit_a_step_leaves_unchanged_is_shared(tmp_path: Path):
    plan = build_plan(_study("train.neural.weighting=fixed"), tmp_path)
    first, weighting, readout, optimizer, lr_only = plan.steps
    for seed in (0, 1):
        # the neural settings do not touch the Baseline: its run and evaluations are the first step's
        base = first.runs[("baseline", seed)]
        assert weighting.runs[("baseline", seed)] is base and readout.runs[("baseline", seed)] is base
        assert weighting.robustness[("baseline", seed)] is first.robustness[("baseline", seed)]
        assert base.folder(tmp_path) == tmp_path / "train" / "default" / f"baseline-s{seed}"
        # an MTL run of a step that changed its recipe is new, in the step's folder
        assert weighting.runs[("mtl", seed)] is not first.runs[("mtl", seed)]
        assert weighting.runs[("mtl", seed)].folder(tmp_path).parent == tmp_path / "train" / "weighting"
        # the optimizer changes every network, the Baseline too
        assert optimizer.runs[("baseline", seed)] is not base
        # two steps with the same settings share every run
        assert lr_only.runs[("baseline", seed)] is optimizer.runs[("baseline", seed)]
    # the V1 data, V1 model and targets do not change with the training recipe
    assert weighting.targets["real"] is first.targets["real"] and weighting.fit is first.fit
    names = [(u.stage, u.name) for u in plan.units]
    assert len(names) == len(set(names))  # every unit planned once
    assert plan.analyses == {}


def test_study_without_steps_keeps_its_folders(tmp_path: Path):
    plan = build_plan(load_config(StudyConfig, preset="study-smoke"), tmp_path)
    assert len(plan.steps) == 1 and plan.first.name == ""
    run = plan.first.runs[("baseline", 0)]
    assert run.folder(tmp_path) == tmp_path / "train" / "baseline-s0"
    assert set(plan.analyses) == {"reconstruction", "saliency"}


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("steps=[{name: a}, {name: a}]", "step names repeat"),
        ("steps=[{name: 'a b'}]", "must be letters"),
        ("steps=[{name: a, set: {seeds: [3]}}]", "may only change"),
        ("steps=[{name: a, base: b}, {name: b}]", "not an earlier step"),
        ("steps=[{name: a, set: {train.neural.weighting: sometimes}}]", "must be one of"),
    ],
)
def test_bad_steps_are_one_clear_error(override: str, message: str):
    with pytest.raises(InputError, match=message):
        load_config(StudyConfig, preset="study-smoke", overrides=[override]).validate().step_configs()
