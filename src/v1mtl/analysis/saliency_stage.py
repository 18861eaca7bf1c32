"""The saliency-sensitivity stage (``v1mtl analyze saliency``): how much of a network's sensitivity is salient.

Compute per-pixel sensitivity maps of each network at one layer (``v1mtl.analysis.sensitivity``) and score them
against saliency maps, a user's file or a built-in bottom-up model (``v1mtl.analysis.saliency``, where the
protocol is). Writes ``per_image.csv``, ``summary.csv``, ``comparisons.csv``, ``examples.png``, ``scores.png``,
``protocol.md`` and ``config.json``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path

import numpy as np

from v1mtl.analysis import plots, saliency, saliency_maps_io, saliency_models, sensitivity
from v1mtl.analysis import settings as analysis_settings
from v1mtl.analysis.stage_common import StageResult, prepare_inputs, write_tables
from v1mtl.analysis.stage_config import SaliencyConfig
from v1mtl.evaluate import write_protocol


def run_saliency_stage(
    cfg: SaliencyConfig,
    checkpoints: Sequence[str | Path],
    out_dir: str | Path,
    *,
    names: Sequence[str] | None = None,
    device: str = "cpu",
) -> StageResult:
    """Score the sensitivity maps of ``checkpoints`` (the first is the reference) against saliency, into ``out_dir``.

    ``names`` label the models (default: the run folders' names). Returns the per-image rows (one per model x
    method x image, with ``nss`` and ``auc``), the summary (model x method x score) and the comparisons.
    """
    out = Path(out_dir)
    inputs = prepare_inputs(cfg, checkpoints, names, device)
    if cfg.saliency_maps:
        sal = saliency_maps_io.load_saliency_maps(
            cfg.saliency_maps, inputs.ids, inputs.size, log_density=cfg.log_density
        )
        sal_source: dict = {"file": str(cfg.saliency_maps), "log_density": cfg.log_density}
    else:
        sal = np.stack([saliency_models.saliency_map(im, cfg.model) for im in inputs.images])
        sal_source = {"model": cfg.model}
    first = inputs.networks[0]
    settings = analysis_settings.SaliencySettings(
        methods=tuple(cfg.methods),
        mean=first.mean,
        std=first.std,
        n_probes=cfg.n_probes,
        budget=cfg.budget,
        recon=cfg.reconstruction_settings(),
        top_fraction=cfg.top_fraction,
        batch_size=cfg.batch_size,
        seed=cfg.seed,
    )
    rows, maps = saliency.run_saliency_sensitivity(
        inputs.extractors, inputs.ids, inputs.images, sal, settings
    )
    for row in rows:
        row.update(inputs.layers[row["model"]])
    summary, comparisons = saliency.summarize_saliency(rows, n_boot=cfg.n_boot, seed=cfg.seed)
    result = StageResult(out, rows, summary, comparisons)
    write_tables(result)
    plots.saliency_examples(inputs.ids, inputs.images, sal, maps, out / "examples.png")
    plots.score_bars(summary, out / "scores.png")
    modules = [saliency, sensitivity, saliency_maps_io if cfg.saliency_maps else saliency_models]
    write_protocol(
        out,
        "Saliency sensitivity",
        modules,
        {
            "models": inputs.layers,
            "images": str(cfg.images),
            "image_ids": inputs.ids,
            "size": inputs.size,
            "saliency": sal_source,
            "settings": asdict(settings),
            "n_boot": cfg.n_boot,
            "seed": cfg.seed,
        },
    )
    return result
