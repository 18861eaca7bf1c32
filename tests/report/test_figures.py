"""The report's figures, checked through their matplotlib objects: condition labels without seeds in the
fixed order, accuracy axes fitted to the data with the chance line, intervals only where there are seeds
for them, and a PNG for every figure."""

import numpy as np
import pytest
from matplotlib.collections import PolyCollection

from v1mtl.common import figure_style as style
from v1mtl.common.stats import Estimate
from v1mtl.evaluate.relative_robustness import RelativeRobustness
from v1mtl.evaluate.robustness_table import RobustnessRow
from v1mtl.report import RunResult, figures
from v1mtl.report.build import figures_section
from v1mtl.report.differences import paired_differences
from v1mtl.report.document import Document, Figure

PNG = b"\x89PNG\r\n\x1a\n"


def _sweep(name: str, accuracies: dict[float, int]) -> list[RobustnessRow]:
    """Gaussian-sweep rows of 100 images: std -> correct; the clean row is std 0's."""
    rows = [RobustnessRow(name, "gaussian-sweep", "none", False, "gray", "clean", 0.0, 100, accuracies[0.0])]
    return rows + [
        RobustnessRow(name, "gaussian-sweep", "none", False, "gray", "gaussian_sweep", s, 100, k)
        for s, k in accuracies.items()
    ]


def _runs(seeds: int = 2) -> list[RunResult]:
    """MTL listed before the Baseline: the figures must put the Baseline first all the same."""
    runs = []
    for condition, shift in (("mtl", 3), ("baseline", 0)):
        for seed in range(seeds):
            name = f"{condition}-s{seed}"
            acc = 0.2 + 0.01 * (shift + seed)
            runs.append(
                RunResult(
                    condition,
                    seed,
                    name,
                    clean_accuracy=acc,
                    mean_corruption_accuracy=acc - 0.05,
                    predictivity=0.3 + 0.01 * shift,
                    n_classes=10,
                    sweep_rows=_sweep(name, {0.0: 20 + shift + seed, 0.1: 15 + shift, 0.5: 11}),
                    history=[
                        {
                            "epoch": e,
                            "val_accuracy": acc * e / 3,
                            "val_neural_corr": 0.1 * e if condition == "mtl" else None,
                        }
                        for e in (1, 2, 3)
                    ],
                )
            )
    return runs


def _tick_labels(ax, axis="x"):
    ticks = ax.get_xticklabels() if axis == "x" else ax.get_yticklabels()
    return [t.get_text() for t in ticks]


def test_conditions_come_in_the_fixed_order():
    assert figures.conditions_in_order(_runs()) == ["baseline", "mtl"]


def test_accuracy_by_condition_fits_the_axis_to_the_data_with_chance_and_labels(tmp_path, drawn):
    path = figures.accuracy_by_condition(
        _runs(), "mean_corruption_accuracy", "acc", tmp_path / "a.png", chance=0.1
    )
    assert path.read_bytes()[:8] == PNG
    (ax,) = drawn[0].axes
    assert _tick_labels(ax) == ["Baseline", "MTL"]
    lo, hi = ax.get_ylim()
    assert lo <= 0.1 and 0.19 <= hi < 0.3  # data 0.15-0.19 and chance 0.1, not 0-100%
    assert [ln.get_label() for ln in ax.get_lines() if ln.get_linestyle() == "--"] == ["chance (10.0%)"]
    assert ax.yaxis.get_major_formatter()(0.15, 0) == "15%"


def test_sweep_curves_average_seeds_and_take_std_0_from_the_clean_row():
    runs = _runs()
    for r in runs:
        r.sweep_rows = [
            row for row in r.sweep_rows if not (row.corruption == "gaussian_sweep" and row.severity == 0)
        ]
    curves = figures.sweep_curves(runs)
    assert list(curves) == ["baseline", "mtl"]
    stds = [s for s, _ in curves["mtl"]]
    assert stds == [0.0, 0.1, 0.5]
    assert curves["mtl"][0][1].value == pytest.approx(np.mean([0.23, 0.24]))
    assert curves["mtl"][0][1].n == 2 and np.isfinite(curves["mtl"][0][1].ci_low)


