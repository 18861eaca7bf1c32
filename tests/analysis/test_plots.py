"""The analyses' figures: one network per condition, row labels at the left of their own row, readable
titles, one colour bar, condition colours and labels without seeds."""

import numpy as np
from matplotlib.colors import to_hex

from v1mtl.analysis import plots
from v1mtl.common import figure_style as style

NETWORKS = ["mtl-s0", "baseline-s1", "baseline-s0", "mtl-s1"]


def _grid(fig, n_cols):
    axes = fig.axes
    return [axes[i : i + n_cols] for i in range(0, len(axes), n_cols)]


def test_reconstruction_examples_label_each_row_at_its_left(tmp_path, drawn):
    rng = np.random.default_rng(0)
    img = rng.random((2, 8, 8))
    examples = {(m, n, b): (img, img, img, img) for m in NETWORKS for n in (0.1, 0.2) for b in (5.0, 10.0)}
    assert plots.reconstruction_examples(examples, tmp_path / "r.png").is_file()
    rows = _grid(drawn[0], 4)  # noise levels x budgets
    assert len(rows) == 3  # the input row, then one per condition: not one per seed
    assert [row[0].get_ylabel() for row in rows] == ["input", "Baseline\nseed 0", "MTL\nseed 0"]
    assert [ax.get_title() for ax in rows[0]] == ["clean", "noisy\nstd 0.1", "noisy\nstd 0.2", ""]
    assert rows[1][3].get_title() == "std 0.2\nbudget 10"
    # titles sit only above the first network row: nothing is printed over the row before
    assert all(ax.get_title() == "" for ax in rows[2])
    assert rows[2][0].yaxis.label.get_color() == style.colour("mtl")


def test_saliency_examples_have_a_column_per_condition_and_a_colour_bar(tmp_path, drawn):
    rng = np.random.default_rng(0)
    maps = {(m, method): rng.random((3, 8, 8)) for m in NETWORKS for method in ("jacobian", "reconstruction")}
    ids = ["a", "b", "c"]
    path = plots.saliency_examples(
        ids, rng.random((3, 8, 8)), rng.random((3, 8, 8)), maps, tmp_path / "s.png", n=2
    )
    assert path.is_file()
    fig = drawn[0]
    bars = [ax for ax in fig.axes if ax.get_label() == "<colorbar>"]
    assert len(bars) == 1 and "scaled to [0, 1]" in bars[0].get_ylabel()
    images = [ax for ax in fig.axes if ax not in bars]
    assert len(images) == 2 * 2 * 4  # images x methods rows; image, saliency, Baseline, MTL columns
    top = images[:4]
    assert [ax.get_title() for ax in top] == ["image", "saliency", "Baseline", "MTL"]
    assert min(ax.title.get_fontsize() for ax in top) >= 7
    assert [images[4 * r].get_ylabel() for r in range(4)] == [
        "a\njacobian",
        "a\nreconstruction",
        "b\njacobian",
        "b\nreconstruction",
    ]


def test_score_bars_and_budget_lines_name_conditions_once(tmp_path, drawn):
    summary = [
        {"model": m, "method": meth, "score": sc, "value": 0.6, "ci_low": 0.5, "ci_high": 0.7}
        for m in NETWORKS
        for meth in ("jacobian", "reconstruction")
        for sc in ("nss", "auc")
    ]
    plots.score_bars(summary, tmp_path / "b.png")
    assert [t.get_text() for t in drawn[0].legends[0].get_texts()] == ["Baseline", "MTL"]
    bars = drawn[0].axes[0].patches
    # one bar per network and method, networks in order, each in its condition's colour
    assert [to_hex(b.get_facecolor()) for b in bars[::2]] == [
        style.colour(m).lower() for m in style.in_order(NETWORKS)
    ]
    gain = [
        {
            "model": m,
            "noise_std": 0.1,
            "budget": b,
            "measure": "content_gain",
            "value": 0.1,
            "ci_low": 0.0,
            "ci_high": 0.2,
        }
        for m in NETWORKS
        for b in (5.0, 40.0)
    ]
    plots.measure_vs_budget(gain, "content_gain", tmp_path / "g.png", "content gain", zero_line=True)
    ax = drawn[1].axes[0]
    assert [t.get_text() for t in drawn[1].legends[0].get_texts()] == ["Baseline", "MTL"]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["5", "40"]
