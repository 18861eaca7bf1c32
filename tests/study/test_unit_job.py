"""What a worker runs: one unit, its threads pinned, its output in its folder, bad input reported back."""

import json
import os

import pytest
import torch

from v1mtl.common.errors import InputError
from v1mtl.study.unit_job import LOG_FILE, WORKER_FILE, UnitJob, check_visible, execute_job, write_token


def _job(tmp_path, run, *, token=None, capture=True, threads=1, cwd=None):
    root = tmp_path / "study"
    folder = root / "train" / "x"
    folder.mkdir(parents=True)
    written = write_token(root)
    return UnitJob("train/x", run, folder, root, token or written, cwd or os.getcwd(), threads, capture)


def test_a_worker_that_cannot_see_the_study_folder_is_a_clear_error(tmp_path):
    job = _job(tmp_path, lambda folder: None, token="another-study-run")
    outcome = execute_job(job)
    assert "cannot see the study folder" in outcome.error and "shares" in outcome.error
    with pytest.raises(InputError, match="cannot see the study folder"):
        check_visible(tmp_path / "nowhere", "x")


def test_a_missing_working_directory_is_a_clear_error(tmp_path):
    outcome = execute_job(_job(tmp_path, lambda folder: None, cwd=str(tmp_path / "gone")))
    assert "cannot enter the study's working directory" in outcome.error and "gone" in outcome.error


def test_threads_are_pinned_while_the_unit_runs_and_restored_after(tmp_path):
    seen = []
    before = torch.get_num_threads()
    outcome = execute_job(_job(tmp_path, lambda folder: seen.append(torch.get_num_threads()), threads=1))
    assert seen == [1] and torch.get_num_threads() == before
    assert outcome.error is None and outcome.pid == os.getpid()
    worker = json.loads((tmp_path / "study" / "train" / "x" / WORKER_FILE).read_text())
    assert worker["pid"] == os.getpid()


def test_bad_input_comes_back_as_the_outcome_and_other_errors_keep_their_traceback_in_the_log(tmp_path):
    def bad(folder):
        raise InputError("bad value", path="a.npy", field="responses")

    assert execute_job(_job(tmp_path, bad)).error == "a.npy: field 'responses': bad value"

    def broken(folder):
        print("working")
        raise ZeroDivisionError("boom")

    with pytest.raises(ZeroDivisionError):
        execute_job(_job(tmp_path / "2", broken))
    log = (tmp_path / "2" / "study" / "train" / "x" / LOG_FILE).read_text()
    assert log.startswith("working") and "Traceback" in log and "ZeroDivisionError: boom" in log


def test_without_capture_the_output_stays_on_the_console(tmp_path, capsys):
    execute_job(_job(tmp_path, lambda folder: print("to the console"), capture=False))
    assert "to the console" in capsys.readouterr().out
    assert not (tmp_path / "study" / "train" / "x" / LOG_FILE).exists()
