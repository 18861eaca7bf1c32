"""The evaluation loop, the Gaussian sweep, resuming, and the normalization wrapper."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from robustness_fixtures import BrightnessClassifier, brightness_split, direct_accuracy

from v1mtl.common.errors import InputError
from v1mtl.data.images.gray import LUMA_WEIGHTS
from v1mtl.evaluate.corrupted_sources import GAUSSIAN_SWEEP_STDS, GaussianSweepSource, evenly_spaced
from v1mtl.evaluate.robustness import (
    CSV_NAME,
    PROTOCOL_NAME,
    UnitRangeClassifier,
    evaluate_robustness,
    run_robustness,
)
from v1mtl.evaluate.robustness_table import read_rows


def _by_condition(rows):
    return {(r.model, r.corruption, r.severity): r for r in rows}


def test_clean_accuracy_and_sweep_at_std_zero_equal_a_direct_computation():
    split = brightness_split(n=48)
    rows = evaluate_robustness(BrightnessClassifier(), GaussianSweepSource(split), progress=False)
    expected = direct_accuracy(split.images / 255.0, split.labels)
    got = _by_condition(rows)
    assert got[("model", "clean", 0.0)].accuracy == pytest.approx(expected)
    assert got[("model", "gaussian_sweep", 0.0)].accuracy == pytest.approx(expected)
    assert all(r.n == 48 for r in rows)
    assert [r.severity for r in rows if r.corruption == "gaussian_sweep"] == list(GAUSSIAN_SWEEP_STDS)
    # Strong noise pulls every image's mean towards 0.5 from both sides: the accuracy must move.
    assert got[("model", "gaussian_sweep", 1.0)].accuracy != pytest.approx(expected)


def test_rgb_split_is_converted_with_luma_weights_after_corruption():
    split = brightness_split(n=30, color=True)
    rows = evaluate_robustness(BrightnessClassifier(), GaussianSweepSource(split, stds=[0.0]), progress=False)
    gray = (split.images / 255.0) @ np.asarray(LUMA_WEIGHTS)
    assert rows[0].space == "rgb"
    assert rows[0].accuracy == pytest.approx(direct_accuracy(gray, split.labels))


@pytest.mark.parametrize("color", [False, True])
def test_sweep_noise_has_the_requested_std_and_is_added_before_the_gray_conversion(color):
    size, std = 16, 0.05
    images = np.full((6, size, size, 3) if color else (6, size, size), 128, dtype=np.uint8)
    from v1mtl.data.images import ImageSplit

    source = GaussianSweepSource(ImageSplit(images, np.zeros(6, dtype=np.int64)), stds=[std], seed=3)
    (x, _), *_ = list(source.batches("gaussian_sweep", std, batch_size=6, device="cpu"))
    assert x.shape == (6, 1, size, size)
    residual = (x - 128 / 255).numpy()
    # i.i.d. noise per channel, then luma: the gray noise std is std * ||w|| (about 0.669 std).
    factor = float(np.linalg.norm(LUMA_WEIGHTS)) if color else 1.0
    assert residual.std() == pytest.approx(std * factor, rel=0.1)
    assert abs(residual.mean()) < 0.01


def test_sweep_is_deterministic_and_independent_of_batch_size_and_limit():
    split = brightness_split(n=40)
    a = evaluate_robustness(
        BrightnessClassifier(), GaussianSweepSource(split, seed=7), batch_size=7, progress=False
    )
    b = evaluate_robustness(
        BrightnessClassifier(), GaussianSweepSource(split, seed=7), batch_size=40, progress=False
    )
    assert a == b
    src = GaussianSweepSource(split, stds=[0.3], seed=7)
    limited = GaussianSweepSource(split, stds=[0.3], seed=7, limit=5)
    full = torch.cat([x for x, _ in src.batches("gaussian_sweep", 0.3, 16, "cpu")])
    part = torch.cat([x for x, _ in limited.batches("gaussian_sweep", 0.3, 2, "cpu")])
    assert torch.equal(full[torch.from_numpy(limited.indices)], part)
    other_seed = torch.cat(
        [
            x
            for x, _ in GaussianSweepSource(split, stds=[0.3], seed=8).batches(
                "gaussian_sweep", 0.3, 16, "cpu"
            )
        ]
    )
    assert not torch.equal(full, other_seed)


def test_evenly_spaced_covers_the_range():
    assert evenly_spaced(10, None).tolist() == list(range(10))
    assert evenly_spaced(10, 3).tolist() == [0, 4, 9]  # round(4.5) is 4 (banker's rounding in NumPy)
    with pytest.raises(InputError, match="limit"):
        evenly_spaced(10, 0)


def test_several_models_share_one_pass_and_match_separate_runs():
    split = brightness_split(n=32)
    together = evaluate_robustness(
        {"low": BrightnessClassifier(0.4), "high": BrightnessClassifier(0.6)},
        GaussianSweepSource(split, stds=[0.0, 0.2]),
        progress=False,
    )
    for name, t in (("low", 0.4), ("high", 0.6)):
        alone = evaluate_robustness(
            BrightnessClassifier(t),
            GaussianSweepSource(split, stds=[0.0, 0.2]),
            model_name=name,
            progress=False,
        )
        assert [r for r in together if r.model == name] == alone


def test_unit_range_classifier_normalizes_and_passes_the_task():
    class Probe(torch.nn.Module):
        def forward(self, x, task=None):
            self.seen = (x.clone(), task)
            return x.flatten(1)

    probe = Probe()
    x = torch.full((1, 1, 2, 2), 0.7)
    UnitRangeClassifier(probe, mean=0.5, std=0.2)(x)
    assert torch.allclose(probe.seen[0], torch.full_like(x, 1.0))
    assert probe.seen[1] == "classification"
    plain = UnitRangeClassifier(torch.nn.Flatten(), mean=0.5, std=0.2, task=None)
    assert torch.allclose(plain(x), torch.ones(1, 4))


def test_run_writes_protocol_and_csv_and_resumes_only_missing_conditions(tmp_path):
    split = brightness_split(n=24)
    model = BrightnessClassifier()
    csv_path = run_robustness(
        model, GaussianSweepSource(split, seed=1), tmp_path, batch_size=8, progress=False
    )
    full_text = csv_path.read_text()
    protocol = json.loads((tmp_path / PROTOCOL_NAME).read_text())
    assert protocol["protocol"]["source"] == "gaussian-sweep"
    assert protocol["protocol"]["stds"] == list(GAUSSIAN_SWEEP_STDS)
    assert protocol["models"] == ["model"]

    # Drop the last three conditions, as if the run had been killed; the rerun computes only those.
    lines = full_text.splitlines(keepends=True)
    (tmp_path / CSV_NAME).write_text("".join(lines[:-3]))
    fresh = BrightnessClassifier()
    run_robustness(fresh, GaussianSweepSource(split, seed=1), tmp_path, batch_size=8, progress=False)
    assert fresh.calls == 3 * 3  # three conditions, 24 images in batches of 8
    assert (tmp_path / CSV_NAME).read_text() == full_text

    # A second model is added to the same folder; the first one's rows stay.
    run_robustness(
        BrightnessClassifier(0.6),
        GaussianSweepSource(split, seed=1),
        tmp_path,
        model_name="b",
        progress=False,
    )
    rows = read_rows(tmp_path / CSV_NAME)
    assert [r.model for r in rows].count("model") == 8 and [r.model for r in rows].count("b") == 8
    assert json.loads((tmp_path / PROTOCOL_NAME).read_text())["models"] == ["model", "b"]


def test_run_refuses_a_folder_of_another_protocol(tmp_path):
    split = brightness_split(n=10)
    run_robustness(BrightnessClassifier(), GaussianSweepSource(split, seed=1), tmp_path, progress=False)
    with pytest.raises(InputError, match="another protocol") as err:
        run_robustness(BrightnessClassifier(), GaussianSweepSource(split, seed=2), tmp_path, progress=False)
    assert PROTOCOL_NAME in str(err.value)


def test_bad_inputs_are_named():
    split = brightness_split(n=4)
    with pytest.raises(InputError, match="stds"):
        GaussianSweepSource(split, stds=[-0.1])
    with pytest.raises(InputError, match="batch_size"):
        list(GaussianSweepSource(split).batches("clean", 0.0, 0, "cpu"))
    from v1mtl.data.images import ImageSplit

    with pytest.raises(InputError, match="images"):
        GaussianSweepSource(ImageSplit(np.zeros((2, 4, 4, 2), np.uint8), np.zeros(2, np.int64)))
    with pytest.raises(InputError, match="models"):
        evaluate_robustness({}, GaussianSweepSource(split), progress=False)


class _NoisyBrightness(BrightnessClassifier):
    """A classifier that draws noise from torch's global generator, as a VOneBlock does."""

    stochastic = True

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        logits = super().forward(x)
        return logits + 0.2 * torch.randn_like(logits)


def test_a_stochastic_network_gets_the_same_draws_per_condition_whatever_ran_before():
    split = brightness_split(n=200)
    source = GaussianSweepSource(split, stds=[0.0, 0.1, 0.2])
    torch.manual_seed(1)
    first = _by_condition(evaluate_robustness(_NoisyBrightness(), source, progress=False))
    torch.manual_seed(2)
    torch.randn(1000)
    again = _by_condition(evaluate_robustness(_NoisyBrightness(), source, progress=False))
    assert {k: r.correct for k, r in first.items()} == {k: r.correct for k, r in again.items()}
    # a resume that skips the first conditions computes the rest with the same draws
    done = [("model", c, s) for (_, c, s) in list(first)[:2]]
    resumed = _by_condition(evaluate_robustness(_NoisyBrightness(), source, skip=done, progress=False))
    assert resumed and all(r.correct == first[k].correct for k, r in resumed.items())
    # the noise is real: accuracy falls short of the noise-free classifier's
    noise_free = _by_condition(evaluate_robustness(BrightnessClassifier(), source, progress=False))
    assert sum(r.correct for r in first.values()) != sum(r.correct for r in noise_free.values())