@pytest.mark.parametrize("seeds", [1, 2])
def test_noise_sweep_draws_a_band_only_with_two_seeds(tmp_path, drawn, seeds):
    path = figures.noise_sweep(_runs(seeds), tmp_path / "s.png", chance=0.1)
    assert path.read_bytes()[:8] == PNG
    fig = drawn[0]
    (ax,) = fig.axes
    bands = [c for c in ax.collections if isinstance(c, PolyCollection)]
    assert len(bands) == (2 if seeds == 2 else 0)
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert labels == ["Baseline", "MTL", "chance (10.0%)"]
    lo, hi = ax.get_ylim()
    drawn_y = np.concatenate(
        [ln.get_ydata() for ln in ax.get_lines()] + [b.get_paths()[0].vertices[:, 1] for b in bands]
    )
    assert lo <= drawn_y.min() and drawn_y.max() <= hi < 0.5  # fitted to lines, bands and chance


def test_training_curves_colour_by_condition_and_name_each_condition_once(tmp_path, drawn):
    figures.training_curves(_runs(), tmp_path / "t.png", chance=0.1)
    fig = drawn[0]
    assert len(fig.axes) == 2  # accuracy, and the neural correlation of the MTL runs
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["Baseline", "MTL", "chance (10.0%)"]
    runs_lines = [ln for ln in fig.axes[0].get_lines() if ln.get_linestyle() != "--"]
    assert [ln.get_color() for ln in runs_lines] == [style.colour("baseline")] * 2 + [style.colour("mtl")] * 2
    assert all(float(t).is_integer() for t in fig.axes[0].get_xticks())  # whole epochs


def _interval_lines(ax):
    """Lines of two points: the intervals (a dot is a line of one point)."""
    return [ln for ln in ax.get_lines() if len(ln.get_xdata()) == 2 and ln.get_linestyle() != "--"]


def test_paired_differences_draw_intervals_only_where_there_are_seeds_and_say_so(tmp_path, drawn):
    one = paired_differences(_runs(1))
    figures.paired_differences(one, tmp_path / "one.png")
    ax = drawn[0].axes[0]
    assert _tick_labels(ax, "y") == ["MTL − Baseline"]
    assert ax.get_xlabel() == "difference (percentage points)"
    assert not _interval_lines(ax)
    # clean accuracy 0.23 - 0.20, shown in percentage points
    (dot,) = [ln for ln in ax.get_lines() if len(ln.get_xdata()) == 1]
    assert dot.get_xdata()[0] == pytest.approx(3.0)
    caption = figures.paired_differences_caption(one)
    assert "no interval" in caption and "(bar)" not in caption

    two = paired_differences(_runs(2))
    figures.paired_differences(two, tmp_path / "two.png")
    assert _interval_lines(drawn[1].axes[0])
    assert "95% t interval over seeds (bar)" in figures.paired_differences_caption(two)


def test_relative_by_family_draws_bars_from_the_baseline_and_leaves_out_empty_families(tmp_path, drawn):
    scores = {
        ("mtl", "noise"): Estimate(110.0, 105.0, 115.0, 2),
        ("mtl", "overall"): Estimate(95.0, 90.0, 99.0, 2),
    }
    figures.relative_by_family(scores, ["mtl", "baseline"], ["noise", "blur"], tmp_path / "r.png")
    (ax,) = drawn[0].axes
    assert _tick_labels(ax) == ["noise", "overall"]
    assert [p.get_y() for p in ax.patches] == [100.0, 100.0]
    assert [p.get_height() for p in ax.patches] == pytest.approx([10.0, -5.0])
    assert [t.get_text() for t in drawn[0].legends[0].get_texts()] == ["MTL"]


def test_robustness_vs_predictivity_names_conditions_in_order(tmp_path, drawn):
    runs = _runs()
    for r in runs:
        r.relative = RelativeRobustness(overall=100.0 + r.seed)
    figures.robustness_vs_predictivity(runs, tmp_path / "p.png")
    labels = [t.get_text() for t in drawn[0].legends[0].get_texts()]
    assert labels == ["Baseline (100)", "Baseline", "MTL"]


def test_the_figures_section_adds_the_noise_sweep_with_chance_in_its_caption(tmp_path):
    doc = Document("t")
    figures_section(doc, _runs(), _runs(), tmp_path, {})
    shown = {b.path: b.caption for b in doc.blocks if isinstance(b, Figure)}
    assert "report/figures/noise_sweep.png" in shown
    assert "chance (10.0%)" in shown["report/figures/noise_sweep.png"]
    for path in shown:
        assert (tmp_path / path).read_bytes()[:8] == PNG
