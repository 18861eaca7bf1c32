"""Assemble ``report.md`` and ``report.html`` of a study folder (``v1mtl report DIR``, the study's last stage)."""

from __future__ import annotations

import json
import platform
import shutil
from importlib import metadata
from pathlib import Path

import numpy as np

from v1mtl.common import figure_style
from v1mtl.common.atomic import write_text
from v1mtl.common.config import config_to_dict, load_config
from v1mtl.common.errors import InputError
from v1mtl.common.stats import t_mean
from v1mtl.evaluate.relative_robustness import FAMILIES, FAMILY_OF
from v1mtl.report import claims as claims_mod
from v1mtl.report import differences, figures, plausibility, relative, steps, tables, teachers
from v1mtl.report.collect import RunResult, collect_runs, pooled_rows
from v1mtl.report.document import (
    Bullets,
    Document,
    Figure,
    Heading,
    Paragraph,
    Table,
    box_text,
    to_html,
    to_markdown,
)
from v1mtl.report.metadata import metadata_lines, run_metadata
from v1mtl.report.summary_box import summary_box, warning_box
from v1mtl.study import STUDY_CONFIG, StudyConfig, StudyPlan, build_plan

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


def _fit_cell(rs: list[RunResult]) -> str:
    val = [r.val_neural_corr for r in rs if np.isfinite(r.val_neural_corr)]
    test = [r.test_neural_corr for r in rs if np.isfinite(r.test_neural_corr)]
    if not val:
        return "–"
    cell = f"val {np.mean(val):.3f}"
    if test:
        cell += f", test {np.mean(test):.3f}"
    return cell + (f" (lowest val {min(val):.3f})" if len(val) > 1 else "")


def _predictivity_cell(rs: list[RunResult]) -> str:
    """``mean; median m; n of N neurons`` over the seeds whose readout fits did not fail (mean with its
    interval over seeds; the neuron counts as a range when seeds differ), ``failed`` when every seed's
    failed, and how many failed when some did."""
    failed = sum(r.predictivity_failed for r in rs)
    ok = [r for r in rs if not r.predictivity_failed and np.isfinite(r.predictivity)]
    if not ok:
        return "failed" if failed else "–"
    used = sorted({r.predictivity_neurons[0] for r in ok})
    total = sorted({r.predictivity_neurons[1] for r in ok})
    n_used = f"{used[0]}" if len(used) == 1 else f"{used[0]}-{used[-1]}"
    n_total = f"{total[0]}" if len(total) == 1 else f"{total[0]}-{total[-1]}"
    medians = [r.predictivity_median for r in ok if np.isfinite(r.predictivity_median)]
    median = f"{np.mean(medians):.3f}" if medians else "–"
    cell = f"{_cell(_over_seeds(ok, 'predictivity'))}; median {median}; {n_used} of {n_total} neurons"
    return cell + (f"; {failed} of {len(rs)} fits failed" if failed else "")


def summary_table(runs: list[RunResult]) -> Table:
    """Per condition: mean over seeds with a 95% t interval over seeds (no interval with one seed)."""
    rows = []
    for c in figures.conditions_in_order(runs):
        rs = [r for r in runs if r.condition == c]
        flagged = sum(r.under_trained for r in rs)
        rows.append(
            [
                c,
                str(len(rs)),
                _cell(_over_seeds(rs, "clean_accuracy")),
                _cell(_over_seeds(rs, "relative_overall"), digits=1)
                if c != "baseline"
                else "100 (reference)",
                _cell(_over_seeds(rs, "mean_corruption_accuracy")),
                _cell(_over_seeds(rs, "mce")) if c != "baseline" else "1 (reference)",
                _predictivity_cell(rs),
                _fit_cell(rs),
                f"{flagged} of {len(rs)}" if flagged else "none",
            ]
        )
    header = [
        "condition",
        "seeds",
        "clean accuracy",
        "relative robustness score",
        "mean corruption accuracy",
        "mCE vs Baseline",
        "V1 predictivity (FEVE; median; reliable neurons)",
        "fit to neural targets (corr)",
        "under-trained runs",
    ]
    return Table(header, rows)


