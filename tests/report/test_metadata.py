import json
import subprocess

from v1mtl.report.metadata import metadata_lines, run_metadata, source_revision
from v1mtl.study.plan import StudyPlan
from v1mtl.study.stages import Unit


def _plan(tmp_path, finished: dict[str, tuple[str, float]]) -> StudyPlan:
    units = []
    for name, (when, seconds) in finished.items():
        unit = Unit("train", name, {}, run=lambda folder: None)
        folder = unit.folder(tmp_path)
        folder.mkdir(parents=True)
        (folder / ".done.json").write_text(json.dumps({"finished": when, "seconds": seconds}))
        units.append(unit)
    units.append(Unit("report", "report", {}, run=lambda folder: None))  # not finished: not counted
    return StudyPlan(tmp_path, units, [], {})


def test_metadata_spans_the_finished_units(tmp_path):
    plan = _plan(tmp_path, {"a": ("2026-12-01T10:00:00", 60.0), "b": ("2026-12-01T10:30:00", 120.0)})
    meta = run_metadata(plan, "cuda", argv=["/venv/bin/v1mtl", "run", "--preset", "quick"])
    assert (meta.first_start, meta.last_finish) == ("2026-12-01 09:59:00", "2026-12-01 10:30:00")
    assert (meta.units, meta.compute_s, meta.device) == (2, 180.0, "cuda")
    assert meta.command == "v1mtl run --preset quick"
    lines = metadata_lines(meta)
    assert "2 finished units" in lines[1] and "3m00s of unit time" in lines[1]
    assert lines[3].endswith("device: cuda")


def test_the_revision_is_the_checkouts_commit():
    here = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    if here.returncode != 0:  # a copy without git: the installed version is named instead
        assert source_revision().startswith("v1mtl ")
    else:
        assert source_revision().split()[0] == here.stdout.strip()
