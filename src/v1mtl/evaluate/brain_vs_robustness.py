"""Do robustness and brain-likeness rise together? One point per model, a rank correlation with a CI.

Inputs: robustness CSVs of ``v1mtl evaluate robustness`` (tidy rows: model, corruption, severity, accuracy,
...) and predictivity folders (``summary.json``) of ``v1mtl evaluate predictivity``. Models are matched by
name (the ``model`` column of the CSV and the ``model`` field of the summary).

Statistic: for every model, robustness = mean accuracy over all corruption x severity rows (``clean`` and
the Gaussian sweep left out) of one protocol; brain-likeness = the mean over neurons of a predictivity
score (default the correlation to the trial average) at the best layer (selected on validation). The
Spearman rank correlation across models comes with a percentile bootstrap CI that resamples models
(``v1mtl.common.stats.bootstrap_spearman``). With few models the interval is wide; the output says
whether it excludes 0. The paper's claim is a positive relation (Safarani et al. 2021, abstract, result 3).
"""

from __future__ import annotations

import io
import json
import sys
import typing
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from v1mtl.common.atomic import write_bytes, write_json
from v1mtl.common.config import config_from_dict, config_to_dict
from v1mtl.common.errors import InputError
from v1mtl.common.ranges import Resamples, Seed
from v1mtl.common.stats import DEFAULT_N_BOOT, bootstrap_spearman
from v1mtl.common.tables import write_csv
from v1mtl.evaluate.records import write_protocol

PredictivityMetric = Literal["corr_to_average", "test_corr", "feve"]
PREDICTIVITY_METRICS: tuple[str, ...] = typing.get_args(PredictivityMetric)
EXCLUDED = ("clean", "gaussian_sweep")


@dataclass
class BrainRobustnessConfig:
    """Settings of ``v1mtl evaluate brain-robustness``.

    Attributes:
        metric: the predictivity score of brain-likeness, its mean over neurons at the best layer:
            ``corr_to_average`` (correlation to the trial average), ``test_corr`` or ``feve``.
        n_boot: bootstrap resamples of the Spearman correlation's confidence interval.
        seed: seed of the bootstrap.
    """

    metric: PredictivityMetric = "corr_to_average"
    n_boot: Resamples = DEFAULT_N_BOOT
    seed: Seed = 0


def mean_corruption_accuracy(csv_paths: Sequence[str | Path]) -> dict[str, dict[str, float]]:
    """Per model: ``mean_corruption_accuracy`` (over corruption x severity) and ``clean_accuracy``.

    All rows must come from one protocol (source, preset, JPEG round trip, colour space): accuracies
    under different protocols are not comparable.
    """
    from v1mtl.evaluate.robustness import combine_csvs

    rows = combine_csvs(csv_paths)
    protocols = {r.protocol for r in rows}
    if len(protocols) > 1:
        raise InputError(
            f"the CSVs mix {len(protocols)} protocols {sorted(protocols)}; pass CSVs of one protocol",
            path=", ".join(map(str, csv_paths)),
            field="source",
        )
    out: dict[str, dict[str, float]] = {}
    for model in dict.fromkeys(r.model for r in rows):
        corrupted = [r.accuracy for r in rows if r.model == model and r.corruption not in EXCLUDED]
        clean = [r.accuracy for r in rows if r.model == model and r.corruption == "clean"]
        if not corrupted:
            raise InputError(f"model {model!r} has no corruption rows", path=", ".join(map(str, csv_paths)))
        out[model] = {
            "mean_corruption_accuracy": float(np.mean(corrupted)),
            "clean_accuracy": float(np.mean(clean)) if clean else float("nan"),
            "n_conditions": len(corrupted),
        }
    return out


def read_predictivity(folder: str | Path, metric: str) -> dict:
    """``{"model", "predictivity", "layer", ...}`` from a predictivity folder's ``summary.json``."""
    path = Path(folder)
    path = path / "summary.json" if path.is_dir() else path
    if not path.is_file():
        raise InputError("no predictivity summary.json", path=path)
    summary = json.loads(path.read_text())
    for key in ("model", "best"):
        if key not in summary:
            raise InputError("missing key (not a predictivity summary)", path=path, field=key)
    column = f"{metric}_mean"
    if column not in summary["best"]:
        raise InputError(f"missing score {column!r}", path=path, field=f"best.{column}")
    best = summary["best"]
    return {
        "model": summary["model"],
        "predictivity": best[column],
        "layer": summary["best_layer"],
        "readout": summary.get("readout"),
        "pixels_per_degree": summary.get("pixels_per_degree"),
        "source": str(path),
    }


