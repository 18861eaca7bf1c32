"""The report's adversarial part: curves over seeds, the accuracy-vs-budget figure per norm, the section with
its tables and gradient-masking warnings, and the tidy ``report/adversarial.csv``."""

import numpy as np
import pytest
from matplotlib.collections import PolyCollection

from v1mtl.common import figure_style as style
from v1mtl.common.tables import read_csv
from v1mtl.evaluate.adversarial import AdversarialRow
from v1mtl.report import RunResult, figures
from v1mtl.report.build import adversarial_section
from v1mtl.report.document import Bullets, Document, Figure, Table, to_markdown
from v1mtl.report.tables import write_tables

PNG = b"\x89PNG\r\n\x1a\n"
SETTINGS = {"steps": 5, "restarts": 1, "random_start": True, "eot_samples": None, "stochastic_eot_samples": 8}


def _runs(seeds: int = 2, masked: str | None = None) -> list[RunResult]:
    """MTL before the Baseline (the report must order them); 100 images, correct counts per (norm, eps)."""
    runs = []
    for condition, shift in (("mtl", 4), ("baseline", 0)):
        for seed in range(seeds):
            name = f"{condition}-s{seed}"
            counts = {
                ("linf", 0.0): 50,
                ("linf", 0.25): 0,
                ("linf", 0.004): 20,
                ("l2", 0.0): 50,
                ("l2", 8.0): 0,
            }
            rows = [
                AdversarialRow(name, norm, eps, 100, max(0, c + shift + 2 * seed * bool(c)), 2.0, 2.0 + eps)
                for (norm, eps), c in counts.items()
            ]
            runs.append(
                RunResult(
                    condition,
                    seed,
                    name,
                    n_classes=10,
                    adversarial_rows=rows,
                    gradient_masking=[
                        "linf: accuracy 0.200 at the largest budget eps=0.25 is above chance 0.100"
                    ]
                    if name == masked
                    else [],
                )
            )
    return runs


def test_curves_average_seeds_per_budget_in_order():
    curves = figures.adversarial_curves(_runs(), "linf")
    assert list(curves) == ["baseline", "mtl"]
    assert [eps for eps, _ in curves["mtl"]] == [0.0, 0.004, 0.25]
    est = dict(curves["mtl"])[0.004]
    assert est.value == pytest.approx(np.mean([0.24, 0.26])) and est.n == 2 and est.ci_low < est.value
    assert [eps for eps, _ in figures.adversarial_curves(_runs(), "l2")["baseline"]] == [0.0, 8.0]


@pytest.mark.parametrize("seeds", [1, 2])
def test_accuracy_vs_budget_draws_one_line_per_condition_with_bands_only_over_seeds(tmp_path, drawn, seeds):
    path = figures.accuracy_vs_budget(_runs(seeds), "linf", tmp_path / "a.png", chance=0.1)
    assert path.read_bytes()[:8] == PNG
    fig = drawn[0]
    (ax,) = fig.axes
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["Baseline", "MTL", "chance (10.0%)"]
    lines = [ln for ln in ax.get_lines() if ln.get_linestyle() != "--"]
    assert [ln.get_color() for ln in lines] == [style.colour("baseline"), style.colour("mtl")]
    bands = [c for c in ax.collections if isinstance(c, PolyCollection)]
    assert len(bands) == (2 if seeds == 2 else 0)
    # budgets at evenly spaced positions, labelled with their values; percent axis with the chance line
    assert [t.get_text() for t in ax.get_xticklabels()] == ["0", "0.004", "0.25"]
    assert list(lines[0].get_xdata()) == [0, 1, 2]
    assert ax.yaxis.get_major_formatter()(0.5, 0) == "50%"
    assert ax.get_ylim()[0] <= 0.0 and "L∞ budget" in ax.get_xlabel()


def test_the_section_has_a_figure_and_a_table_per_norm_and_names_masked_networks(tmp_path):
    doc = Document("r")
    adversarial_section(doc, _runs(masked="mtl-s1"), tmp_path, SETTINGS)
    figs = [b for b in doc.blocks if isinstance(b, Figure)]
    assert [f.path for f in figs] == [
        "report/figures/adversarial_linf.png",
        "report/figures/adversarial_l2.png",
    ]
    assert all((tmp_path / f.path).read_bytes()[:8] == PNG for f in figs)
    linf, l2 = [b for b in doc.blocks if isinstance(b, Table)]
    assert linf.header == ["condition", "seeds", "L∞ 0", "L∞ 0.004", "L∞ 0.25"]
    assert linf.rows[0][:3] == ["baseline", "2", "51.0 [38.3, 63.7]"]  # 50 and 52 of 100
    assert [r[0] for r in l2.rows] == ["baseline", "mtl"]
    (masked,) = [b for b in doc.blocks if isinstance(b, Bullets)]
    assert masked.items == [
        "mtl-s1: linf: accuracy 0.200 at the largest budget eps=0.25 is above chance 0.100"
    ]
    text = to_markdown(doc)
    assert "Gradient masking suspected for 1 of 4 networks" in text
    assert "8 forward passes per gradient for a stochastic network, 1 otherwise" in text


def test_the_section_says_so_when_no_network_is_flagged_and_is_absent_without_results(tmp_path):
    doc = Document("r")
    adversarial_section(doc, _runs(), tmp_path, SETTINGS | {"eot_samples": 4})
    text = to_markdown(doc)
    assert "No network was flagged" in text and "4 forward pass(es) per gradient" in text
    empty = Document("r")
    adversarial_section(empty, [RunResult("baseline", 0, "baseline-s0")], tmp_path, SETTINGS)
    assert empty.blocks == []


def test_the_tidy_csv_has_one_row_per_network_norm_and_budget(tmp_path):
    written = write_tables(_runs(masked="mtl-s1"), [], tmp_path)
    assert tmp_path / "adversarial.csv" in written
    rows = read_csv(tmp_path / "adversarial.csv")
    assert len(rows) == 4 * 5
    assert list(rows[0]) == [
        "step", "condition", "seed", "network", "norm", "eps", "n", "correct", "accuracy",
        "mean_loss_start", "mean_loss_end", "suspect_gradient_masking",
    ]  # fmt: skip
    first = rows[0]
    assert (first["condition"], first["seed"], first["norm"], first["eps"], first["accuracy"]) == (
        "mtl", "0", "linf", "0.0", "0.54",
    )  # fmt: skip
    assert {r["network"] for r in rows if r["suspect_gradient_masking"] == "True"} == {"mtl-s1"}
