"""MLflow records against a local SQLite store made by each test (MLflow's supported local store)."""

import json
import socket

import pytest
import yaml

from v1mtl.common.errors import InputError
from v1mtl.tracking.mlflow_runs import (
    ENV_URI,
    local_store_uri,
    log_training_run,
    open_store,
    tracking_uri,
)


@pytest.fixture
def store(tmp_path):
    return open_store(local_store_uri(tmp_path / "mlruns"), "v1mtl/test")


def _training_folder(folder):
    folder.mkdir()
    (folder / "config.yaml").write_text(yaml.safe_dump({"seed": 3, "schedule": {"max_epochs": 2, "lr": 0.1}}))
    records = [{"epoch": e, "val_accuracy": 0.2 * e, "train_loss": 2.0 / e, "improved": True} for e in (1, 2)]
    (folder / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    final = {"condition": "mtl", "seed": 3, "test_accuracy": 0.41, "val_neural_corr": None, "convergence": {}}
    (folder / "final.json").write_text(json.dumps(final))
    return folder


def test_a_training_run_is_logged_with_its_config_epochs_and_final_scores(store, tmp_path):
    run_id = log_training_run(store, _training_folder(tmp_path / "mtl-s3"), name="mtl-s3", tags={"step": ""})
    run = store.client.get_run(run_id)
    assert run.info.run_name == "mtl-s3" and run.info.status == "FINISHED"
    assert run.data.params == {"seed": "3", "schedule.max_epochs": "2", "schedule.lr": "0.1"}
    assert run.data.tags["condition"] == "mtl" and run.data.tags["seed"] == "3"
    history = store.client.get_metric_history(run_id, "val_accuracy")
    assert sorted((m.step, m.value) for m in history) == [(1, 0.2), (2, 0.4)]
    assert run.data.metrics["test_accuracy"] == 0.41
    assert "improved" not in run.data.metrics and "val_neural_corr" not in run.data.metrics  # bool, None
    artifacts = {a.path for a in store.client.list_artifacts(run_id)}
    assert artifacts == {"config.yaml", "final.json"}


def test_the_uri_comes_from_the_flag_then_the_environment(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(ENV_URI, raising=False)
    assert tracking_uri(None) is None  # no flag, no environment: no tracking
    assert tracking_uri("") == f"sqlite:///{tmp_path / 'mlruns' / 'mlflow.db'}"
    assert tracking_uri("http://tracker:5000") == "http://tracker:5000"
    monkeypatch.setenv(ENV_URI, "sqlite:///elsewhere.db")
    assert tracking_uri(None) == tracking_uri("") == "sqlite:///elsewhere.db"


def test_a_server_that_does_not_answer_is_one_clear_line():
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(InputError, match=f"cannot reach the MLflow tracking server http://127.0.0.1:{port}"):
        open_store(f"http://127.0.0.1:{port}", "v1mtl/test")


def test_a_failed_predictivity_logs_no_scores(tmp_path):
    from v1mtl.tracking.mlflow_runs import NETWORK_SCORES

    best = {"layer": "relu3_1", "layer_index": 17, "feve_mean": -4.3e21}
    (tmp_path / "summary.json").write_text(
        json.dumps({"best": best, "status": "failed", "failure": "diverged"})
    )
    assert NETWORK_SCORES["predictivity"](tmp_path) == {}
    (tmp_path / "summary.json").write_text(json.dumps({"best": best | {"feve_mean": 0.2}, "status": "ok"}))
    assert NETWORK_SCORES["predictivity"](tmp_path) == {"v1_predictivity_feve_mean": 0.2}
