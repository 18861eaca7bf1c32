"""The one figure style: a colour, position and label per condition, network names to conditions, percent
axes fitted to the data with a chance line, and the save function."""

from typing import get_args

import pytest
from matplotlib.figure import Figure
from PIL import Image

from v1mtl.common import figure_style as style
from v1mtl.training.config import Condition


def test_every_condition_has_a_distinct_colour_marker_label_and_a_fixed_position():
    assert set(style.CONDITIONS) == set(get_args(Condition))
    assert len({style.colour(c) for c in style.CONDITIONS}) == len(style.CONDITIONS)
    assert len({style.marker(c) for c in style.CONDITIONS}) == len(style.CONDITIONS)
    assert [style.label(c) for c in style.CONDITIONS] == [
        "Baseline",
        "MTL",
        "MTL-Shuffled",
        "MTL-Random",
        "Oracle (noise-trained)",
        "MTL-Oracle",
        "VOneBlock",
        "Pixel-similarity",
    ]
    # a colour outside the palette of names that are not a study's, so no such name looks like a condition
    assert not set(style.COLOURS.values()) & set(style.OTHER_COLOURS)
    assert style.in_order(reversed(style.CONDITIONS)) == list(style.CONDITIONS)


@pytest.mark.parametrize(
    ("name", "condition", "seed"),
    [
        ("mtl-s3", "mtl", 3),
        ("mtl-oracle-s12", "mtl-oracle", 12),
        ("mtl", "mtl", None),
        ("my run", "my run", None),
    ],
)
def test_a_network_name_maps_to_its_condition_and_seed(name, condition, seed):
    assert style.condition_of(name) == condition
    assert style.seed_of(name) == seed


def test_labels_colours_and_order_of_networks_follow_their_condition():
    assert style.label("noise-augmented-s2") == "Oracle (noise-trained) (seed 2)"
    assert style.label("m (a/robustness)") == "m (a/robustness)"
    assert style.colour("mtl-s7") == style.colour("mtl") != style.colour("mtl-oracle-s7")
    assert style.colour("someone else's") == style.colour("someone else's")
    names = ["zeta", "mtl-s10", "baseline-s1", "mtl-s2", "mtl-oracle-s0", "alpha"]
    assert style.in_order(names) == ["baseline-s1", "mtl-s2", "mtl-s10", "mtl-oracle-s0", "alpha", "zeta"]
    assert style.one_per_condition(names) == ["baseline-s1", "mtl-s2", "mtl-oracle-s0", "alpha", "zeta"]


def test_condition_handles_name_each_condition_once_without_seeds():
    handles, labels = style.condition_handles(["mtl-s1", "baseline-s0", "mtl-s0"])
    assert labels == ["Baseline", "MTL"]
    assert [h.get_color() for h in handles] == [style.colour("baseline"), style.colour("mtl")]


def test_chance_and_percent():
    assert style.chance_level(10) == pytest.approx(0.1)
    assert style.chance_level(0) == 0.0
    assert style.format_percent(0.1234) == "12.3%"
    assert style.format_percent(0.5, digits=0) == "50%"


def test_accuracy_limits_fit_the_data_and_the_chance_level():
    lo, hi = style.accuracy_limits([0.10, 0.25, float("nan")])
    assert 0.07 < lo < 0.10 and 0.25 < hi < 0.28  # not 0-100%
    lo, hi = style.accuracy_limits([0.10, 0.25], chance=0.005)
    assert lo <= 0.005 and hi < 0.3
    assert style.accuracy_limits([0.0, 1.0]) == (0.0, 1.0)  # never beyond [0, 1]
    assert style.accuracy_limits([]) == (0.0, 1.0)
    lo, hi = style.accuracy_limits([0.06, 0.06])
    assert lo < 0.06 < hi  # a flat line is not on the frame


def test_accuracy_axis_draws_the_chance_line_and_percent_ticks():
    ax = Figure().subplots()
    ax.plot([0, 1], [0.12, 0.2])
    style.accuracy_axis(ax, [0.12, 0.2], chance=0.1)
    (line,) = [ln for ln in ax.get_lines() if ln.get_linestyle() == "--"]
    assert list(line.get_ydata()) == [0.1, 0.1]
    assert line.get_label() == "chance (10.0%)"
    assert ax.get_ylim()[0] <= 0.1 and ax.get_ylim()[1] < 0.25
    assert ax.yaxis.get_major_formatter()(0.15, 0).endswith("%")

    ax = Figure().subplots()
    style.accuracy_axis(ax, [0.12, 0.2], chance=0.0)
    assert not ax.get_lines()  # unknown chance: no line


def test_save_writes_a_png_at_the_report_dpi(tmp_path):
    fig = style.new_figure(2.0)
    fig.subplots().plot([0, 1], [0, 1])
    path = style.save(fig, tmp_path / "sub" / "f.png")
    with Image.open(path) as im:
        assert im.format == "PNG"
        assert im.info["dpi"] == pytest.approx((style.DPI, style.DPI), abs=0.5)
        assert abs(im.size[0] - style.FIG_WIDTH * style.DPI) < 0.1 * style.FIG_WIDTH * style.DPI