def relative_table(scores: list[relative.ScoreOverSeeds], step: str, conditions: list[str]) -> Table:
    """Conditions x (overall, families, Gaussian sweep) of the relative robustness score, one step."""
    families = [f for f in FAMILIES if any(s.scope == "family" and s.name == f for s in scores)]
    columns = (
        [("overall", relative.OVERALL)] + [("family", f) for f in families] + [("sweep", relative.SWEEP)]
    )
    rows = []
    for c in conditions:
        if c == "baseline":
            continue
        cells = []
        for scope, name in columns:
            est = relative.lookup(scores, step, c, scope, name)
            cells.append("–" if est is None else _cell(est, digits=1))
        rows.append([c, *cells])
    return Table(["condition", *(name.replace("_", " ") for _, name in columns)], rows)


def corruption_table(scores: list[relative.ScoreOverSeeds], step: str, conditions: list[str]) -> Table:
    """Corruptions x conditions of the relative robustness score, one step."""
    shown = [c for c in conditions if c != "baseline"]
    corruptions = list(dict.fromkeys(s.name for s in scores if s.scope == "corruption" and s.step == step))
    rows = []
    for name in corruptions:
        cells = [relative.lookup(scores, step, c, "corruption", name) for c in shown]
        rows.append(
            [
                f"{name} ({FAMILY_OF.get(name, '–')})",
                *("–" if e is None else _cell(e, digits=1) for e in cells),
            ]
        )
    return Table(["corruption (family)", *shown], rows)


def steps_tables(rows: list[steps.StepRow]) -> tuple[Table, Table]:
    """The step table in two parts: fit and accuracy; robustness differences."""
    fit = Table(
        [
            "step",
            "changes",
            "MTL fit to targets (val corr)",
            "clean acc. Baseline",
            "clean acc. MTL",
            "clean acc. MTL-Shuffled",
            "V1 predictivity, MTL - Baseline",
            "under-trained of finished runs",
        ],
        [
            [
                r.step,
                r.changes,
                _cell(r.mtl_val_corr),
                _cell(r.clean["baseline"]),
                _cell(r.clean["mtl"]),
                _cell(r.clean["mtl-shuffled"]),
                _cell(r.predictivity_vs_baseline, signed=True),
                f"{r.under_trained} of {r.finished}",
            ]
            for r in rows
        ],
    )
    robust = Table(
        ["step"]
        + [f"MTL - Baseline, {label}" for _, label, _ in steps.SCORES]
        + [f"MTL - Shuffled, {label}" for _, label, _ in steps.SCORES],
        [
            [r.step]
            + [_cell(r.vs_baseline[k], digits=1, signed=True) for k, _, _ in steps.SCORES]
            + [_cell(r.vs_shuffled[k], digits=1, signed=True) for k, _, _ in steps.SCORES]
            for r in rows
        ],
    )
    return fit, robust


def teachers_table(rows: list[teachers.TeacherRow]) -> Table:
    """One row per teacher and per other condition: fit, clean accuracy, scores minus the Baseline's."""
    return Table(
        [
            "teacher / condition",
            "fit to targets (val corr)",
            "clean acc. [%]",
            "clean acc. − Baseline [points]",
            *(f"{scope} − Baseline" for scope in teachers.SCOPES),
            "overall − first teacher",
        ],
        [
            [
                r.name,
                _cell(r.fit),
                _cell(r.clean, scale=100, digits=1),
                _cell(r.clean_vs_baseline, scale=100, digits=1, signed=True),
                *(_cell(r.scores[scope], digits=1, signed=True) for scope in teachers.SCOPES),
                "–" if r.vs_reference is None else _cell(r.vs_reference, digits=1, signed=True),
            ]
            for r in rows
        ],
    )


def _teachers_section(
    doc: Document, runs: list[RunResult], names: list[str], root: Path, fig_dir: Path
) -> None:
    rows = teachers.teacher_rows(runs, names)
    doc.add(Heading("Which V1 property transfers"))
    csv_path = teachers.write_csv(rows, root / "report" / "teachers.csv")
    doc.add(
        Paragraph(
            "MTL co-trained on simulated V1 teachers, each with one property changed (docs/simulator.md, "
            "'Ablation teachers'), and the other conditions of the study, every one paired by seed with the same "
            "Baseline. Scores are the relative robustness score minus the Baseline's 100 (above 0 = more robust), "
            "overall and per corruption family; 'overall − first teacher' is a teacher's overall score minus that "
            f"of '{names[0]}', paired by seed. Mean over seeds [95% t interval]. Tidy CSV: {csv_path.relative_to(root)}."
        )
    )
    doc.add(teachers_table(rows))
    sentence = teachers.pixel_control_sentence(rows, runs, names[0])
    if sentence is not None:
        doc.add(Paragraph(sentence))
    teachers.figure(rows, fig_dir / "teachers.png")
    doc.add(
        Figure(
            f"{FIGURES}/teachers.png",
            "Relative robustness score minus the Baseline's per teacher and condition, overall and per corruption "
            "family: dots are means over seeds, bars 95% t intervals (two seeds or more); the line marks the Baseline.",
        )
    )


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


