import json
import shutil
from pathlib import Path

import pytest

from v1mtl.common.errors import InputError
from v1mtl.study.runner import run_units
from v1mtl.study.stages import DONE_FILE, STARTED_FILE, Unit, is_complete, prepare_folder, what_changed


def _plan(
    calls: list[str],
    data_value: int,
    train_value: int,
    fail_in: str | None = None,
    derived_report: bool = False,
    extra: bool = False,
) -> list[Unit]:
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
    train = Unit("train", "baseline", {"schedule": {"max_epochs": train_value, "lr": 0.1}}, make("train"))
    more = [Unit("train", "extra", {}, make("extra"))] if extra else []
    report = Unit(
        "report", "report", {}, make("report"), upstream=[fit, train, *more], derived=derived_report
    )
    return [data, fit, train, *more, report]


def _files(root: Path) -> dict[str, tuple[bytes, int]]:
    """Every file under ``root`` with its bytes and modification time, to show that nothing was touched."""
    return {
        str(p.relative_to(root)): (p.read_bytes(), p.stat().st_mtime_ns)
        for p in root.rglob("*")
        if p.is_file()
    }


def _replaced(folder: Path) -> list[Path]:
    return sorted(folder.parent.glob(f"{folder.name}.replaced-*"))


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
    run_units(_plan(calls, 1, 2), tmp_path, log=lambda s: None, replace=True)
    assert calls == ["train", "report"]
    calls.clear()
    run_units(_plan(calls, 2, 2), tmp_path, log=lambda s: None, replace=True)
    assert calls == ["data", "fit", "report"]


def test_changed_setting_into_a_finished_study_is_refused_and_touches_nothing(tmp_path):
    run_units(_plan([], 1, 1), tmp_path, log=lambda s: None)
    before = _files(tmp_path)
    calls: list[str] = []
    with pytest.raises(InputError) as caught:
        run_units(_plan(calls, 1, 2), tmp_path, log=lambda s: None)
    assert str(caught.value) == (
        f"2 finished unit(s) in {tmp_path} would be replaced: train/baseline (schedule.max_epochs: 1 -> 2); "
        "report/report (its input train/baseline is computed again). Rerun with --force to keep them in "
        "<name>.replaced-<time>/ and run them again, or choose another --out."
    )
    assert calls == [] and _files(tmp_path) == before
    with pytest.raises(InputError, match="its input data/v1 is computed again"):
        run_units(_plan(calls, 2, 1), tmp_path, log=lambda s: None)
    assert calls == [] and _files(tmp_path) == before


def test_replace_keeps_the_finished_folder_aside_and_reruns_the_unit(tmp_path):
    run_units(_plan([], 1, 1), tmp_path, log=lambda s: None)
    train = tmp_path / "train" / "baseline"
    old = (train / DONE_FILE).read_text()
    calls: list[str] = []
    lines: list[str] = []
    run_units(_plan(calls, 1, 2), tmp_path, log=lines.append, replace=True)
    assert calls == ["train", "report"]
    [kept] = _replaced(train)
    assert (kept / "out.txt").read_text() == "train" and (kept / DONE_FILE).read_text() == old
    assert json.loads((kept / STARTED_FILE).read_text())["settings"]["schedule"]["max_epochs"] == 1
    assert is_complete(_plan([], 1, 2)[2], tmp_path)
    assert any(line.startswith("replacing 2 finished unit(s)") for line in lines)
    # the kept folder is no unit's: the study is complete and a second replacement gets a folder of its own
    assert run_units(_plan([], 1, 2), tmp_path, log=lambda s: None) == {}
    run_units(_plan([], 1, 3), tmp_path, log=lambda s: None, replace=True)
    assert len(_replaced(train)) == 2


def test_a_changed_derived_unit_reruns_in_place_without_asking(tmp_path):
    run_units(_plan([], 1, 1, derived_report=True), tmp_path, log=lambda s: None)
    report = tmp_path / "report" / "report"
    calls: list[str] = []
    run_units(_plan(calls, 1, 1, derived_report=True, extra=True), tmp_path, log=lambda s: None)
    assert calls == ["extra", "report"]
    assert (report / "out.txt").read_text() == "report" and _replaced(report) == []
    assert is_complete(_plan([], 1, 1, derived_report=True, extra=True)[-1], tmp_path)


def test_what_changed_names_dotted_settings_then_inputs(tmp_path):
    old = Unit("train", "run", {"a": 1, "b": {"c": [1], "d": "x"}, "e": 1, "f": 1}, lambda folder: None)
    run_units([old], tmp_path, log=lambda s: None)
    few = Unit("train", "run", {"a": 1, "b": {"c": [1, 2], "d": "y"}, "e": 1, "f": 1}, lambda folder: None)
    assert what_changed(few, tmp_path) == "b.c: [1] -> [1, 2], b.d: x -> y"
    many = Unit("train", "run", {"a": 2, "b": {"d": "y"}, "e": 2, "f": 2}, lambda folder: None)
    assert what_changed(many, tmp_path) == "a: 1 -> 2, b.c: [1] -> (unset), b.d: x -> y, ..."
    data = Unit("data", "v1", {}, lambda folder: None)
    reader = Unit("train", "run", old.settings, lambda folder: None, upstream=[data])
    assert what_changed(reader, tmp_path) == "new input(s) data/v1"


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


def test_changed_setting_starts_unfinished_work_from_an_empty_folder_without_asking(tmp_path):
    calls: list[str] = []
    with pytest.raises(RuntimeError):
        run_units(_plan(calls, 1, 1, fail_in="train"), tmp_path, log=lambda s: None)
    stale = tmp_path / "train" / "baseline" / "stale-checkpoint.pt"
    stale.write_text("old")
    run_units(_plan(calls, 1, 5), tmp_path, log=lambda s: None)
    assert not stale.exists() and _replaced(stale.parent) == []


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
    with pytest.raises(InputError, match=r"report/report \(its input fit/v1-model is computed again\)"):
        run_units(_plan(calls, 1, 1), tmp_path, log=lambda s: None)
    run_units(_plan(calls, 1, 1), tmp_path, log=lambda s: None, replace=True)
    assert calls == ["fit", "report"]
    assert not stale.exists()
    [kept] = _replaced(stale.parent)
    assert (kept / "stale.txt").is_file()
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


def test_a_unit_restarted_after_a_kill_starts_without_the_temporaries_left_behind(tmp_path):
    unit = Unit("targets", "real", {"a": 1}, run=lambda folder: None)
    folder = prepare_folder(unit, tmp_path, stamp="20261203-000000")
    (folder / ".data.ab12cd34.partial").mkdir()  # a killed atomic_folder
    (folder / ".data.ab12cd34.partial" / "images.npy").write_bytes(b"x" * 100)
    (folder / ".last.pt.zz99yy88.tmp").write_bytes(b"y")  # a killed atomic_open
    (folder / "data").mkdir()  # real outputs stay
    prepare_folder(unit, tmp_path, stamp="20261203-000001")
    assert sorted(p.name for p in folder.iterdir()) == [".fingerprint.json", "data"]
