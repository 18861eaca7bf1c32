"""V1 predictivity ("brain-likeness") of a trained network, layer by layer.

Protocol (docs/reference-implementation.md, 'V1 predictivity'; the paper's exact one was not released,
see docs/analyses.md):
1. Cut the trained network's VGG trunk after a layer: ``features[:k]``. Freeze it: no parameter gradients
   AND BatchNorm in eval mode, so its running statistics cannot drift towards the V1 stimuli.
2. ``readout="gaussian"`` (default): fit fresh per-session Gaussian readouts on the V1 dataset with the
   settings of the single-task V1 model (``v1mtl.neural_model.fit.fit_v1_model`` with
   ``freeze_core=True``: Poisson loss, L1 on the readout, Adam, early stopping on the validation
   correlation). ``readout="ridge"``: a per-neuron ridge regression on the flattened activations
   (``v1mtl.evaluate.ridge_readout``), fast and training-free.
3. Score on the repeated test images, per neuron: single-trial correlation, correlation to the trial
   average, FEVE (``v1mtl.common.measures``), plus the noise ceiling (oracle correlation, explainable variance).
4. Layer sweep: the best layer is the one with the highest mean validation correlation (never the test
   score, so the reported test score is not selected on the test set), among the layers whose readout fit
   did not fail (``v1mtl.neural_model.fit_health``); when every layer's fit failed, the stage's ``status``
   is ``failed`` and its scores are not results.
Summaries over neurons (mean, median) use the reliable neurons (``v1mtl.neural_model.evaluate.summarize``:
explainable variance above ``min_explainable_variance`` of the fit settings, finite score); ``n_used`` of
``n_total`` says how many; ``scores.csv`` keeps every neuron.
Every row records the committed layer (name and ``k``) and the stimulus resolution: the dataset's pixels
per degree and the pixels per degree of the network input after preprocessing.
The stimuli are z-scored with the network's own input statistics unless the fit config sets others.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from v1mtl.common.atomic import write_with
from v1mtl.common.config import config_to_dict
from v1mtl.common.errors import InputError
from v1mtl.common.tables import read_csv, write_csv
from v1mtl.models.trunk import frozen_trunk, resolve_layer, trunk_modules
from v1mtl.training import LoadedNetwork

READOUTS = ("gaussian", "ridge")
CORE_KIND = "v1mtl-frozen-core"
SCORE_NAMES = ("test_corr", "corr_to_average", "feve")


@dataclass
class LayerResult:
    """Scores of one layer: per-neuron rows and a summary dict."""

    layer: str
    k: int
    rows: list[dict]
    summary: dict


def core_state_dict(loaded: LoadedNetwork, k: int) -> dict[str, torch.Tensor]:
    """Weights of ``features[:k]`` under ``shared.<index>.*`` keys (the layout ``load_shared_core`` reads)."""
    state = {}
    for block in (loaded.net.shared, loaded.net.unshared):
        if block is None:
            continue
        for key, value in block.state_dict().items():
            if int(key.split(".", 1)[0]) < k:
                state[f"shared.{key}"] = value.detach().cpu().clone()
    return state


def write_core_checkpoint(path: str | Path, loaded: LoadedNetwork, k: int) -> None:
    """Write ``features[:k]`` as a checkpoint that ``fit_v1_model(core_from=...)`` accepts.

    Its ``model_config`` is the network's with ``shared_layer = k``, so the fitted V1 model's trunk is
    exactly ``features[:k]``.
    """
    model_config = config_to_dict(loaded.model_cfg) | {"shared_layer": int(k)}
    payload = {"kind": CORE_KIND, "model_config": model_config, "state_dict": core_state_dict(loaded, k)}
    write_with(path, lambda fh: torch.save(payload, fh))


def _input_ppd(ppd: float | None, subsample: int, scale: float) -> float | None:
    return None if ppd is None else float(ppd) * float(scale) / float(subsample)


def gaussian_layer(
    loaded: LoadedNetwork,
    layer: str | int,
    dataset_path: str | Path,
    out_dir: Path,
    fit_cfg,
    device: str,
) -> LayerResult:
    """Fit Gaussian readouts on the frozen ``features[:k]`` (``fit_v1_model``) and collect its scores."""
    from v1mtl.neural_model import fit_v1_model

    k, name = resolve_layer(loaded.net, loaded.model_cfg, layer)
    layer_dir = out_dir / f"layer_{name}"
    core = layer_dir / "core.pt"
    write_core_checkpoint(core, loaded, k)
    cfg = copy.deepcopy(fit_cfg)
    if cfg.data.mean is None or cfg.data.std is None:
        cfg.data.mean, cfg.data.std = loaded.mean, loaded.std
    summary = fit_v1_model(
        cfg, dataset_path, layer_dir / "fit", core_from=str(core), freeze_core=True, device=device
    )
    rows = [
        {key: (value if key == "session" else float(value)) for key, value in r.items()}
        for r in read_csv(layer_dir / "fit" / "scores.csv")
    ]
    for r in rows:
        r["neuron"] = int(r["neuron"])
        r["val_corr"] = float(summary["best_val_corr"])
    return LayerResult(name, k, rows, summary | {"val_corr": float(summary["best_val_corr"])})


def _status(summary: dict) -> dict:
    """A layer's fit outcome: ``status`` ``ok`` or ``failed`` and the ``failure`` (ridge readouts: ok)."""
    return {"status": summary.get("status", "ok"), "failure": summary.get("failure")}