def adversarial_table(runs: list[RunResult], norm: str) -> Table:
    """Conditions x budgets of one threat model: accuracy under PGD in percent, mean over seeds [95% t
    interval over seeds] (no interval with one seed)."""
    curves = figures.adversarial_curves(runs, norm)
    budgets = sorted({eps for points in curves.values() for eps, _ in points})
    rows = []
    for condition, points in curves.items():
        by_budget = dict(points)
        seeds = max(e.n for e in by_budget.values())
        cells = [_cell(by_budget[eps], 100, 1) if eps in by_budget else "–" for eps in budgets]
        rows.append([condition, str(seeds), *cells])
    label = figure_style.NORM_LABELS.get(norm, norm)
    return Table(["condition", "seeds", *(f"{label} {figures.format_budget(eps)}" for eps in budgets)], rows)


def adversarial_section(doc: Document, runs: list[RunResult], root: Path, settings: dict) -> None:
    """Accuracy under PGD against the budget: per norm a figure and a table, then the networks the stage
    suspected of gradient masking. Nothing when the stage has not run. ``settings``: the study's
    ``adversarial`` section."""
    attacked = [r for r in runs if r.adversarial_rows]
    if not attacked:
        return
    doc.add(Heading("Adversarial robustness"))
    images = sorted({row.n for r in attacked for row in r.adversarial_rows})
    eot = settings["eot_samples"]
    eot_words = (
        f"{settings['stochastic_eot_samples']} forward passes per gradient for a stochastic network, 1 otherwise"
        if eot is None
        else f"{eot} forward pass(es) per gradient"
    )
    doc.add(
        Paragraph(
            "Top-1 accuracy under white-box PGD (Madry et al. 2018) on "
            f"{', '.join(map(str, images))} test images: {settings['steps']} steps of 2.5 x budget / steps, "
            f"{settings['restarts']} start(s){' from a random point of the ball' if settings['random_start'] else ''}, "
            f"{eot_words} (expectation over transformation, Athalye et al. 2018). Budgets in [0, 1] pixel units "
            "of the gray image the network sees, before its normalization; 0 is clean accuracy on the same "
            "images. Mean over seeds in percent, with a 95% t interval over seeds in brackets (none with one "
            "seed). Tidy CSV: report/adversarial.csv."
        )
    )
    chance = figure_style.chance_level(max((r.n_classes for r in runs), default=0))
    chance_note = f" Dashed: chance ({figure_style.format_percent(chance)})." if chance > 0 else ""
    norms = [
        n
        for n in figure_style.NORM_LABELS
        if any(row.norm == n for r in attacked for row in r.adversarial_rows)
    ]
    for norm in norms:
        label = figure_style.NORM_LABELS[norm]
        png = figures.accuracy_vs_budget(
            attacked, norm, root / FIGURES / f"adversarial_{norm}.png", chance=chance
        )
        doc.add(
            Figure(
                str(png.relative_to(root)),
                f"Accuracy under PGD against the {label} budget, one line per condition, mean over seeds; band: "
                "95% t interval over seeds where there are two seeds or more. Budgets at evenly spaced "
                "positions." + chance_note,
            )
        )
        doc.add(adversarial_table(attacked, norm))
    masked = [r for r in attacked if r.gradient_masking]
    if masked:
        doc.add(
            Paragraph(
                f"Gradient masking suspected for {len(masked)} of {len(attacked)} networks (Carlini et al. 2019: "
                "the attack must raise the loss, accuracy must not rise with the budget, and it must reach "
                "chance at the largest budget); their accuracies may describe a failed attack, not a robust "
                "network:"
            )
        )
        doc.add(Bullets([f"{r.name}: {'; '.join(r.gradient_masking)}" for r in masked]))
    else:
        doc.add(
            Paragraph(
                "No network was flagged by the gradient-masking check (Carlini et al. 2019: the attack raised "
                "the loss at every budget, accuracy never rose with the budget and reached chance at the "
                "largest)."
            )
        )


