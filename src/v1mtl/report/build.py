"""Assemble ``report.md`` and ``report.html`` of a study folder (``v1mtl report DIR``, the study's last stage)."""

from __future__ import annotations

import json
import platform
import shutil
from importlib import metadata
from pathlib import Path

import numpy as np

from v1mtl.analysis.stats import t_mean
from v1mtl.atomic import write_text
from v1mtl.config import config_to_dict, load_config
from v1mtl.errors import InputError
from v1mtl.report import claims as claims_mod
from v1mtl.report import differences, figures
from v1mtl.report.collect import RunResult, collect_runs, pooled_rows
from v1mtl.report.document import Bullets, Document, Figure, Heading, Paragraph, Table, to_html, to_markdown
from v1mtl.study.config import StudyConfig
from v1mtl.study.pipeline import STUDY_CONFIG
from v1mtl.study.plan import StudyPlan, build_plan

FIGURES = "report/figures"
PACKAGES = ("v1mtl", "torch", "numpy", "scipy", "scikit-image", "neuralpredictors", "matplotlib")


def _cell(est, scale: float = 1.0, digits: int = 3, signed: bool = False) -> str:
    if not np.isfinite(est.value):
        return "–"
    value = f"{est.value * scale:{'+' if signed else ''}.{digits}f}"
    if not np.isfinite(est.ci_low):
        return value
    return f"{value} [{est.ci_low * scale:.{digits}f}, {est.ci_high * scale:.{digits}f}]"


def _over_seeds(runs: list[RunResult], attr: str):
    return t_mean(np.array([getattr(r, attr) for r in runs], dtype=float))


def summary_table(runs: list[RunResult]) -> Table:
    """Per condition: mean over seeds with a 95% t interval over seeds (no interval with one seed)."""
    rows = []
    for c in figures.conditions_in_order(runs):
        rs = [r for r in runs if r.condition == c]
        rows.append(
            [
                c,
                str(len(rs)),
                _cell(_over_seeds(rs, "clean_accuracy")),
                _cell(_over_seeds(rs, "mean_corruption_accuracy")),
                _cell(_over_seeds(rs, "mce")) if c != "baseline" else "1 (reference)",
                _cell(_over_seeds(rs, "predictivity")),
            ]
        )
    header = [
        "condition",
        "seeds",
        "clean accuracy",
        "mean corruption accuracy",
        "mCE vs Baseline",
        "V1 predictivity (FEVE)",
    ]
    return Table(header, rows)


def differences_table(diffs: list[differences.PairedDifference]) -> Table:
    """One row per pair of conditions, one column per metric: mean paired difference [95% t interval]."""
    rows = [
        [
            f"{c} - {r}",
            str(max(e.n for e in by_metric.values())),
            *(_cell(by_metric[m], signed=True) if m in by_metric else "–" for m in differences.METRICS),
        ]
        for (c, r), by_metric in differences.by_pair(diffs).items()
    ]
    return Table(["difference", "seeds", *differences.METRICS.values()], rows)


def _versions() -> list[str]:
    out = [f"python {platform.python_version()}"]
    for name in PACKAGES:
        try:
            out.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            out.append(f"{name} not installed")
    return out


def _v1_section(doc: Document, plan: StudyPlan) -> None:
    doc.add(Heading("V1 data and the V1 model"))
    inspect = plan.data_path(plan.v1)
    if plan.fit is None:
        doc.add(
            Paragraph(
                "No V1 model was fitted (targets came from the simulator's noise-free ground truth, or no MTL condition ran)."
            )
        )
        return
    summary = plan.fit.folder(plan.root) / "summary.json"
    if not summary.is_file():
        doc.add(Paragraph("The V1 model has not been fitted yet."))
        return
    s = json.loads(summary.read_text())
    flat = {k: v for k, v in s.items() if isinstance(v, int | float | str)}
    doc.add(
        Paragraph(
            f"V1 dataset: {inspect}. Test scores of the V1 model on the repeated test images, with the noise ceiling:"
        )
    )
    doc.add(
        Table(
            ["measure", "value"],
            [[k, f"{v:.4f}" if isinstance(v, float) else str(v)] for k, v in flat.items()],
        )
    )


