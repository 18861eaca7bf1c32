"""The study's driver: units start when their inputs are complete, on any executor; failures and Ctrl-C
cancel what runs and leave a folder that resumes."""

import json
from pathlib import Path

import pytest

from v1mtl.common.errors import InputError
from v1mtl.study.runner import TimeLeft, check_replacements, run_units
from v1mtl.study.stages import DONE_FILE, Unit, is_complete
from v1mtl.study.unit_job import LOG_FILE, TOKEN_FILE, execute_job


class FakeExecutor:
    """Runs up to ``capacity`` units side by side, finishing the most recently started first (the order a
    one-at-a-time runner would never use) except those in ``hold``, and records what ran when."""

    description = "fake"
    captures_output = True
    threads = 1

    def __init__(self, capacity=2, interrupt_at=None, hold=()):
        self.capacity = self.slots = capacity
        self.jobs = {}
        self.events = []
        self.cancelled = []
        self.interrupt_at = interrupt_at
        self.hold = set(hold)

    def submit(self, job, *, gpus):
        self.events.append(("start", job.label, gpus))
        self.jobs[job.label] = job
        return job.label

    def wait(self, handles):
        if self.interrupt_at in handles:
            raise KeyboardInterrupt
        label = next((h for h in reversed(handles) if h not in self.hold), handles[-1])
        self.events.append(("end", label))
        return [(label, execute_job(self.jobs.pop(label)))]

    def cancel(self, handles):
        self.cancelled.extend(handles)

    def close(self):
        pass


def _study(calls, bad=None):
    def make(name):
        def run(folder: Path) -> None:
            calls.append(name)
            print(f"{name} says hello")
            if name == bad:
                raise InputError("bad value", path="data.npy", field="responses")
            (folder / "out.txt").write_text(name)

        return run

    data = Unit("v1", "data", {}, make("data"))
    fit = Unit("fit", "v1-model", {}, make("fit"), upstream=[data], uses_device=True)
    baseline = Unit("train", "baseline", {}, make("baseline"), uses_device=True)
    mtl = Unit("train", "mtl", {}, make("mtl"), upstream=[fit], uses_device=True)
    report = Unit("report", "report", {}, make("report"), upstream=[data, fit, baseline, mtl], on_driver=True)
    return [data, fit, baseline, mtl, report]


def test_units_run_side_by_side_and_each_starts_after_its_inputs(tmp_path):
    executor = FakeExecutor(capacity=2)
    calls = []
    units = _study(calls)
    ran = run_units(units, tmp_path, executor=executor, device="cuda", log=lambda s: None)
    assert set(ran) == {"v1/data", "fit/v1-model", "train/baseline", "train/mtl", "report/report"}
    ended = set()
    for event in executor.events:
        if event[0] == "end":
            ended.add(event[1])
        else:
            unit = next(u for u in units if f"{u.stage}/{u.name}" == event[1])
            assert {f"{u.stage}/{u.name}" for u in unit.upstream} <= ended, event
    starts = [e for e in executor.events if e[0] == "start"]
    # the data and the Baseline (independent) start together; only units on the device ask for a GPU
    assert starts[:2] == [("start", "v1/data", 0), ("start", "train/baseline", 1)]
    # the report runs in the driver, never on the executor
    assert "report/report" not in {e[1] for e in executor.events}
    assert all(is_complete(u, tmp_path) for u in units)
    # a unit's output goes to its folder when the executor captures it
    assert "fit says hello" in (tmp_path / "fit" / "v1-model" / LOG_FILE).read_text()


def test_bad_input_in_a_unit_stops_the_study_with_its_line_and_a_rerun_resumes(tmp_path):
    executor = FakeExecutor(capacity=2, hold={"train/baseline"})
    calls = []
    with pytest.raises(InputError) as caught:
        run_units(_study(calls, bad="fit"), tmp_path, executor=executor, log=lambda s: None)
    assert str(caught.value) == "data.npy: field 'responses': bad value (in unit fit/v1-model)"
    assert executor.cancelled == ["train/baseline"]  # still running when the fit failed
    assert is_complete(_study([])[0], tmp_path)
    first = json.loads((tmp_path / "v1" / "data" / DONE_FILE).read_text())["run"]
    calls.clear()
    run_units(_study(calls), tmp_path, executor=FakeExecutor(), log=lambda s: None)
    assert sorted(calls) == ["baseline", "fit", "mtl", "report"]
    assert json.loads((tmp_path / "v1" / "data" / DONE_FILE).read_text())["run"] == first


def test_interrupt_cancels_running_units_and_leaves_a_resumable_folder(tmp_path):
    executor = FakeExecutor(capacity=2, interrupt_at="fit/v1-model", hold={"train/baseline"})
    lines = []
    with pytest.raises(KeyboardInterrupt):
        run_units(_study([]), tmp_path, executor=executor, log=lines.append)
    assert set(executor.cancelled) == {"fit/v1-model", "train/baseline"}
    assert "study interrupted: cancelled" in lines[-1] and "rerun the same command to resume" in lines[-1]
    calls = []
    run_units(_study(calls), tmp_path, log=lambda s: None)  # resumed with another executor
    assert sorted(calls) == ["baseline", "fit", "mtl", "report"]


def test_progress_lines_count_units_and_estimate_time_left(tmp_path):
    lines = []
    run_units(_study([]), tmp_path, log=lines.append)
    assert lines[0] == (
        "study: 5 units in 4 stages, 0 complete, 5 to run; executor local (one unit at a time, 1 thread)"
    )
    # one line per unit, when it finishes; no host on this machine
    assert len(lines) == 1 + 5 + 1
    assert lines[1].startswith("done v1/data in ") and "[1/5 done, 0 running, 4 waiting;" in lines[1]
    assert " on " not in lines[1] and "left ~" in lines[1]
    assert lines[-1].startswith("all 5 units complete (5 run now, ")


def test_time_left_uses_each_stages_own_rate():
    timer = TimeLeft(slots=2)
    assert timer.estimate([("train", 1.0)]) == "estimating"
    timer.add("train", 2.0, 100.0)  # 50 s per unit of cost
    timer.add("report", 1.0, 1.0)  # 1 s per unit of cost
    assert timer.estimate([("train", 2.0), ("train", 2.0)]) == "~1m40s"  # 200 s on 2 slots
    assert timer.estimate([("report", 1.0)] * 4) == "~2s"
    # a stage not timed yet: the rate over all stages, 101 s / 3
    assert timer.estimate([("robustness", 3.0)]) == "~50s"


def test_refusal_names_five_units_then_counts_the_rest_before_anything_starts(tmp_path):
    def units(value):
        return [Unit("train", f"run{i}", {"lr": value}, lambda folder: None) for i in range(7)]

    run_units(units(1), tmp_path, log=lambda s: None)
    token = (tmp_path / TOKEN_FILE).read_text()
    executor = FakeExecutor()
    with pytest.raises(InputError) as caught:
        run_units(units(2), tmp_path, executor=executor, log=lambda s: None)
    message = str(caught.value)
    assert message.startswith(
        f"7 finished unit(s) in {tmp_path} would be replaced: train/run0 (lr: 1 -> 2); "
    )
    assert "train/run4 (lr: 1 -> 2); and 2 more. Rerun with --force" in message and "run5" not in message
    assert executor.events == [] and (tmp_path / TOKEN_FILE).read_text() == token
    assert [u.name for u in check_replacements(units(2), tmp_path, replace=True)] == [
        f"run{i}" for i in range(7)
    ]