def relate(
    robustness_csvs: Sequence[str | Path],
    predictivity_folders: Sequence[str | Path],
    *,
    metric: str = "corr_to_average",
    n_boot: int = DEFAULT_N_BOOT,
    seed: int = 0,
) -> tuple[list[dict], dict]:
    """Match models and correlate; returns ``(points, result)``. ``points`` has one row per model."""
    if metric not in PREDICTIVITY_METRICS:
        raise InputError(f"unknown metric {metric!r}; expected one of {PREDICTIVITY_METRICS}", field="metric")
    if n_boot < 1:
        raise InputError(f"must be at least 1, got {n_boot}", field="n_boot")
    robust = mean_corruption_accuracy(robustness_csvs)
    preds = [read_predictivity(f, metric) for f in predictivity_folders]
    names = [p["model"] for p in preds]
    if len(set(names)) != len(names):
        raise InputError(f"several predictivity summaries share a model name: {names}", field="model")
    missing = [n for n in names if n not in robust]
    if missing:
        raise InputError(
            f"models without robustness rows: {missing}; the robustness CSVs hold {sorted(robust)}",
            path=", ".join(map(str, robustness_csvs)),
            field="model",
        )
    points = [p | robust[p["model"]] for p in preds]
    x = np.array([p["mean_corruption_accuracy"] for p in points])
    y = np.array([np.nan if p["predictivity"] is None else p["predictivity"] for p in points])
    est = bootstrap_spearman(x, y, n_boot=n_boot, seed=seed)
    positive = bool(est.ci_low > 0) if np.isfinite(est.ci_low) else False
    if not np.isfinite(est.ci_low):
        verdict = f"undetermined: {est.n} models are too few for a confidence interval"
    elif positive:
        verdict = "positive: the CI excludes 0 (more robust models are more V1-predictive)"
    elif est.ci_high < 0:
        verdict = "negative: the CI excludes 0 (more robust models are LESS V1-predictive)"
    else:
        verdict = "not established: the CI includes 0"
    result = {
        "metric": metric,
        "robustness": "mean corruption accuracy",
        "n_models": est.n,
        "spearman": est.value,
        "ci_low": est.ci_low,
        "ci_high": est.ci_high,
        "ci_level": 0.95,
        "n_boot": n_boot,
        "seed": seed,
        "positive_and_ci_excludes_zero": positive,
        "verdict": verdict,
    }
    return points, result


def run_brain_robustness(
    cfg: BrainRobustnessConfig,
    robustness_csvs: Sequence[str | Path],
    predictivity_folders: Sequence[str | Path],
    out_dir: str | Path,
) -> dict[str, Any]:
    """Relate robustness to V1 predictivity across models (``relate``) and write the results into ``out_dir``.

    Args:
        cfg: the settings (checked again here, so a hand-built config fails as a YAML one would).
        robustness_csvs: ``robustness.csv`` files of ``v1mtl evaluate robustness``, all of one protocol.
        predictivity_folders: output folders (or their ``summary.json``) of ``v1mtl evaluate predictivity``.
        out_dir: the output folder (made if missing).

    Writes ``points.csv``, ``result.json``, ``scatter.png`` (titled ``headline(result)``), ``protocol.md``
    and ``config.json``.

    Returns:
        The result, as in ``result.json``.

    Raises:
        InputError: a one-line message naming the config key (``field``) of a bad setting, or the bad input.
    """
    # a hand-built config is not checked against its types; YAML and --set ones already were
    cfg = config_from_dict(BrainRobustnessConfig, config_to_dict(cfg), source="BrainRobustnessConfig")
    points, result = relate(
        robustness_csvs, predictivity_folders, metric=cfg.metric, n_boot=cfg.n_boot, seed=cfg.seed
    )
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    write_csv(out / "points.csv", points)
    write_json(out / "result.json", result)
    _scatter(points, out / "scatter.png", headline(result))
    settings = {
        "robustness": [str(p) for p in robustness_csvs],
        "predictivity": [str(p) for p in predictivity_folders],
        "out": str(out_dir),
        **config_to_dict(cfg),
    }
    write_protocol(out, "Robustness against brain-likeness", [sys.modules[__name__]], settings)
    return result


def headline(result: dict[str, Any]) -> str:
    """``Spearman 0.80 [0.20, 1.00], n=6`` of a ``relate`` result."""
    return (
        f"Spearman {result['spearman']:.2f} [{result['ci_low']:.2f}, {result['ci_high']:.2f}], "
        f"n={result['n_models']}"
    )


def _scatter(points: Sequence[dict], path: Path, title: str) -> None:
    """One labelled point per model: mean corruption accuracy against predictivity."""
    # a bare Figure, not pyplot: a library module must not switch the process's matplotlib backend
    from matplotlib.figure import Figure

    fig = Figure(figsize=(3.8, 3.2))
    ax = fig.subplots()
    x = [p["mean_corruption_accuracy"] for p in points]
    y = [np.nan if p["predictivity"] is None else p["predictivity"] for p in points]
    ax.scatter(x, y, color="C0")
    for p, xi, yi in zip(points, x, y, strict=True):
        ax.annotate(str(p["model"]), (xi, yi), fontsize=7, xytext=(3, 3), textcoords="offset points")
    ax.set_xlabel("mean corruption accuracy")
    ax.set_ylabel("predictivity")
    ax.set_title(title, fontsize=8)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    write_bytes(path, buf.getvalue())
