"""The V1 predictivity stage: fresh readouts on a trained network's frozen trunk, scored against V1 recordings.

``run_predictivity_stage`` is what ``v1mtl evaluate predictivity`` and a study's predictivity units run: it
loads the network, scores its layers (``v1mtl.evaluate.predictivity``, which holds the protocol), draws the
layer sweep and records the protocol and every resolved setting next to the tables.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from v1mtl.common.config import config_to_dict
from v1mtl.common.ranges import Epochs, Seed
from v1mtl.evaluate import predictivity
from v1mtl.evaluate.predictivity_plots import layer_sweep
from v1mtl.evaluate.records import write_protocol
from v1mtl.models.trunk import parse_layer
from v1mtl.neural_model import FitNeuralConfig
from v1mtl.training import load_network


@dataclass
class PredictivityConfig:
    """Settings of the V1 predictivity of a trained network (stage 6 of a study).

    Attributes:
        layers: layers to score, names such as ``relu3_1`` or module counts ``k`` of ``features[:k]``
            (``"17"``); empty = the network's shared layer. Several give a sweep; the best layer is chosen
            on the validation correlation.
        readout: ``gaussian`` (fresh Gaussian readouts fitted with the V1 model's settings) or ``ridge``
            (a per-neuron ridge regression, ``v1mtl.evaluate.ridge_readout``).
        max_epochs: epoch limit of each Gaussian readout fit; None = the fit settings'
            ``training.max_epochs``.
        seed: seed of the readout fits; None keeps the fit settings' ``seed``.
    """

    layers: list[str] = field(default_factory=list)
    readout: Literal["gaussian", "ridge"] = "gaussian"
    max_epochs: Epochs | None = None
    seed: Seed | None = None


def run_predictivity_stage(
    cfg: PredictivityConfig,
    checkpoint: str | Path,
    neural: str | Path,
    out_dir: str | Path,
    *,
    fit: FitNeuralConfig | None = None,
    name: str | None = None,
    device: str = "cpu",
    progress: bool = True,
) -> dict[str, Any]:
    """Score ``cfg.layers`` of the network at ``checkpoint`` on the V1 dataset ``neural``; write into ``out_dir``.

    Args:
        cfg: the stage's settings.
        checkpoint: a training run folder or its ``best.pt``.
        neural: the V1 dataset (any format ``v1mtl data inspect`` knows).
        out_dir: the output folder.
        fit: the V1 model's fit settings, used for the readouts' stimulus preprocessing, loss and optimizer
            (``cfg.max_epochs`` and ``cfg.seed``, when set, replace its epoch limit and seed); None = the defaults of
            ``FitNeuralConfig``. Not modified.
        name: the model's name in the tables (default: the run folder's name).
        device: ``cpu`` or ``cuda``.
        progress: show progress bars (drawn only when stderr is a terminal).

    Writes ``scores.csv`` (one row per layer x neuron), ``layers.csv`` (one row per layer), ``summary.json``,
    ``layer_sweep.png``, ``protocol.md``, ``config.json`` (every resolved setting) and, for Gaussian readouts,
    ``layer_<name>/`` (the trunk handed to the fit and the fit itself).

    Returns:
        The summary written to ``summary.json``: the context (model, checkpoint, readout, pixels per degree),
        ``layers`` (one dict per layer) and ``best`` (the layer with the highest validation correlation).
    """
    fit_cfg = copy.deepcopy(fit) if fit is not None else FitNeuralConfig()
    if cfg.max_epochs is not None:
        fit_cfg.training.max_epochs = cfg.max_epochs
    if cfg.seed is not None:
        fit_cfg.seed = cfg.seed
    loaded = load_network(checkpoint, name, device=device)
    summary = predictivity.evaluate_predictivity(
        loaded,
        neural,
        out_dir,
        layers=[parse_layer(x) for x in cfg.layers] or None,
        readout=cfg.readout,
        fit_cfg=fit_cfg,
        device=device,
        progress=progress,
    )
    layer_sweep(summary["layers"], Path(out_dir) / "layer_sweep.png")
    settings = {
        "checkpoint": loaded.path,
        "model": loaded.name,
        "neural": str(neural),
        "layers": [r["layer"] for r in summary["layers"]],
        "readout": cfg.readout,
        "device": device,
        "fit": config_to_dict(fit_cfg),
        "input_normalization": {"mean": loaded.mean, "std": loaded.std},
    }
    modules = [predictivity]
    if cfg.readout == "ridge":
        from v1mtl.evaluate import ridge_readout

        modules.append(ridge_readout)
    write_protocol(out_dir, "V1 predictivity", modules, settings)
    return summary
