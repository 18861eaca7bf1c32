"""The relative robustness score (Baseline = 100): per condition ratios, corruptions, families, sweep."""

from __future__ import annotations

import math

import pytest

from v1mtl.common.errors import InputError
from v1mtl.evaluate.relative_robustness import (
    FAMILIES,
    mean_sweep_accuracy,
    relative_robustness,
    relative_sweep,
)
from v1mtl.evaluate.robustness_table import RobustnessRow

N = 100
PROTO = dict(source="on-the-fly", preset="tiny-imagenet", jpeg_roundtrip=False, space="rgb")


def _rows(model: str, table: dict[str, list[int]], clean: int = 90) -> list[RobustnessRow]:
    """corruption -> correct counts for severities 1..k out of N images; a clean row first."""
    out = [RobustnessRow(model, **PROTO, corruption="clean", severity=0.0, n=N, correct=clean)]
    for corruption, counts in table.items():
        out += [
            RobustnessRow(model, **PROTO, corruption=corruption, severity=float(s), n=N, correct=c)
            for s, c in enumerate(counts, start=1)
        ]
    return out


def test_scores_by_hand():
    base = _rows("b", {"gaussian_noise": [50, 20], "shot_noise": [40, 40], "fog": [60, 30]})
    net = _rows("m", {"gaussian_noise": [60, 30], "shot_noise": [40, 20], "fog": [30, 30]})
    score = relative_robustness(net, base)
    ratios = {"gaussian_noise": [1.2, 1.5], "shot_noise": [1.0, 0.5], "fog": [0.5, 1.0]}
    assert score.per_corruption == pytest.approx({c: 100 * sum(r) / 2 for c, r in ratios.items()})
    # a family is the mean of its corruptions' scores; the clean row plays no part
    assert score.per_family == pytest.approx({"noise": (135 + 75) / 2, "weather": 75})
    assert score.overall == pytest.approx(100 * sum(sum(r) for r in ratios.values()) / 6)
    assert score.n_conditions == 6


def test_the_baseline_scores_100_against_itself_and_a_zero_baseline_condition_is_left_out():
    base = _rows("b", {"contrast": [50, 0], "pixelate": [30, 10]})
    assert relative_robustness(base, base).overall == pytest.approx(100)
    net = _rows("m", {"contrast": [25, 7], "pixelate": [30, 10]})
    score = relative_robustness(net, base)
    assert score.n_conditions == 3  # contrast severity 2: the Baseline got nothing right
    assert score.per_corruption["contrast"] == pytest.approx(50)
    assert score.overall == pytest.approx(100 * (0.5 + 1 + 1) / 3)


def test_the_baseline_must_have_every_condition_and_protocol():
    base = _rows("b", {"snow": [50]})
    with pytest.raises(InputError, match="lacks snow at severity 2"):
        relative_robustness(_rows("m", {"snow": [50, 40]}), base)
    other = [
        RobustnessRow("m", **(PROTO | {"preset": "cifar"}), corruption="snow", severity=1.0, n=N, correct=9)
    ]
    with pytest.raises(InputError, match="no rows of protocol"):
        relative_robustness(other, base)


def test_gaussian_sweep_score_skips_the_clean_level():
    def sweep(model, counts):
        return [
            RobustnessRow(
                model,
                **(PROTO | {"source": "gaussian-sweep", "preset": "none"}),
                corruption="gaussian_sweep",
                severity=std,
                n=N,
                correct=c,
            )
            for std, c in counts.items()
        ]

    base = sweep("b", {0.0: 90, 0.1: 50, 0.2: 20})
    net = sweep("m", {0.0: 80, 0.1: 60, 0.2: 30})
    assert relative_sweep(net, base) == pytest.approx(100 * (1.2 + 1.5) / 2)
    assert mean_sweep_accuracy(net) == pytest.approx(0.45)
    assert math.isnan(relative_sweep([], base))


def test_families_are_the_benchmark_grouping():
    common = [c for members in FAMILIES.values() for c in members]
    assert len(common) == len(set(common))
    assert {"gaussian_noise", "glass_blur", "frost", "jpeg_compression"} <= set(common)
