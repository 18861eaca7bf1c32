"""Studies with ablation teachers: one step per teacher, its own V1 data, shared classification-only runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from v1mtl.common.config import load_config
from v1mtl.common.errors import InputError
from v1mtl.study import StudyConfig, build_plan

TEACHERS = ["conditions=[baseline, mtl]", "seeds=[0, 1]", "analyses=[]", "teachers=[full, low-sf, linear]"]


def _study(*extra: str) -> StudyConfig:
    return load_config(StudyConfig, preset="study-smoke", overrides=[*TEACHERS, *extra])


def test_each_teacher_is_a_step_with_its_own_simulated_v1(tmp_path: Path):
    study = _study()
    steps = dict(study.step_configs())
    assert list(steps) == ["full", "low-sf", "linear"]
    assert [cfg.v1.simulate.ablation for cfg in steps.values()] == ["full", "low-sf", "linear"]
    assert all(not cfg.teachers and not cfg.steps for cfg in steps.values())
    assert study.step_changes()["linear"] == "v1.simulate.ablation = linear"
    plan = build_plan(study, tmp_path)
    full, low, linear = plan.steps
    assert len({id(sp.v1) for sp in plan.steps}) == 3 and len({id(sp.fit) for sp in plan.steps}) == 3
    assert low.v1.folder(tmp_path) == tmp_path / "v1" / "low-sf" / "data"
    for seed in (0, 1):
        # the Baseline reads no V1 data: one run and one robustness unit serve every teacher
        assert (
            low.runs[("baseline", seed)] is full.runs[("baseline", seed)] is linear.runs[("baseline", seed)]
        )
        assert low.robustness[("baseline", seed)] is full.robustness[("baseline", seed)]
        # MTL trains on each teacher's own targets
        assert low.runs[("mtl", seed)] is not full.runs[("mtl", seed)]
        assert low.targets["real"] in low.runs[("mtl", seed)].upstream


def test_teachers_with_simulator_targets_need_no_v1_model(tmp_path: Path):
    plan = build_plan(_study("targets.source=simulator"), tmp_path)
    assert all(sp.fit is None for sp in plan.steps)
    assert plan.steps[1].targets["real"].upstream == [plan.steps[1].v1]


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("teachers=[full, full]", "teachers repeat"),
        ("teachers=[full, no-such]", "must be one of"),
        ("v1.path=.", "need a simulated V1 dataset"),
        ("steps=[{name: a}]", "either steps or teachers"),
        ("conditions=[baseline]", "co-trains on V1 targets"),
    ],
)
def test_bad_teachers_are_one_clear_error(override: str, message: str):
    with pytest.raises(InputError, match=message):
        _study(override).validate()
