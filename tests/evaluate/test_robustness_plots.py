"""Accuracy against severity: an axis fitted to the data with the chance line, study labels and colours."""

from v1mtl.common import figure_style as style
from v1mtl.evaluate.predictivity_plots import layer_sweep
from v1mtl.evaluate.robustness_plots import plot_accuracy_vs_severity
from v1mtl.evaluate.robustness_table import RobustnessRow


def _rows(model: str, clean: int, per_severity: list[int]) -> list[RobustnessRow]:
    """One model on one corruption, 100 images: clean correct, then correct at severities 1, 2, ..."""
    base = ("on-the-fly", "cifar", False, "gray")
    return [RobustnessRow(model, *base, "clean", 0.0, 100, clean)] + [
        RobustnessRow(model, *base, "contrast", float(s), 100, k) for s, k in enumerate(per_severity, start=1)
    ]


def _chance_lines(ax):
    return [ln for ln in ax.get_lines() if ln.get_linestyle() == "--"]


def test_axis_fits_the_data_and_draws_chance(tmp_path, drawn):
    rows = _rows("mtl", 25, [20, 12]) + _rows("baseline", 24, [18, 10])
    (path,) = plot_accuracy_vs_severity(rows, tmp_path, chance=0.1)
    assert path.name == "accuracy_vs_severity_on-the-fly_cifar_gray.png" and path.is_file()
    ax = drawn[0].axes[0]
    lo, hi = ax.get_ylim()
    assert 0.05 < lo <= 0.1 and 0.25 <= hi < 0.3  # data 10-25%, chance 10%: not 0-100%
    assert [list(ln.get_ydata()) for ln in _chance_lines(ax)] == [[0.1, 0.1]]
    assert ax.yaxis.get_major_formatter()(0.2, 0) == "20%"


def test_lines_carry_study_labels_and_condition_colours_in_order(tmp_path, drawn):
    rows = _rows("mtl-s0", 25, [20]) + _rows("baseline-s0", 24, [18]) + _rows("other", 20, [15])
    plot_accuracy_vs_severity(rows, tmp_path)
    ax = drawn[0].axes[0]
    assert not _chance_lines(ax)  # chance unknown: no line
    lines = ax.get_lines()
    assert [ln.get_label() for ln in lines] == ["Baseline (seed 0)", "MTL (seed 0)", "other"]
    assert [ln.get_color() for ln in lines[:2]] == [style.colour("baseline"), style.colour("mtl")]
    assert list(lines[0].get_xdata()) == [0.0, 1.0]  # every line starts at clean accuracy


def test_layer_sweep_keeps_its_legend_out_of_the_axes(tmp_path, drawn):
    rows = [
        {
            "layer": name,
            "val_corr": 0.2,
            "test_corr_mean": 0.1,
            "corr_to_average_mean": None,
            "feve_mean": 0.05,
        }
        for name in ("relu1_1", "relu2_1")
    ]
    path = layer_sweep(rows, tmp_path / "layers.png")
    assert path.is_file()
    (ax,) = drawn[0].axes
    assert ax.get_legend() is None and len(drawn[0].legends) == 1
