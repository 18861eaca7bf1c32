"""Studies as one submitit job per unit, with submitit's local executor standing in for Slurm: the same
numbers as the local executor, and a killed job submitted again into identical weights."""

from __future__ import annotations

import json
import threading

from v1mtl.cli import main
from v1mtl.study.unit_job import LOG_FILE, WORKER_FILE

SUBMITIT = ["--executor", "submitit", "--set", "executor.submitit.cluster=local"]


def test_study_as_jobs_gives_the_local_executors_numbers_and_survives_a_killed_job(
    tmp_path, capsys, results, long_training, kill_when_training
):
    jobs, local = tmp_path / "jobs", tmp_path / "local"
    study = ["run", "--smoke", *long_training]
    killed: list[int] = []
    killer = threading.Thread(target=kill_when_training, args=(jobs / "train" / "baseline-s0", killed))
    killer.start()
    assert main([*study, "--out", str(jobs), *SUBMITIT]) == 0
    killer.join()
    printed = capsys.readouterr().out
    assert "executor submitit on local" in printed
    assert len(killed) == 1
    run = jobs / "train" / "baseline-s0"
    assert json.loads((run / WORKER_FILE).read_text())["pid"] != killed[0]  # a second job finished it
    assert "epoch 8:" in (run / LOG_FILE).read_text()
    assert any((jobs / ".submitit").iterdir())  # submitit's own job files, inside the study folder
    assert main([*study, "--out", str(local), "--executor", "local"]) == 0
    capsys.readouterr()
    assert results(jobs) == results(local)
