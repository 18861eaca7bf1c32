"""The executor's settings: checked with the field named, never part of a unit's fingerprint."""

import pytest

from v1mtl.common.config import load_config
from v1mtl.common.errors import InputError
from v1mtl.study import StudyConfig, build_plan


@pytest.mark.parametrize(
    ("override", "field"),
    [
        ("executor.cpus_per_unit=0", "executor.cpus_per_unit"),
        ("executor.cpus=1", "executor.cpus"),
        ("executor.max_retries=-1", "executor.max_retries"),
        ("executor.submitit.parallel=0", "executor.submitit.parallel"),
        ("executor.kind=fast", "executor.kind"),
    ],
)
def test_bad_executor_settings_name_the_field(override, field):
    overrides = [override] + (["executor.cpus_per_unit=2"] if field == "executor.cpus" else [])
    with pytest.raises(InputError, match=field.replace(".", r"\.")):
        load_config(StudyConfig, overrides=overrides, preset="study-smoke").validate()


def test_an_address_needs_the_ray_executor():
    with pytest.raises(InputError, match="executor.address"):
        load_config(StudyConfig, overrides=["executor.kind=local", "executor.address=h:1"]).validate()


def test_the_executor_does_not_change_any_fingerprint(tmp_path):
    ray = load_config(StudyConfig, preset="study-smoke")
    local = load_config(
        StudyConfig, overrides=["executor.kind=local", "executor.cpus_per_unit=2"], preset="study-smoke"
    )
    fingerprints = [[u.fingerprint for u in build_plan(c, tmp_path).units] for c in (ray, local)]
    assert fingerprints[0] == fingerprints[1]
    assert ray.executor.kind == "ray"  # the default
