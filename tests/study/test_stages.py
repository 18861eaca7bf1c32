import json
import shutil
from pathlib import Path

import pytest

from v1mtl.study.runner import run_units
from v1mtl.study.stages import DONE_FILE, STARTED_FILE, Unit, is_complete


def _plan(calls: list[str], data_value: int, train_value: int, fail_in: str | None = None) -> list[Unit]:
    def make(name: str):
        def run(folder: Path) -> None:
            calls.append(name)
            (folder / "partial.txt").write_text("started")
            if name == fail_in:
                raise RuntimeError("killed")
            (folder / "out.txt").write_text(name)

        return run

    data = Unit("data", "v1", {"n": data_value}, make("data"))
    fit = Unit("fit", "v1-model", {"lr": 1}, make("fit"), upstream=[data])
    train = Unit("train", "baseline", {"epochs": train_value}, make("train"))
    report = Unit("report", "report", {}, make("report"), upstream=[fit, train])
    return [data, fit, train, report]


def test_finished_study_reruns_nothing(tmp_path):
    calls: list[str] = []
    run_units(_plan(calls, 1, 1), tmp_path, log=lambda s: None)
    assert calls == ["data", "fit", "train", "report"]
    calls.clear()
    ran = run_units(_plan(calls, 1, 1), tmp_path, log=lambda s: None)
    assert calls == [] and ran == {}


def test_changed_setting_reruns_only_dependents(tmp_path):
    calls: list[str] = []
    run_units(_plan(calls, 1, 1), tmp_path, log=lambda s: None)
    calls.clear()
    run_units(_plan(calls, 1, 2), tmp_path, log=lambda s: None)
    assert calls == ["train", "report"]
    calls.clear()
    run_units(_plan(calls, 2, 2), tmp_path, log=lambda s: None)
    assert calls == ["data", "fit", "report"]


def test_killed_study_resumes_at_the_failed_unit_keeping_its_files(tmp_path):
    calls: list[str] = []
    with pytest.raises(RuntimeError):
        run_units(_plan(calls, 1, 1, fail_in="train"), tmp_path, log=lambda s: None)
    units = _plan([], 1, 1)
    assert is_complete(units[1], tmp_path) and not is_complete(units[2], tmp_path)
    assert (tmp_path / "train" / "baseline" / "partial.txt").exists()
    calls.clear()
    run_units(_plan(calls, 1, 1), tmp_path, log=lambda s: None)
    assert calls == ["train", "report"]


def test_changed_setting_starts_from_an_empty_folder(tmp_path):
    calls: list[str] = []
    with pytest.raises(RuntimeError):
        run_units(_plan(calls, 1, 1, fail_in="train"), tmp_path, log=lambda s: None)
    stale = tmp_path / "train" / "baseline" / "stale-checkpoint.pt"
    stale.write_text("old")
    run_units(_plan(calls, 1, 5), tmp_path, log=lambda s: None)
    assert not stale.exists()


def test_unit_listed_before_its_input_is_refused(tmp_path):
    units = _plan([], 1, 1)
    with pytest.raises(ValueError, match="before its input"):
        run_units([units[1], units[0]], tmp_path, log=lambda s: None)


def test_rerun_input_makes_its_dependents_rerun_from_empty_folders(tmp_path):
    calls: list[str] = []
    run_units(_plan(calls, 1, 1), tmp_path, log=lambda s: None)
    shutil.rmtree(tmp_path / "fit")  # the user deletes a stage's outputs to recompute them
    stale = tmp_path / "report" / "report" / "stale.txt"
    stale.write_text("made from the old fit")
    calls.clear()
    run_units(_plan(calls, 1, 1), tmp_path, log=lambda s: None)
    assert calls == ["fit", "report"]
    assert not stale.exists()
    calls.clear()
    run_units(_plan(calls, 1, 1), tmp_path, log=lambda s: None)
    assert calls == []


def test_markers_without_run_ids_still_count_as_complete(tmp_path):
    calls: list[str] = []
    run_units(_plan(calls, 1, 1), tmp_path, log=lambda s: None)
    for marker in [*tmp_path.rglob(DONE_FILE), *tmp_path.rglob(STARTED_FILE)]:
        record = json.loads(marker.read_text())
        marker.write_text(json.dumps({k: v for k, v in record.items() if k not in ("run", "inputs")}))
    calls.clear()
    run_units(_plan(calls, 1, 1), tmp_path, log=lambda s: None)
    assert calls == []