def ridge_layer(loaded: LoadedNetwork, layer: str | int, dataset, fit_cfg, progress: bool) -> LayerResult:
    """Ridge readouts on the frozen ``features[:k]`` (``v1mtl.evaluate.ridge_readout``)."""
    from v1mtl.data.neural import ImageStats
    from v1mtl.evaluate.ridge_readout import ridge_predictivity
    from v1mtl.neural_model.evaluate import summarize

    extractor, k, name = frozen_trunk(loaded.net, loaded.model_cfg, layer)
    d = fit_cfg.data
    stats = ImageStats(
        d.mean if d.mean is not None else loaded.mean, d.std if d.std is not None else loaded.std
    )
    rows = ridge_predictivity(
        extractor,
        dataset,
        stats=stats,
        crop=d.crop,
        subsample=d.subsample,
        scale=d.scale,
        train_fraction=d.train_fraction,
        split_seed=d.split_seed,
        progress=progress,
    )
    summary = summarize(rows, fit_cfg.min_explainable_variance) | {
        "val_corr": float(np.nanmean([r["val_corr"] for r in rows]))
    }
    return LayerResult(name, k, rows, summary)


def evaluate_predictivity(
    loaded: LoadedNetwork,
    dataset_path: str | Path,
    out_dir: str | Path,
    *,
    layers: Sequence[str | int] | None = None,
    readout: str = "gaussian",
    fit_cfg=None,
    device: str = "cpu",
    progress: bool = True,
) -> dict:
    """Score ``layers`` (default: the network's shared layer) of ``loaded``; write the tables into ``out_dir``.

    Writes ``scores.csv`` (one row per layer x neuron), ``layers.csv`` (one row per layer) and
    ``summary.json`` (all layers and the best one). Returns the summary.
    """
    from v1mtl.common.atomic import write_json
    from v1mtl.data.neural import read_v1
    from v1mtl.data.neural.preprocess import check_unit_range
    from v1mtl.neural_model import FitNeuralConfig

    if readout not in READOUTS:
        raise InputError(f"unknown readout {readout!r}; expected one of {READOUTS}", field="readout")
    fit_cfg = fit_cfg or FitNeuralConfig()
    fit_cfg.progress = progress
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    dataset = read_v1(dataset_path, fit_cfg.data.format)
    check_unit_range(dataset.images, dataset_path)
    ppd = dataset.pixels_per_degree
    in_ppd = _input_ppd(ppd, fit_cfg.data.subsample, fit_cfg.data.scale)
    layers = list(layers) if layers else [loaded.model_cfg.shared_layer]
    # the trunk must at least reach every layer before any fitting starts
    resolved = [resolve_layer(loaded.net, loaded.model_cfg, layer) for layer in layers]
    if len({k for k, _ in resolved}) != len(resolved):
        raise InputError(f"layers repeat: {layers}", field="layers")
    results = []
    for layer in layers:
        if readout == "gaussian":
            results.append(gaussian_layer(loaded, layer, dataset_path, out, fit_cfg, device))
        else:
            results.append(ridge_layer(loaded, layer, dataset, fit_cfg, progress))
    context = {
        "model": loaded.name,
        "checkpoint": loaded.path,
        "readout": readout,
        "pixels_per_degree": ppd,
        "input_pixels_per_degree": in_ppd,
    }
    all_rows, layer_rows = [], []
    for res in results:
        for r in res.rows:
            all_rows.append(context | {"layer": res.layer, "layer_index": res.k} | r)
        layer_rows.append(
            context
            | {"layer": res.layer, "layer_index": res.k, "val_corr": res.summary["val_corr"]}
            | {f"{s}_mean": res.summary[f"{s}_mean"] for s in SCORE_NAMES}
            | {f"{s}_median": res.summary[f"{s}_median"] for s in SCORE_NAMES}
            | {
                key: res.summary[key]
                for key in ("n_neurons", "n_used", "n_total", "min_explainable_variance")
            }
            | _status(res.summary)
        )
    healthy = [r for r in layer_rows if r["status"] == "ok"]
    best = max(
        healthy or layer_rows,
        key=lambda r: -np.inf if r["val_corr"] is None else np.nan_to_num(r["val_corr"], nan=-np.inf),
    )
    write_csv(out / "scores.csv", all_rows)
    write_csv(out / "layers.csv", layer_rows)
    summary = context | {
        "dataset": str(dataset_path),
        "layers": layer_rows,
        "best_layer": best["layer"],
        "best_layer_index": best["layer_index"],
        "best": best,
        "selection": "highest mean validation correlation among the layers whose fit did not fail",
        "trunk_modules": len(trunk_modules(loaded.net)),
        "status": "ok" if healthy else "failed",
        "failure": None
        if healthy
        else f"every layer's readout fit failed; {best['layer']}: {best['failure']}",
    }
    write_json(out / "summary.json", summary)
    return summary
