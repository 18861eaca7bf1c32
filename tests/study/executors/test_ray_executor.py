"""Studies on a Ray cluster of two nodes started here: the same numbers as the local executor, a killed
worker retried into identical weights, bad input and Ctrl-C stopping a study that then resumes.

Each study on the cluster runs in a process of its own, as a user's ``v1mtl run`` does."""

from __future__ import annotations

import json
import signal
import threading
import time
from pathlib import Path

from v1mtl.cli import main
from v1mtl.common.config import load_config
from v1mtl.simulator import simulate_to_folder
from v1mtl.study import StudyConfig
from v1mtl.study.unit_job import LOG_FILE, WORKER_FILE


def test_smoke_study_on_the_cluster_by_address_gives_the_local_executors_numbers(
    ray_cluster, tmp_path, capsys, results
):
    on_ray, local = tmp_path / "ray", tmp_path / "local"
    done = ray_cluster.run(["run", "--smoke", "--out", str(on_ray)])
    assert done.returncode == 0, done.stderr
    assert f"executor ray at {ray_cluster.address} (2 node(s), 2 CPUs, 1 per unit)" in done.stdout
    assert "epoch 1:" not in done.stdout + done.stderr  # the units' own output is in their folders
    assert "epoch 1:" in (on_ray / "train" / "baseline-s0" / LOG_FILE).read_text()
    workers = {json.loads(p.read_text())["pid"] for p in on_ray.glob("*/*/" + WORKER_FILE)}
    assert len(workers) >= 2  # units ran in more than one worker process
    assert main(["run", "--smoke", "--out", str(local), "--executor", "local"]) == 0
    capsys.readouterr()
    ray_results, local_results = results(on_ray), results(local)
    assert any(key.endswith("last.pt") for key in ray_results)
    assert ray_results == local_results


def test_a_killed_worker_is_retried_and_resumes_to_the_same_weights(
    ray_cluster, tmp_path, capsys, results, long_training, kill_when_training
):
    on_ray, local = tmp_path / "ray", tmp_path / "local"
    killed: list[int] = []
    killer = threading.Thread(target=kill_when_training, args=(on_ray / "train" / "baseline-s0", killed))
    killer.start()
    done = ray_cluster.run(["run", "--smoke", "--out", str(on_ray), *long_training])
    killer.join()
    assert done.returncode == 0, done.stderr
    assert len(killed) == 1
    run = on_ray / "train" / "baseline-s0"
    assert json.loads((run / WORKER_FILE).read_text())["pid"] != killed[0]  # finished by another worker
    epochs = [json.loads(line)["epoch"] for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert epochs == list(range(1, 9))
    assert main(["run", "--smoke", "--out", str(local), "--executor", "local", *long_training]) == 0
    capsys.readouterr()
    assert results(on_ray) == results(local)


def test_bad_input_in_a_unit_stops_the_study_and_a_rerun_after_the_fix_resumes(ray_cluster, tmp_path):
    recordings = tmp_path / "recordings"
    simulate_to_folder(load_config(StudyConfig, preset="study-smoke").v1.simulate, recordings, progress=False)
    (recordings / "images.npy").rename(tmp_path / "images.npy")
    out = tmp_path / "study"
    args = ["run", "--smoke", "--out", str(out), "--set", f"v1.path={recordings}"]
    args += ["--set", "conditions=[baseline, mtl]", "--set", "analyses=[]"]
    failed = ray_cluster.run(args)
    assert failed.returncode == 2
    err = failed.stderr.strip()
    assert len(err.splitlines()) == 1, err
    assert "images.npy" in err and "No such file" in err and "(in unit v1/data)" in err
    finished = {p: json.loads(p.read_text())["run"] for p in out.glob("*/*/.done.json")}
    (tmp_path / "images.npy").rename(recordings / "images.npy")
    resumed = ray_cluster.run(args)
    assert resumed.returncode == 0, resumed.stderr
    assert (out / "report.md").is_file()
    # what had finished before the failure was kept, not computed again
    assert {p: json.loads(p.read_text())["run"] for p in finished} == finished


def test_ctrl_c_cancels_the_running_units_and_the_study_resumes(ray_cluster, tmp_path, long_training):
    out = tmp_path / "study"
    run = out / "train" / "baseline-s0"
    args = ["run", "--smoke", "--out", str(out), *long_training]
    driver = ray_cluster.start(args)
    deadline = time.monotonic() + 120
    while not ((run / "last.pt").exists() and (run / WORKER_FILE).exists()) and time.monotonic() < deadline:
        time.sleep(0.02)
    worker = json.loads((run / WORKER_FILE).read_text())["pid"]
    driver.send_signal(signal.SIGINT)
    stdout, stderr = driver.communicate(timeout=60)
    assert driver.returncode == 130, stderr
    assert "study interrupted: cancelled train/baseline-s0" in stdout
    assert "rerun the same command to resume" in stderr
    assert not (run / ".done.json").exists()
    deadline = time.monotonic() + 30
    while Path(f"/proc/{worker}").exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not Path(f"/proc/{worker}").exists()  # the task was stopped, not left training
    partial = [json.loads(line)["epoch"] for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert 1 <= len(partial) < 8
    resumed = ray_cluster.run(args)
    assert resumed.returncode == 0, resumed.stderr
    epochs = [json.loads(line)["epoch"] for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert epochs == list(range(1, 9))


def test_an_unreachable_cluster_is_one_clear_line(tmp_path, capsys, unused_port):
    address = f"127.0.0.1:{unused_port}"
    assert main(["run", "--smoke", "--out", str(tmp_path), "--ray-address", address]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert f"cannot reach the Ray cluster at {address}" in err and "executor.address" in err