def _adversarial_protocol(settings: dict) -> list[str]:
    """The Protocol list's line on the adversarial stage (none when it is off)."""
    if not settings["enabled"]:
        return []
    budgets = "; ".join(
        f"{figure_style.NORM_LABELS[n]} {', '.join(figures.format_budget(e) for e in settings[f'{n}_eps'])}"
        for n in settings["norms"]
    )
    return [
        f"adversarial attacks: PGD, {settings['steps']} steps, {settings['restarts']} start(s), at most "
        f"{settings['limit'] or 'all'} test images, seed {settings['seed']}; budgets {budgets}"
    ]


def _versions() -> list[str]:
    out = [f"python {platform.python_version()}"]
    for name in PACKAGES:
        try:
            out.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            out.append(f"{name} not installed")
    return out


# The V1 model's test scores in words (``neural_model.evaluate.summarize`` and ``fit``'s summary keys).
V1_SCORES = {
    "feve": "FEVE: share of the explainable variance predicted",
    "test_corr": "correlation with single-trial test responses",
    "corr_to_average": "correlation with trial-averaged test responses",
    "oracle_corr": "noise ceiling of the correlation (leave-one-out oracle)",
    "explainable_variance": "explainable variance (share of response variance above trial noise)",
}
V1_FIT = {
    "n_neurons": "neurons",
    "best_epoch": "best epoch",
    "best_val_corr": "best validation correlation",
    "epochs": "epochs trained",
    "stopped_early": "stopped early",
}


def _number(value) -> str:
    if isinstance(value, float):
        return f"{value:.4f}"
    return "–" if value is None else str(value)


def _v1_model_summary(plan: StudyPlan) -> dict | None:
    fit = plan.first.fit
    summary = None if fit is None else fit.folder(plan.root) / "summary.json"
    return json.loads(summary.read_text()) if summary is not None and summary.is_file() else None


def _v1_section(doc: Document, plan: StudyPlan) -> None:
    doc.add(Heading("V1 data and the V1 model"))
    if plan.first.fit is None:
        doc.add(
            Paragraph(
                "No V1 model was fitted (targets came from the simulator's noise-free ground truth, or no MTL condition ran)."
            )
        )
        return
    s = _v1_model_summary(plan)
    if s is None:
        doc.add(Paragraph("The V1 model has not been fitted yet."))
        return
    if s.get("status") == "failed":
        # its scores are not results; the reason and the file are in the failed-fits box too
        doc.add(
            Paragraph(
                f"The V1 model's fit failed ({s.get('failure')}) after {len(s.get('attempts') or [None])} "
                f"attempt(s); its scores are not reported. Files: {plan.first.fit.folder(plan.root)}."
            )
        )
        return
    doc.add(
        Paragraph(
            f"V1 dataset: {plan.data_path(plan.first.v1)}. Test scores of the V1 model on the repeated test "
            f"images, over the {s.get('n_used', '–')} of {s.get('n_total', s.get('n_neurons', '–'))} neurons "
            f"with explainable variance above {s.get('min_explainable_variance', '–')} (every neuron is in "
            "scores.csv), with the noise ceiling:"
        )
    )
    rows = [
        [label, _number(s.get(f"{k}_mean")), _number(s.get(f"{k}_median"))] for k, label in V1_SCORES.items()
    ]
    truth = s.get("ground_truth")
    if isinstance(truth, dict):
        rows.append(
            [
                "FEVE of the simulator's noise-free rates (the best any model can do)",
                _number(truth.get("feve_mean")),
                _number(truth.get("feve_median")),
            ]
        )
    doc.add(Table(["measure", "mean", "median"], rows))
    doc.add(Table(["fit", "value"], [[label, _number(s.get(k))] for k, label in V1_FIT.items() if k in s]))


def _copy_figure(src: Path, dst: Path) -> bool:
    if not src.is_file():
        return False
    dst.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src, dst)
    return True


