"""MLflow records of trained networks and of studies, written from the files the stages leave behind.

Everything is logged by the process that drives the work (the study's driver, or ``v1mtl train``) after a
unit has finished, from its folder: ``config.yaml``, ``metrics.jsonl`` (one record per epoch) and
``final.json`` of a training run, the robustness and predictivity summaries, the report's tidy tables. So
workers on a cluster never need to reach the tracking store, a crashed unit logs nothing half-done, and the
MLflow record is a copy of the study folder, never its only home.

Layout: one MLflow experiment per study name; a parent run per study folder (found again by its tag
``v1mtl.study_root`` when the study is resumed), with the study's config, the claims and the per-condition
summary; one child run per trained network (tags ``condition``, ``seed``, ``step``), with its config as
params, its metrics per epoch (step = epoch), its final scores and, as the robustness, adversarial and
predictivity units finish, their headline scores.

The default store is a SQLite database in ``./mlruns`` (``sqlite:///<cwd>/mlruns/mlflow.db``, artifacts
beside it): MLflow 3 keeps its plain-directory store in maintenance mode and refuses it by default, so the
database is the local store it supports. ``mlflow ui --backend-store-uri sqlite:///mlruns/mlflow.db``
shows it.
"""

from __future__ import annotations

import json
import logging
import math
import os
import socket
import sys
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import yaml

from v1mtl.common.errors import InputError
from v1mtl.common.tables import read_csv
from v1mtl.evaluate.relative_robustness import mean_sweep_accuracy
from v1mtl.evaluate.robustness_metrics import score
from v1mtl.evaluate.robustness_table import read_rows

ENV_URI = "V1MTL_MLFLOW_URI"
LOCAL_FOLDER = Path("mlruns")
STUDY_ROOT_TAG = "v1mtl.study_root"
UNIT_TAG = "v1mtl.unit"
UNIT_RUN_TAG = "v1mtl.unit_run"
PARENT_TAG = "mlflow.parentRunId"
# MLflow's limits per log_batch call and per param value.
PARAMS_PER_BATCH, METRICS_PER_BATCH, PARAM_CHARS = 100, 1000, 6000
CONNECT_TIMEOUT_S = 3.0


def tracking_uri(flag: str | None) -> str | None:
    """The store to log to: ``--mlflow URI``, ``--mlflow`` alone (``flag == ""``: the environment's
    ``V1MTL_MLFLOW_URI``, else the local store), or without the flag the environment's URI (None: no tracking)."""
    if flag:
        return flag
    env = os.environ.get(ENV_URI)
    if env:
        return env
    return local_store_uri(LOCAL_FOLDER) if flag == "" else None


def local_store_uri(folder: Path) -> str:
    return f"sqlite:///{folder.resolve() / 'mlflow.db'}"


@dataclass
class Store:
    """An open tracking store and the experiment runs are logged to."""

    client: Any  # mlflow.tracking.MlflowClient
    experiment_id: str
    uri: str


def _check_reachable(uri: str) -> None:
    """A tracking server that does not answer is said in seconds: MLflow's own client retries with
    back-off for minutes first."""
    parsed = urlparse(uri)
    if parsed.scheme not in ("http", "https"):
        return
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    try:
        socket.create_connection((parsed.hostname, port), timeout=CONNECT_TIMEOUT_S).close()
    except OSError as err:
        raise InputError(
            f"cannot reach the MLflow tracking server {uri}: {err.strerror or err}", field="mlflow"
        ) from None


def open_store(uri: str, experiment: str) -> Store:
    """Connect to ``uri`` and get (or create) ``experiment``; an unreachable store is one clear line."""
    _check_reachable(uri)
    # MLflow and alembic announce every schema migration of a new database at INFO on the console
    for name in ("mlflow", "alembic"):
        logging.getLogger(name).setLevel(logging.WARNING)
    from mlflow.tracking import MlflowClient

    artifacts = None
    if uri.startswith("sqlite:///"):
        db = Path(uri.removeprefix("sqlite:///"))
        db.parent.mkdir(parents=True, exist_ok=True)
        artifacts = (db.parent / "artifacts").resolve().as_uri()
    try:
        client = MlflowClient(tracking_uri=uri)
        found = client.get_experiment_by_name(experiment)
        experiment_id = (
            found.experiment_id
            if found is not None
            else client.create_experiment(experiment, artifact_location=artifacts)
        )
    except Exception as err:  # MLflow raises many kinds (connection, schema, permission)
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise InputError(f"cannot use the MLflow tracking store {uri}: {first}", field="mlflow") from None
    return Store(client, experiment_id, uri)


def _flatten(value: Any, prefix: str = "") -> dict[str, str]:
    if isinstance(value, Mapping):
        out: dict[str, str] = {}
        for key, item in value.items():
            out |= _flatten(item, f"{prefix}{key}.")
        return out
    return {prefix.rstrip("."): json.dumps(value) if isinstance(value, list | tuple) else str(value)}


