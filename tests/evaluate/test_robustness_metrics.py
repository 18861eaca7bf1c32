"""mCE, relative mCE, summaries, the tidy CSV and the plots."""

from __future__ import annotations

import math

import pytest
from PIL import Image

from v1mtl.common.errors import InputError
from v1mtl.evaluate.robustness import combine_csvs, summarize
from v1mtl.evaluate.robustness_metrics import score, select_reference
from v1mtl.evaluate.robustness_plots import plot_accuracy_vs_severity
from v1mtl.evaluate.robustness_table import COLUMNS, RobustnessRow, read_rows, write_rows

N = 100


def _rows(model, clean_correct, table, source="on-the-fly"):
    """``table``: corruption -> list of correct counts for severities 1..k, out of N images each."""
    proto = dict(source=source, preset="tiny-imagenet", jpeg_roundtrip=False, space="rgb")
    out = [RobustnessRow(model, **proto, corruption="clean", severity=0.0, n=N, correct=clean_correct)]
    for corruption, counts in table.items():
        for s, c in enumerate(counts, start=1):
            out.append(
                RobustnessRow(model, **proto, corruption=corruption, severity=float(s), n=N, correct=c)
            )
    return out


MODEL = _rows("m", 90, {"noise": [80, 60], "blur": [70, 50]})
REF = _rows("ref", 80, {"noise": [60, 40], "blur": [60, 40]})


def test_mce_and_relative_mce_by_hand():
    (summary,), scores = score(MODEL, REF)
    # errors: m clean .1, noise .2 .4, blur .3 .5 ; ref clean .2, noise .4 .6, blur .4 .6
    ce_noise, ce_blur = (0.2 + 0.4) / (0.4 + 0.6), (0.3 + 0.5) / (0.4 + 0.6)
    rce_noise = ((0.2 - 0.1) + (0.4 - 0.1)) / ((0.4 - 0.2) + (0.6 - 0.2))
    rce_blur = ((0.3 - 0.1) + (0.5 - 0.1)) / ((0.4 - 0.2) + (0.6 - 0.2))
    by = {s.corruption: s for s in scores}
    assert by["noise"].ce == pytest.approx(ce_noise) and by["blur"].ce == pytest.approx(ce_blur)
    assert by["noise"].relative_ce == pytest.approx(rce_noise)
    assert by["blur"].relative_ce == pytest.approx(rce_blur)
    assert by["noise"].mean_accuracy == pytest.approx(0.7)
    assert summary.mce == pytest.approx((ce_noise + ce_blur) / 2)
    assert summary.relative_mce == pytest.approx((rce_noise + rce_blur) / 2)
    assert summary.clean_accuracy == pytest.approx(0.9)
    assert summary.mean_corruption_accuracy == pytest.approx((0.8 + 0.6 + 0.7 + 0.5) / 4)
    assert summary.n_conditions == 4 and summary.reference == "ref"


def test_a_model_against_itself_scores_one():
    summaries, _ = score(MODEL + REF, MODEL)
    by = {s.model: s for s in summaries}
    assert by["m"].mce == pytest.approx(1.0) and by["m"].relative_mce == pytest.approx(1.0)
    assert by["ref"].mce != pytest.approx(1.0)


def test_no_reference_gives_nan_and_zero_denominators_give_nan():
    (summary,), _ = score(MODEL)
    assert math.isnan(summary.mce) and math.isnan(summary.relative_mce)
    perfect = _rows("p", N, {"noise": [N, N], "blur": [N, N]})
    (s,), _ = score(MODEL, perfect)
    assert math.isnan(s.mce)


def test_reference_must_cover_the_protocol_and_conditions():
    with pytest.raises(InputError, match="severity") as err:
        score(MODEL, _rows("ref", 80, {"noise": [60], "blur": [60, 40]}), reference_path="ref.csv")
    assert "ref.csv" in str(err.value)
    with pytest.raises(InputError, match="protocol"):
        score(MODEL, _rows("ref", 80, {"noise": [60, 40]}, source="pre-rendered"))


def test_select_reference():
    assert select_reference(REF, None) == REF
    assert select_reference(MODEL + REF, "ref") == REF
    with pytest.raises(InputError, match="--reference-model"):
        select_reference(MODEL + REF, None, "both.csv")
    with pytest.raises(InputError, match="no model named"):
        select_reference(REF, "nope")