# The analyses' figures the report shows: (analysis, file, caption); the analysis stages draw them
# (``v1mtl.analysis.plots``), the report copies them next to its own.
ANALYSIS_FIGURES = (
    (
        "reconstruction",
        "examples.png",
        "Constrained reconstructions of one noisy image. Top row: the clean image and its noisy versions, the "
        "targets every network reconstructs. Below, one row per condition (its lowest seed's network): its "
        "reconstruction at each noise level and budget.",
    ),
    (
        "reconstruction",
        "content_gain.png",
        "Content gain of the reconstructions against the budget, one panel per noise level, one line per "
        "network (coloured by condition); band: 95% bootstrap interval over images.",
    ),
    (
        "saliency",
        "scores.png",
        "Sensitivity in salient regions (NSS and AUC) per network, coloured by condition; error bars: 95% bootstrap "
        "interval over images; dashed: chance.",
    ),
    (
        "saliency",
        "examples.png",
        "Saliency and sensitivity maps: one row per image and sensitivity method; the image, its saliency map, "
        "then each condition's sensitivity map (its lowest seed's network), every map scaled to [0, 1].",
    ),
)


def figures_section(
    doc: Document, runs: list[RunResult], every: list[RunResult], root: Path, analysis: dict[str, Path]
) -> None:
    """Draw the report's figures into ``report/figures`` and add them with their captions."""
    fig_dir = root / FIGURES
    chance = figure_style.chance_level(max((r.n_classes for r in runs), default=0))
    chance_note = f" Dashed: chance ({figure_style.format_percent(chance)})." if chance > 0 else ""
    if any(r.rows for r in runs):
        from v1mtl.evaluate.robustness_plots import plot_accuracy_vs_severity

        for png in plot_accuracy_vs_severity(pooled_rows(runs), fig_dir, chance=chance):
            doc.add(
                Figure(
                    str(png.relative_to(root)),
                    "Accuracy against severity, one panel per corruption, one line per condition (images pooled "
                    "over seeds); severity 0 is clean accuracy." + chance_note,
                )
            )
        figures.accuracy_by_condition(
            runs,
            "mean_corruption_accuracy",
            "mean corruption accuracy",
            fig_dir / "mean_corruption_accuracy.png",
            chance=chance,
        )
        doc.add(
            Figure(
                f"{FIGURES}/mean_corruption_accuracy.png",
                "Mean corruption accuracy by condition: mean over seeds (large marker) with its 95% t interval "
                "where there are two seeds or more; small dots: the seeds." + chance_note,
            )
        )
    if any(r.sweep_rows for r in runs):
        figures.noise_sweep(runs, fig_dir / "noise_sweep.png", chance=chance)
        doc.add(
            Figure(
                f"{FIGURES}/noise_sweep.png",
                "Accuracy against the std of added Gaussian noise (the reference's sweep; std 0 = clean), one "
                "line per condition, mean over seeds; band: 95% t interval over seeds where there are two seeds "
                "or more." + chance_note,
            )
        )
    if any(np.isfinite(r.predictivity) for r in every):
        figures.robustness_vs_predictivity(every, fig_dir / "robustness_vs_predictivity.png")
        doc.add(
            Figure(
                f"{FIGURES}/robustness_vs_predictivity.png",
                "Relative robustness score against V1 predictivity, one marker per network (all steps; the "
                "shape names the condition), coloured by clean accuracy; dashed: the Baseline's 100.",
            )
        )
    for name, png, caption in ANALYSIS_FIGURES:
        if name in analysis and _copy_figure(analysis[name] / png, fig_dir / f"{name}_{png}"):
            doc.add(Figure(f"{FIGURES}/{name}_{png}", caption))
    if any(r.history for r in runs):
        figures.training_curves(runs, fig_dir / "training_curves.png", chance=chance)
        doc.add(
            Figure(
                f"{FIGURES}/training_curves.png",
                "Validation accuracy during training, one line per network, coloured by condition; for MTL "
                "conditions also the validation correlation with their neural targets." + chance_note,
            )
        )