def _copy_figure(src: Path, dst: Path) -> bool:
    if not src.is_file():
        return False
    dst.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src, dst)
    return True


def write_report(study_dir: str | Path, plan: StudyPlan | None = None) -> tuple[Path, str]:
    """Write ``report.md`` and ``report.html`` into ``study_dir``; return the Markdown path and the summary table."""
    root = Path(study_dir)
    cfg_path = root / STUDY_CONFIG
    if not cfg_path.is_file():
        raise InputError("not a study folder (no study.yaml)", path=root)
    cfg = load_config(StudyConfig, cfg_path)
    if plan is None:
        plan = build_plan(cfg, root, log=lambda s: None)
    cfg_dict = json.loads(json.dumps(config_to_dict(cfg), default=str))
    runs = collect_runs(plan)
    fig_dir = root / FIGURES
    doc = Document(f"v1mtl study report: {cfg_dict['name']}")
    doc.add(
        Paragraph(
            "A re-implementation of Safarani et al. (NeurIPS 2021), 'Towards robust vision by multi-task learning on "
            "monkey visual cortex'. Every number below was computed by this study from the data it names."
        )
    )
    doc.add(Heading("Summary"))
    table = summary_table(runs)
    doc.add(table)
    doc.add(
        Paragraph(
            "Mean over seeds with a 95% Student-t interval over seeds in brackets (none with one seed). Mean corruption "
            "accuracy is over the corruption x severity grid; mCE is the mean over corruptions of the summed errors "
            "divided by those of the Baseline of the same seed (Hendrycks & Dietterich 2019; below 1 = more robust); V1 predictivity is the mean FEVE of fresh Gaussian "
            "readouts fitted on the frozen network, at the best layer by validation correlation."
        )
    )

    diffs = differences.paired_differences(runs)
    if diffs:
        doc.add(Heading("Paired differences between conditions"))
        doc.add(differences_table(diffs))
        csv_path = differences.write_csv(diffs, root / "report" / "paired_differences.csv")
        figures.paired_differences(diffs, fig_dir / "paired_differences.png")
        doc.add(
            Paragraph(
                "Condition minus reference, computed per seed (both trained with the same seed, so they share "
                "initialisation and data order) and averaged over the seeds both ran, with a 95% Student-t interval "
                f"over seeds in brackets (none with one seed). Positive = higher in the first condition. Tidy CSV: "
                f"{csv_path.relative_to(root)}."
            )
        )
        doc.add(
            Figure(
                f"{FIGURES}/paired_differences.png",
                "Paired differences between conditions: mean over seeds (dot) and 95% t interval (bar).",
            )
        )

    doc.add(Heading("The paper's claims"))
    brain = None
    if len([r for r in runs if np.isfinite(r.predictivity) and np.isfinite(r.mean_corruption_accuracy)]) >= 2:
        from v1mtl.analysis.stats import bootstrap_spearman

        pts = [r for r in runs if np.isfinite(r.predictivity) and np.isfinite(r.mean_corruption_accuracy)]
        est = bootstrap_spearman(
            np.array([r.mean_corruption_accuracy for r in pts]), np.array([r.predictivity for r in pts])
        )
        brain = {
            "metric": "mean FEVE",
            "spearman": est.value,
            "ci_low": est.ci_low,
            "ci_high": est.ci_high,
            "n_models": est.n,
        }
    analysis = {name: unit.folder(plan.root) for name, unit in plan.analyses.items()}
    claims = [
        claims_mod.robustness_claim(runs),
        claims_mod.oracle_claim(runs),
        claims_mod.brain_claim(brain),
        claims_mod.content_claim(analysis["reconstruction"] / "per_image.csv", runs),
        claims_mod.saliency_claim(analysis["saliency"] / "per_image.csv", runs),
    ]
    doc.add(
        Table(
            ["#", "claim", "measured here", "verdict"],
            [[str(c.number), c.statement, c.measured, c.verdict] for c in claims],
        )
    )
    doc.add(
        Paragraph(
            "Verdicts: held = the effect points the claimed way and its 95% interval excludes zero; not held = it points "
            "the other way; not established = the interval includes zero; undetermined = too little data for an "
            "interval (e.g. one seed) or a missing condition. A claim that did not hold here did not hold in this "
            "study's setting (data, model size, training length); it says nothing more general."
        )
    )

    doc.add(Heading("Figures"))
    if any(r.rows for r in runs):
        from v1mtl.evaluate.robustness_plots import plot_accuracy_vs_severity

        for png in plot_accuracy_vs_severity(pooled_rows(runs), fig_dir):
            doc.add(
                Figure(
                    str(png.relative_to(root)),
                    "Accuracy against severity, one panel per corruption (pooled over seeds).",
                )
            )
        figures.bar_by_condition(
            runs,
            "mean_corruption_accuracy",
            "mean corruption accuracy",
            fig_dir / "mean_corruption_accuracy.png",
        )
        doc.add(
            Figure(
                f"{FIGURES}/mean_corruption_accuracy.png",
                "Mean corruption accuracy by condition (bars: mean and 95% t interval over seeds; dots: seeds).",
            )
        )
    if any(np.isfinite(r.predictivity) for r in runs):
        figures.robustness_vs_predictivity(runs, fig_dir / "robustness_vs_predictivity.png")
        doc.add(
            Figure(
                f"{FIGURES}/robustness_vs_predictivity.png",
                "Robustness against V1 predictivity, one dot per network.",
            )
        )
    for name, png, caption in (
        (
            "reconstruction",
            "examples.png",
            "Constrained reconstructions of noisy images (first rows: clean, noise, target; then each network).",
        ),
        (
            "reconstruction",
            "content_gain.png",
            "Content gain of reconstructions by network, budget and noise level.",
        ),
        ("saliency", "scores.png", "Sensitivity in salient regions (NSS and AUC) by network."),
        ("saliency", "examples.png", "Saliency maps and sensitivity maps."),
    ):
        if _copy_figure(analysis[name] / png, fig_dir / f"{name}_{png}"):
            doc.add(Figure(f"{FIGURES}/{name}_{png}", caption))
    if any(r.history for r in runs):
        figures.training_curves(runs, fig_dir / "training_curves.png")
        doc.add(Figure(f"{FIGURES}/training_curves.png", "Validation accuracy during training."))

    _v1_section(doc, plan)
    doc.add(Heading("Protocol"))
    doc.add(
        Bullets(
            [
                f"conditions: {', '.join(cfg_dict['conditions'])}; seeds: {cfg_dict['seeds']}",
                f"classification data: {cfg_dict['train']['data']['source']} at {cfg_dict['train']['data']['image_size']} px",
                f"V1 data: {cfg_dict['v1']['path'] or 'simulated (v1mtl simulate-v1)'}; targets from: {cfg_dict['targets']['source']}",
                f"corruptions: {cfg_dict['robustness']['prerendered'] or 'on the fly, preset ' + cfg_dict['robustness']['preset']}, "
                f"JPEG round trip {cfg_dict['robustness']['jpeg_roundtrip']}, severities {cfg_dict['robustness']['severities']}",
                "the whole resolved configuration: study.yaml in this folder; each stage's own config and protocol files sit in its folder",
                "software: " + ", ".join(_versions()),
            ]
        )
    )
    md = root / "report.md"
    write_text(md, to_markdown(doc))
    write_text(root / "report.html", to_html(doc))
    return md, to_markdown(Document("Summary", [table])).split("\n", 2)[2]
