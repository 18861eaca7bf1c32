"""The two Slurm routes as a user takes them, with stand-ins for Slurm's commands: the sbatch template
that starts a Ray cluster on the allocation's nodes and runs the study on it, and the submitit config."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from v1mtl.common.config import load_config
from v1mtl.study import StudyConfig

REPO = Path(__file__).resolve().parents[3]
TEMPLATE = REPO / "examples" / "slurm" / "ray-cluster.sbatch"

# `scontrol show hostnames` lists two nodes; `srun ... -w NODE COMMAND` runs COMMAND here (and
# `hostname --ip-address` answers the loopback address, where the test's cluster listens).
SCONTROL = '#!/bin/bash\n[ "$1 $2" = "show hostnames" ] && printf "node-a\\nnode-b\\n"\n'
SRUN = """#!/bin/bash
while [ $# -gt 0 ]; do
  case "$1" in -w) shift 2 ;; -*) shift ;; *) break ;; esac
done
[ "$1" = hostname ] && { echo 127.0.0.1; exit 0; }
exec "$@"
"""


def test_the_sbatch_template_runs_a_study_on_a_ray_cluster_of_the_allocations_nodes(tmp_path, unused_port):
    shims = tmp_path / "bin"
    shims.mkdir()
    for name, text in (("scontrol", SCONTROL), ("srun", SRUN)):
        (shims / name).write_text(text)
        (shims / name).chmod(0o755)
    env = os.environ | {
        "PATH": f"{shims}:{Path(sys.executable).parent}:{os.environ['PATH']}",
        "SLURM_JOB_NODELIST": "node-[a-b]",
        "SLURM_CPUS_PER_TASK": "1",
        "RAY_PORT": str(unused_port),
        "RAY_START_OPTIONS": "--object-store-memory 80000000",
    }
    out = tmp_path / "study"
    args = ["--smoke", "--set", "conditions=[baseline]", "--set", "analyses=[]"]
    done = subprocess.run(
        ["bash", str(TEMPLATE), str(out), *args],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "(2 node(s), 2 CPUs, 1 per unit)" in done.stdout
    assert (out / "report.md").is_file()
    assert json.loads((out / "train" / "baseline-s0" / "final.json").read_text())["epochs_trained"] == 1
    leftover = subprocess.run(
        ["pgrep", "-f", f"ray start.*{env['RAY_PORT']}"], capture_output=True, text=True
    )
    assert leftover.stdout == ""  # the template stops its cluster when the study ends


def test_the_submitit_example_config_is_a_valid_study_on_slurm():
    cfg = load_config(StudyConfig, REPO / "examples" / "slurm" / "submitit-study.yaml", preset="study-paper")
    cfg.validate()
    assert cfg.executor.kind == "submitit" and cfg.executor.submitit.cluster == "slurm"
