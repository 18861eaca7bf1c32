"""A Ray cluster of two nodes on 127.0.0.1, started by the tests, and a comparison of two study folders."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

from v1mtl.study.compare import study_outputs
from v1mtl.study.unit_job import WORKER_FILE

RAY = str(Path(sys.executable).parent / "ray")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cluster_env() -> dict[str, str]:
    """Token authentication with a token of the test's own, and no usage statistics."""
    return {"RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": uuid.uuid4().hex, "RAY_USAGE_STATS_ENABLED": "0"}


def start_node(address: str | None, env: dict[str, str], log: Path) -> subprocess.Popen:
    """``ray start --block`` of a head (``address`` None, listening on ``RAY_PORT``) or a worker node,
    each with one CPU; SIGTERM stops it and its processes."""
    common = [
        "--block",
        "--node-ip-address",
        "127.0.0.1",
        "--num-cpus",
        "1",
        "--object-store-memory",
        "80000000",
    ]
    if address is None:
        args = [RAY, "start", "--head", "--port", env["RAY_PORT"], "--include-dashboard=false", *common]
    else:
        args = [RAY, "start", "--address", address, *common]
    return subprocess.Popen(args, env=os.environ | env, stdout=log.open("w"), stderr=subprocess.STDOUT)


NODES_UP = """
import sys, ray
ray.init(address=sys.argv[1], log_to_driver=False, logging_level="ERROR")
sys.exit(0 if sum(node["Alive"] for node in ray.nodes()) >= int(sys.argv[2]) else 1)
"""


def wait_for_nodes(address: str, n: int, env: dict[str, str], timeout: float = 90.0) -> None:
    """Until the cluster at ``address`` has ``n`` live nodes (asked from a process of its own, as every
    driver here is: a process that once joined a Ray instance keeps that instance's authentication)."""
    deadline = time.monotonic() + timeout
    while True:
        check = [sys.executable, "-c", NODES_UP, address, str(n)]
        if subprocess.run(check, env=os.environ | env, capture_output=True, timeout=120).returncode == 0:
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"the Ray cluster at {address} did not reach {n} nodes")
        time.sleep(1.0)


@dataclass
class RayCluster:
    """A running cluster's address and the environment a driver needs to join it (its token)."""

    address: str
    env: dict[str, str]

    def run(self, args: list[str], **options) -> subprocess.CompletedProcess:
        """``v1mtl ARGS`` in a process of its own, joined to this cluster."""
        command = [sys.executable, "-m", "v1mtl", *args, "--ray-address", self.address]
        return subprocess.run(
            command, env=os.environ | self.env, capture_output=True, text=True, timeout=600, **options
        )

    def start(self, args: list[str]) -> subprocess.Popen:
        """The same, started in the background."""
        command = [sys.executable, "-m", "v1mtl", *args, "--ray-address", self.address]
        return subprocess.Popen(
            command,
            env=os.environ | self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            preexec_fn=_foreground_sigint,
        )


def _foreground_sigint() -> None:
    """Ctrl-C as on a terminal: a suite started in the background (``make test &``) inherits SIGINT
    ignored, and Python then keeps it ignored in the driver, which would never see the test's SIGINT."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.fixture
def unused_port() -> int:
    """A TCP port free on 127.0.0.1 now."""
    return free_port()


@pytest.fixture(scope="module")
def ray_cluster(tmp_path_factory):
    """A running two-node Ray cluster (``ray start --head`` plus one worker node, one CPU each)."""
    logs = tmp_path_factory.mktemp("ray-logs")
    env = cluster_env() | {"RAY_PORT": str(free_port())}
    address = f"127.0.0.1:{env['RAY_PORT']}"
    nodes = []
    try:
        nodes.append(start_node(None, env, logs / "head.log"))
        wait_for_nodes(address, 1, env)
        nodes.append(start_node(address, env, logs / "worker.log"))
        wait_for_nodes(address, 2, env)
        yield RayCluster(address, env)
    finally:
        for node in reversed(nodes):
            node.terminate()
        for node in nodes:
            node.wait(timeout=60)


@pytest.fixture
def results():
    """``results(root)``: a study folder's outputs, comparable with ``==`` (``v1mtl.study.compare``)."""
    return study_outputs


# A training unit long enough to be stopped in the middle (8 epochs of ~0.5 s), with what follows it cut short.
LONG_TRAINING = [
    "--set",
    "conditions=[baseline]",
    "--set",
    "analyses=[]",
    "--set",
    "train.schedule.kind=onecycle",
    "--set",
    "train.schedule.max_epochs=8",
    "--set",
    "train.data.builtin_counts=[1500, 100, 100]",
]


@pytest.fixture
def long_training():
    """``--set`` arguments of a smoke study whose one training unit lasts long enough to be stopped."""
    return list(LONG_TRAINING)


def kill_process_training(folder: Path, killed: list[int]) -> None:
    """SIGKILL the process training in ``folder`` once it has checkpointed an epoch."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if (folder / "last.pt").exists() and (folder / WORKER_FILE).exists():
            pid = json.loads((folder / WORKER_FILE).read_text())["pid"]
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)
            return
        time.sleep(0.02)


@pytest.fixture
def kill_when_training():
    """``kill_when_training(folder, killed)``: SIGKILL the unit's process (``kill_process_training``)."""
    return kill_process_training