def write_report(study_dir: str | Path, plan: StudyPlan | None = None) -> tuple[Path, str]:
    """Write ``report.md`` and ``report.html`` into ``study_dir``; return the Markdown path and the summary table."""
    root = Path(study_dir)
    cfg_path = root / STUDY_CONFIG
    if not cfg_path.is_file():
        raise InputError("not a study folder (no study.yaml)", path=root)
    cfg = load_config(StudyConfig, cfg_path)
    if plan is None:
        plan = build_plan(cfg, root)
    cfg_dict = json.loads(json.dumps(config_to_dict(cfg), default=str))
    every = collect_runs(plan)
    first = plan.first.name
    runs = [r for r in every if r.step == first]
    fig_dir = root / FIGURES
    doc = Document(f"v1mtl study report: {cfg_dict['name']}")
    doc.add(
        Paragraph(
            "A re-implementation of Safarani et al. (NeurIPS 2021), 'Towards robust vision by multi-task learning on "
            "monkey visual cortex'. Every number below was computed by this study from the data it names."
            + (f" The summary, claims and analyses describe the first step, '{first}'." if first else "")
        )
    )
    claims = [
        claims_mod.robustness_claim(runs),
        claims_mod.oracle_claim(runs),
        claims_mod.brain_claim(claims_mod.brain_robustness(every)),
    ]
    analysis = {name: unit.folder(plan.root) for name, unit in plan.analyses.items()}
    for number, (name, fn) in enumerate(
        (("reconstruction", claims_mod.content_claim), ("saliency", claims_mod.saliency_claim)), start=4
    ):
        if name in analysis:
            claims.append(fn(analysis[name] / "per_image.csv", runs))
        else:
            claims.append(
                claims_mod.Claim(
                    number,
                    claims_mod.CLAIMS[number - 1],
                    "not run in this study",
                    "undetermined",
                    reason=f"the {name} analysis was not run in this study",
                )
            )
    conditions = figures.conditions_in_order(runs)
    v1_model = _v1_model_summary(plan)
    v1_feve = None if v1_model is None or v1_model.get("status") == "failed" else v1_model.get("feve_mean")
    box = summary_box(claims, runs, conditions, v1_feve)
    doc.add(box)
    warnings = [
        w
        for w in (
            warning_box(runs, claims, cfg_dict["train"]["data"]["source"]),
            plausibility.failed_fits_box(plan),
            plausibility.plausibility_box(plan, every),
        )
        if w is not None
    ]
    for w in warnings:
        doc.add(w)
    meta = run_metadata(plan, cfg_dict["device"])
    doc.add(Paragraph(" ".join(f"{line[0].upper()}{line[1:]}." for line in metadata_lines(meta)[:2])))

    doc.add(Heading("Summary"))
    table = summary_table(runs)
    doc.add(table)
    n_images = sorted({row.n for r in runs for row in r.rows if row.corruption == "clean"})
    doc.add(
        Paragraph(
            "Mean over seeds with a 95% Student-t interval over seeds in brackets (none with one seed). Clean "
            f"accuracy is measured on the same {', '.join(map(str, n_images)) or '–'} test images as the corruptions. "
            "The relative robustness score is the paper's: corruption accuracy over that of the Baseline of the "
            "same seed, averaged over corruptions and severities, x 100 (above 100 = more robust). Mean corruption "
            "accuracy is over the corruption x severity grid; mCE is the mean over corruptions of the summed errors "
            "divided by those of the Baseline of the same seed (Hendrycks & Dietterich 2019; below 1 = more robust). "
            "V1 predictivity is the mean FEVE of fresh readouts fitted on the frozen network, at the best layer by "
            "validation correlation, over the neurons with explainable variance above the fit settings' "
            "min_explainable_variance, with the median and the number of neurons used of all; 'failed' where every "
            "layer's readout fit failed (the failed-fits box says why). The fit to the neural targets is each MTL network's correlation with its own "
            "targets on the validation images and on the test images (mean over seeds; the lowest validation value "
            "in brackets). Under-trained: the validation "
            "accuracy was still rising when max_epochs ended the run (docs/training.md)."
        )
    )

    scores = relative.scores_over_seeds(every)
    if scores:
        doc.add(Heading("Relative robustness score"))
        doc.add(relative_table(scores, first, conditions))
        csv_path = relative.write_csv(scores, root / "report" / "relative_robustness.csv")
        by_group = {
            (s.condition, s.name): s.estimate
            for s in scores
            if s.step == first and s.scope in ("family", "overall")
        }
        figures.relative_by_family(by_group, conditions, list(FAMILIES), fig_dir / "relative_robustness.png")
        doc.add(
            Paragraph(
                "Baseline = 100; mean over seeds [95% t interval]. Families as in Hendrycks & Dietterich (2019); "
                "the Gaussian sweep is the reference's additive-noise sweep (std > 0). Per corruption below; every "
                f"score of every step: {csv_path.relative_to(root)}."
            )
        )
        doc.add(
            Figure(
                f"{FIGURES}/relative_robustness.png",
                "Relative robustness score per corruption family and overall: bars start at the Baseline's 100 "
                "(up = more robust than the Baseline); error bars are 95% t intervals over seeds, drawn only "
                "with two seeds or more.",
            )
        )
        doc.add(corruption_table(scores, first, conditions))

    if cfg.teachers:
        _teachers_section(doc, every, list(cfg.teachers), root, fig_dir)
    # a study run as one step (a ladder's step run on its own) still gets the step table and CSV
    elif cfg.steps:
        doc.add(Heading("Steps"))
        rows = steps.step_rows(every, cfg.step_changes())
        fit_table, robust_table = steps_tables(rows)
        csv_path = steps.write_csv(rows, root / "report" / "steps.csv")
        doc.add(
            Paragraph(
                "Each step applies its changes on top of the step it names as its base (or the study's settings). "
                "Differences are paired by seed within the step, with a 95% t interval over seeds; a unit a step "
                "does not change (often the Baseline) is shared with the earlier step that ran it. Tidy CSV: "
                f"{csv_path.relative_to(root)}."
            )
        )
        doc.add(fit_table)
        doc.add(robust_table)

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
        doc.add(Figure(f"{FIGURES}/paired_differences.png", figures.paired_differences_caption(diffs)))

    adversarial_section(doc, runs, root, cfg_dict["adversarial"])

    doc.add(Heading("The paper's claims"))
    reference = claims_mod.paper_reference()
    doc.add(
        Table(
            ["#", "claim", "measured here", "verdict"],
            [[str(c.number), c.statement, c.measured, c.verdict] for c in claims]
            + [["–", reference.statement, reference.measured, reference.verdict]],
        )
    )
    doc.add(
        Paragraph(
            "Verdicts: held = the effect points the claimed way and its 95% interval excludes zero (for claim 1: "
            "excludes 100); not held = it points the other way; not established = the interval includes zero; "
            "undetermined = too little data for an interval (e.g. one seed) or a missing condition. A claim that "
            "did not hold here did not hold in this study's setting (data, model size, training length); it says "
            "nothing more general. The reference row is the paper's own result, in its own setting."
        )
    )

    doc.add(Heading("Figures"))
    figures_section(doc, runs, every, root, analysis)

    _v1_section(doc, plan)

    csvs = tables.write_tables(every, claims, root / "report")
    doc.add(Heading("Protocol"))
    doc.add(
        Bullets(
            [
                f"conditions: {', '.join(cfg_dict['conditions'])}; seeds: {cfg_dict['seeds']}"
                + (f"; steps: {', '.join(s.name for s in cfg.recipe_steps())}" if cfg.recipe_steps() else ""),
                f"classification data: {cfg_dict['train']['data']['source']} at {cfg_dict['train']['data']['image_size']} px",
                f"V1 data: {cfg_dict['v1']['path'] or 'simulated (v1mtl simulate-v1)'}; targets from: {cfg_dict['targets']['source']}",
                f"corruptions: {cfg_dict['robustness']['prerendered'] or 'on the fly, table ' + cfg_dict['robustness']['table']}, "
                f"JPEG round trip {cfg_dict['robustness']['jpeg_roundtrip']}, severities {cfg_dict['robustness']['severities']}",
                *_adversarial_protocol(cfg_dict["adversarial"]),
                "the whole resolved configuration: study.yaml in this folder; each stage's own config and protocol files sit in its folder",
                "tidy tables (one row per observation, accuracies as fractions): "
                + ", ".join(str(p.relative_to(root)) for p in csvs),
                *metadata_lines(meta),
                "software: " + ", ".join(_versions()),
            ]
        )
    )
    md = root / "report.md"
    write_text(md, to_markdown(doc))
    write_text(root / "report.html", to_html(doc, root))
    console = [box_text(box)] + [box_text(w) for w in warnings]
    return md, "\n\n".join([*console, to_markdown(Document("Summary", [table])).split("\n", 2)[2].rstrip()])
