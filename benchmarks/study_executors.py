"""Wall time and peak memory of one study run with each executor, back to back, and whether they agree.

Each executor runs the same study (``v1mtl run --preset P --executor E``) in a fresh folder, in its own
process group; memory is the peak over the run of the summed proportional set size (PSS, shared pages
divided among the processes that share them) of the driver and every process below it (with Ray: the Ray
instance it starts and its workers), sampled every 0.5 s. Then the two folders' outputs are compared
(``v1mtl.study.compare``: every JSON, CSV and JSON-lines output and every run's weights, timings aside).
Ray's own start-up (a new local instance and its first task on every CPU) and its idle memory are measured
in a separate process.

Absolute times on a shared machine are noisy; the ratio of two runs back to back is the figure to read.

Usage: ``python benchmarks/study_executors.py --preset quick --out runs/bench [--executors local,ray]
[--set KEY=VALUE ...]``. Prints one JSON object (and writes it to ``<out>/study_executors.json``).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

from v1mtl.study.compare import differences

STARTUP = """
import json, os, time
t0 = time.perf_counter()
import ray
ray.init(address="local", num_cpus=os.cpu_count(), include_dashboard=False, log_to_driver=False,
         object_store_memory=128 * 2**20, logging_level="ERROR")
t1 = time.perf_counter()
square = ray.remote(num_cpus=1)(lambda x: x * x)
ray.get([square.remote(i) for i in range(os.cpu_count())])
t2 = time.perf_counter()
print(json.dumps({"import_and_init_s": t1 - t0, "first_tasks_s": t2 - t1}), flush=True)
input()  # hold the instance while the parent measures its memory
ray.shutdown()
"""


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            tree.setdefault(ppid, []).append(int(entry))
    return tree


def tree_pss_mb(pid: int) -> float:
    """Summed PSS of ``pid`` and all its descendants, in MB."""
    tree, todo, total = _children(), [pid], 0
    while todo:
        p = todo.pop()
        todo.extend(tree.get(p, []))
        try:
            for line in Path(f"/proc/{p}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total += int(line.split()[1])
                    break
        except OSError:
            continue
    return total / 1024


class PeakMemory:
    """Samples ``tree_pss_mb(pid)`` every ``interval`` seconds in a thread; ``peak`` is the largest."""

    def __init__(self, pid: int, interval: float = 0.5):
        self.pid, self.interval, self.peak = pid, interval, 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, tree_pss_mb(self.pid))
            self._stop.wait(self.interval)

    def stop(self) -> float:
        self._stop.set()
        self._thread.join()
        return self.peak


def run_study(preset: str, executor: str, out: Path, overrides: list[str]) -> dict:
    command = [
        sys.executable,
        "-m",
        "v1mtl",
        "run",
        "--preset",
        preset,
        "--out",
        str(out),
        "--executor",
        executor,
    ]
    for item in overrides:
        command += ["--set", item]
    log = (out.parent / f"{out.name}.log").open("w")
    start = time.perf_counter()
    proc = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    memory = PeakMemory(proc.pid)
    code = proc.wait()
    seconds = time.perf_counter() - start
    peak = memory.stop()
    if code != 0:
        raise SystemExit(f"{executor}: v1mtl run exited {code}; see {log.name}")
    return {"wall_s": round(seconds, 1), "peak_pss_mb": round(peak, 1)}


def ray_startup() -> dict:
    proc = subprocess.Popen(
        [sys.executable, "-c", STARTUP], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    timing = json.loads(proc.stdout.readline())
    time.sleep(2.0)  # let the idle workers settle
    timing["idle_pss_mb"] = round(tree_pss_mb(proc.pid), 1)
    proc.communicate("\n", timeout=60)
    return {k: round(v, 2) for k, v in timing.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="quick")
    parser.add_argument("--out", type=Path, required=True, help="a new folder for the studies")
    parser.add_argument("--executors", default="local,ray")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    executors = args.executors.split(",")
    result: dict = {"preset": args.preset, "cores": os.cpu_count(), "overrides": args.overrides, "runs": {}}
    for executor in executors:
        result["runs"][executor] = run_study(args.preset, executor, args.out / executor, args.overrides)
    if len(executors) == 2:
        a, b = executors
        result[f"speedup_{b}_over_{a}"] = round(result["runs"][a]["wall_s"] / result["runs"][b]["wall_s"], 2)
        result["differing_outputs"] = differences(args.out / a, args.out / b)
        result["identical"] = not result["differing_outputs"]
    result["ray_startup"] = ray_startup()
    result["note"] = "absolute times and memory on a shared machine are noisy; compare runs made back to back"
    text = json.dumps(result, indent=2)
    (args.out / "study_executors.json").write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