def _numbers(record: Mapping[str, Any]) -> dict[str, float]:
    """The finite numeric values of a flat record (booleans and nested values left out)."""
    return {
        k: float(v)
        for k, v in record.items()
        if isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
    }


def _chunks(items: list, size: int) -> Iterable[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _log(store: Store, run_id: str, params: Mapping[str, str] | None = None, metrics: Iterable = ()) -> None:
    from mlflow.entities import Metric, Param

    client = store.client
    params = params or {}
    for batch in _chunks([Param(k, v[:PARAM_CHARS]) for k, v in params.items()], PARAMS_PER_BATCH):
        client.log_batch(run_id, params=batch)
    now = int(time.time() * 1000)
    entries = [Metric(key, value, now, step) for key, value, step in metrics]
    for batch in _chunks(entries, METRICS_PER_BATCH):
        client.log_batch(run_id, metrics=batch)


def log_training_run(
    store: Store,
    folder: Path,
    *,
    name: str,
    tags: Mapping[str, str] | None = None,
    parent_id: str | None = None,
) -> str:
    """One MLflow run for the finished training run in ``folder``: its config as params, every numeric
    value of ``metrics.jsonl`` per epoch, the numeric values of ``final.json``; ``config.yaml`` and
    ``final.json`` as artifacts. Returns the MLflow run id."""
    final = json.loads((folder / "final.json").read_text())
    config = (
        yaml.safe_load((folder / "config.yaml").read_text()) if (folder / "config.yaml").is_file() else {}
    )
    run_tags = {"condition": str(final.get("condition", "")), "seed": str(final.get("seed", ""))} | dict(
        tags or {}
    )
    if parent_id is not None:
        run_tags[PARENT_TAG] = parent_id
    run = store.client.create_run(store.experiment_id, run_name=name, tags=run_tags)
    run_id = run.info.run_id
    metrics = []
    metrics_file = folder / "metrics.jsonl"
    if metrics_file.is_file():
        for line in metrics_file.read_text().splitlines():
            if line.strip():
                record = json.loads(line)
                step = int(record.get("epoch", 0))
                metrics += [(k, v, step) for k, v in _numbers(record).items() if k != "epoch"]
    metrics += [(k, v, 0) for k, v in _numbers(final).items() if k != "seed"]
    _log(store, run_id, _flatten(config), metrics)
    for artifact in ("config.yaml", "final.json"):
        if (folder / artifact).is_file():
            store.client.log_artifact(run_id, str(folder / artifact))
    store.client.set_terminated(run_id)
    return run_id


def _robustness_scores(folder: Path) -> dict[str, float]:
    scores = {}
    grid = folder / "corruptions" / "robustness.csv"
    if grid.is_file():
        (summary, *_), _ = score(read_rows(grid))
        scores["mean_corruption_accuracy"] = summary.mean_corruption_accuracy
        scores["clean_accuracy_corruption_images"] = summary.clean_accuracy
    sweep = folder / "gaussian-sweep" / "robustness.csv"
    if sweep.is_file():
        scores["mean_gaussian_sweep_accuracy"] = mean_sweep_accuracy(read_rows(sweep))
    return {k: v for k, v in scores.items() if math.isfinite(v)}


def _adversarial_scores(folder: Path) -> dict[str, float]:
    """Accuracy under PGD per norm and budget (``adversarial_linf_eps0.00392_accuracy``) and the masking flag."""
    summary = json.loads((folder / "adversarial.json").read_text())
    scores = {f"adversarial_{r['norm']}_eps{r['eps']:.3g}_accuracy": r["accuracy"] for r in summary["rows"]}
    scores["adversarial_suspect_gradient_masking"] = float(summary["suspect_gradient_masking"])
    return {k: v for k, v in scores.items() if math.isfinite(v)}


def _predictivity_scores(folder: Path) -> dict[str, float]:
    """The best layer's scores; none when every layer's readout fit failed (they are not results)."""
    summary = json.loads((folder / "summary.json").read_text())
    if summary.get("status") == "failed":
        return {}
    best = summary["best"]
    return {f"v1_predictivity_{k}": v for k, v in _numbers(best).items() if k != "layer_index"}


# The per-network evaluation stages whose headline scores go to the network's run, read from their folders.
NETWORK_SCORES = {
    "robustness": _robustness_scores,
    "predictivity": _predictivity_scores,
    "adversarial": _adversarial_scores,
}


class StudyTracker:
    """Logs a study's units to MLflow as they finish (``unit_finished`` is the runner's hook)."""

    def __init__(self, store: Store, root: Path, name: str) -> None:
        self.store, self.root = store, root.resolve()
        client = store.client
        found = client.search_runs(
            [store.experiment_id], filter_string=f"tags.`{STUDY_ROOT_TAG}` = '{self.root}'", max_results=1
        )
        if found:
            self.parent_id = found[0].info.run_id
            client.update_run(self.parent_id, status="RUNNING")
        else:
            run = client.create_run(store.experiment_id, run_name=name, tags={STUDY_ROOT_TAG: str(self.root)})
            self.parent_id = run.info.run_id
        self._networks: dict[str, str] = {}
        self._failed = False

    def log_config(self, config_file: Path) -> None:
        """The study's resolved config: flattened as params (new keys only: MLflow params are write-once)
        and the file itself as an artifact."""
        client = self.store.client
        known = client.get_run(self.parent_id).data.params
        config = _flatten(yaml.safe_load(config_file.read_text()) or {})
        _log(self.store, self.parent_id, {k: v for k, v in config.items() if k not in known})
        client.log_artifact(self.parent_id, str(config_file))

    def _marker_run(self, unit) -> str:
        marker = unit.folder(self.root) / ".done.json"
        return json.loads(marker.read_text()).get("run", "") if marker.is_file() else ""

    def _network_run(self, train_unit) -> str | None:
        """The MLflow run of a training unit, logged now or by an earlier run of the study."""
        label = str(train_unit.folder(self.root).relative_to(self.root))
        if label in self._networks:
            return self._networks[label]
        found = self.store.client.search_runs(
            [self.store.experiment_id],
            filter_string=f"tags.`{UNIT_TAG}` = '{label}' and tags.`{UNIT_RUN_TAG}` = '{self._marker_run(train_unit)}'",
            max_results=1,
        )
        return found[0].info.run_id if found else None

    def unit_finished(self, unit) -> None:
        """Log what a finished unit adds: a training run, a network's robustness, adversarial or predictivity scores, the
        study's summary (the report). A tracking failure is one warning and stops the tracking, never the
        study: its results are in the study folder either way."""
        if self._failed:
            return
        try:
            self._log_unit(unit)
        except Exception as err:  # MLflow raises many kinds (connection, schema, limits)
            self._failed = True
            print(
                f"v1mtl: warning: MLflow logging stopped at {unit.stage}/{unit.name} ({type(err).__name__}: "
                f"{str(err).strip().splitlines()[0] if str(err).strip() else ''}); the study goes on",
                file=sys.stderr,
            )

    def close(self) -> None:
        """Mark the study's parent run finished (a resumed study reopens it)."""
        if not self._failed:
            self.store.client.set_terminated(self.parent_id)

    def _log_unit(self, unit) -> None:
        folder = unit.folder(self.root)
        label = str(folder.relative_to(self.root))
        if unit.stage == "train":
            parts = label.split("/")
            tags = {UNIT_TAG: label, UNIT_RUN_TAG: self._marker_run(unit), "step": "/".join(parts[1:-1])}
            self._networks[label] = log_training_run(
                self.store, folder, name=unit.name, tags=tags, parent_id=self.parent_id
            )
        elif unit.stage in NETWORK_SCORES and unit.upstream:
            network = self._network_run(unit.upstream[0])
            if network is not None:
                scores = NETWORK_SCORES[unit.stage](folder)
                _log(self.store, network, metrics=[(k, v, 0) for k, v in scores.items()])
        elif unit.stage == "report":
            self._log_summary()

    def _log_summary(self) -> None:
        """The claims (effect, interval, verdict) and the per-condition means of the report's tables."""
        report = self.root / "report"
        metrics, client = [], self.store.client
        if (report / "claims.csv").is_file():
            for row in read_csv(report / "claims.csv"):
                n = row["claim"]
                client.set_tag(self.parent_id, f"claim{n}_verdict", row["verdict"])
                for key in ("value", "ci_low", "ci_high"):
                    value = float(row[key]) if row[key] not in ("", "nan") else math.nan
                    if math.isfinite(value):
                        metrics.append((f"claim{n}_{key}", value, 0))
        if (report / "summary.csv").is_file():
            by_condition: dict[tuple[str, str], list[float]] = {}
            for row in read_csv(report / "summary.csv"):
                for key in ("clean_accuracy", "relative_robustness", "v1_predictivity_feve"):
                    value = float(row[key]) if row[key] not in ("", "nan") else math.nan
                    if math.isfinite(value):
                        by_condition.setdefault((row["condition"], key), []).append(value)
            metrics += [(f"{c}.{key}", sum(v) / len(v), 0) for (c, key), v in by_condition.items()]
        _log(self.store, self.parent_id, metrics=metrics)
        for path in [self.root / "report.html", *sorted(report.glob("*.csv"))]:
            if path.is_file():
                client.log_artifact(self.parent_id, str(path), artifact_path="report")
