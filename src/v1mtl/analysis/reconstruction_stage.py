"""The constrained-reconstruction stage (``v1mtl analyze reconstruction``): content vs noise, tables and figures.

Reconstruct noisy images (clean + Gaussian noise) from each network's activations at one layer under fixed L2
budgets (``v1mtl.analysis.reconstruction``) and split every reconstruction between content and noise
(``v1mtl.analysis.content_vs_noise``, where the protocol is). Writes ``per_image.csv``, ``summary.csv``,
``comparisons.csv``, ``examples.png``, ``content_gain.png``, ``content_fraction.png``, ``protocol.md`` and
``config.json``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path

from v1mtl.analysis import content_vs_noise as cvn
from v1mtl.analysis import plots, reconstruction
from v1mtl.analysis import settings as analysis_settings
from v1mtl.analysis.stage_common import StageResult, prepare_inputs, write_tables
from v1mtl.analysis.stage_config import ReconstructionConfig
from v1mtl.evaluate import write_protocol


def run_reconstruction_stage(
    cfg: ReconstructionConfig,
    checkpoints: Sequence[str | Path],
    out_dir: str | Path,
    *,
    names: Sequence[str] | None = None,
    device: str = "cpu",
) -> StageResult:
    """Run the content-vs-noise analysis of ``checkpoints`` (the first is the reference) into ``out_dir``.

    ``names`` label the models (default: the run folders' names). Returns the per-image rows (one per model x
    noise level x budget x image), the summary (model x noise level x budget x measure) and the comparisons.
    """
    out = Path(out_dir)
    inputs = prepare_inputs(cfg, checkpoints, names, device)
    first = inputs.networks[0]
    settings = analysis_settings.ContentNoiseSettings(
        budgets=tuple(cfg.budgets),
        noise_stds=tuple(cfg.noise_stds),
        mean=first.mean,
        std=first.std,
        recon=cfg.reconstruction_settings(),
        batch_size=cfg.batch_size,
        seed=cfg.seed,
    )
    swept = cvn.run_content_vs_noise(inputs.extractors, inputs.ids, inputs.images, settings)
    for row in swept.rows:
        row.update(inputs.layers[row["model"]])
    summary, comparisons = cvn.summarize_content_vs_noise(swept.rows, n_boot=cfg.n_boot, seed=cfg.seed)
    result = StageResult(out, swept.rows, summary, comparisons)
    write_tables(result)
    plots.reconstruction_examples(swept.examples, out / "examples.png")
    plots.measure_vs_budget(
        summary,
        "content_gain",
        out / "content_gain.png",
        "content gain (fraction - input fraction)",
        zero_line=True,
    )
    plots.measure_vs_budget(
        summary, "content_fraction", out / "content_fraction.png", "content fraction", zero_line=False
    )
    write_protocol(
        out,
        "Constrained reconstruction: content vs noise",
        [reconstruction, cvn],
        {
            "models": inputs.layers,
            "images": str(cfg.images),
            "image_ids": inputs.ids,
            "size": inputs.size,
            "settings": asdict(settings),
            "n_boot": cfg.n_boot,
            "seed": cfg.seed,
        },
    )
    return result