def test_csv_round_trip_and_schema(tmp_path):
    rows = MODEL + [
        RobustnessRow("m", "gaussian-sweep", "none", False, "gray", "gaussian_sweep", 0.05, 10, 7)
    ]
    path = write_rows(rows, tmp_path / "r.csv")
    assert path.read_text().splitlines()[0] == ",".join(COLUMNS)
    assert "gaussian_sweep,0.05,10,7,0.700000" in path.read_text()
    assert read_rows(path) == rows


@pytest.mark.parametrize(
    ("edit", "field"),
    [
        (lambda t: t.replace("accuracy", "acc", 1), "accuracy"),
        (lambda t: t.replace("on-the-fly", "elsewhere", 1), "source"),
        (lambda t: t.replace(",100,90,", ",100,ninety,", 1), "correct"),
        (lambda t: t.replace(",100,90,", ",100,190,", 1), "correct"),
        (lambda t: t.replace(",false,", ",maybe,", 1), "jpeg_roundtrip"),
    ],
)
def test_bad_csv_names_file_and_field(tmp_path, edit, field):
    path = write_rows(MODEL, tmp_path / "r.csv")
    path.write_text(edit(path.read_text()))
    with pytest.raises(InputError, match=f"field '{field}'") as err:
        read_rows(path)
    assert str(path) in str(err.value)
    with pytest.raises(InputError, match="no such"):
        read_rows(tmp_path / "missing.csv")


def _assert_png(path):
    with Image.open(path) as im:
        assert im.format == "PNG" and im.size[0] > 100 and im.size[1] > 100


def test_plots_one_png_per_protocol(tmp_path):
    sweep = [
        RobustnessRow("m", "gaussian-sweep", "none", False, "rgb", c, s, 10, k)
        for c, s, k in [("clean", 0.0, 9), ("gaussian_sweep", 0.0, 9), ("gaussian_sweep", 0.5, 4)]
    ]
    paths = plot_accuracy_vs_severity(MODEL + REF + sweep, tmp_path)
    assert [p.name for p in paths] == [
        "accuracy_vs_severity_on-the-fly_tiny-imagenet_rgb.png",
        "accuracy_vs_severity_gaussian-sweep_none_rgb.png",
    ]
    for p in paths:
        _assert_png(p)


def test_summarize_several_csvs_overlays_models_and_scores_against_a_reference(tmp_path):
    a = write_rows(MODEL, tmp_path / "a" / "robustness.csv")
    b = write_rows(_rows("m", 85, {"noise": [70, 50], "blur": [65, 45]}), tmp_path / "b" / "robustness.csv")
    ref = write_rows(REF, tmp_path / "ref.csv")
    combined = combine_csvs([a, b])
    assert sorted({r.model for r in combined}) == ["m (a/robustness)", "m (b/robustness)"]
    out = summarize([a, b], tmp_path / "out", reference=ref)
    summaries = {s.model: s for s in out["summaries"]}
    assert summaries["m (a/robustness)"].mce == pytest.approx(score(MODEL, REF)[0][0].mce)
    names = sorted(p.name for p in out["paths"])
    assert names == [
        "accuracy_vs_severity_on-the-fly_tiny-imagenet_rgb.png",
        "corruption_scores.csv",
        "summary.csv",
    ]
    _assert_png(tmp_path / "out" / "accuracy_vs_severity_on-the-fly_tiny-imagenet_rgb.png")
    header = (tmp_path / "out" / "summary.csv").read_text().splitlines()[0]
    assert header.startswith(
        "model,source,preset,jpeg_roundtrip,space,clean_accuracy,mean_corruption_accuracy"
    )


def test_summaries_carry_the_relative_robustness_score():
    (summary,), scores = score(MODEL, REF)
    # accuracies m: noise .8 .6, blur .7 .5 ; ref: noise .6 .4, blur .6 .4
    ratios = {"noise": [0.8 / 0.6, 0.6 / 0.4], "blur": [0.7 / 0.6, 0.5 / 0.4]}
    assert summary.robustness_score == pytest.approx(100 * sum(sum(r) for r in ratios.values()) / 4)
    by = {s.corruption: s.robustness_score for s in scores}
    assert by == pytest.approx({c: 100 * sum(r) / 2 for c, r in ratios.items()})
    (alone,), _ = score(MODEL)
    assert math.isnan(alone.robustness_score)
