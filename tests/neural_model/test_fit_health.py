"""When a readout fit counts as failed, and what a failed fit does: retry at a smaller learning rate, then say
so in its summary."""

from __future__ import annotations

import json

import pytest
from v1_fit_helpers import tiny_config

from v1mtl.neural_model import fit as fit_module
from v1mtl.neural_model import fit_v1_model
from v1mtl.neural_model.fit_health import PREDICTION_FACTOR, fit_failure

RISING = [{"epoch": 0, "val_corr": 0.1}, {"epoch": 1, "train_loss": 3.0, "val_corr": 0.3}]


def test_a_fit_that_improved_within_range_has_not_failed():
    assert fit_failure(RISING, prediction_peak=5.0, response_peak=5.0) is None


@pytest.mark.parametrize(
    ("history", "peak", "words"),
    [
        (
            RISING[:1] + [{"epoch": 1, "train_loss": float("nan"), "val_corr": 0.3}],
            1.0,
            "non-finite training loss",
        ),
        (RISING, float("inf"), "non-finite predictions"),
        (RISING, 1.01 * PREDICTION_FACTOR * 5.0, "more than 10x the largest response"),
        (RISING[:1] + [{"epoch": 1, "train_loss": 3.0, "val_corr": 0.1}], 1.0, "not above its start"),
        (
            RISING[:1] + [{"epoch": 1, "train_loss": 3.0, "val_corr": float("nan")}],
            1.0,
            "no finite validation",
        ),
    ],
)
def test_each_sign_of_a_failed_fit_is_named(history, peak, words):
    assert words in fit_failure(history, prediction_peak=peak, response_peak=5.0)


def test_a_failed_fit_is_retried_at_a_smaller_learning_rate(tiny_sim, tmp_path, monkeypatch):
    calls = []

    def first_attempt_fails(history, peak, response):
        calls.append(history)
        return "made to fail" if len(calls) == 1 else None

    monkeypatch.setattr(fit_module, "fit_failure", first_attempt_fails)
    cfg = tiny_config(max_epochs=1)
    out = tmp_path / "fit"
    summary = fit_v1_model(cfg, tiny_sim, out)
    assert summary["status"] == "ok" and summary["failure"] is None
    first, second = summary["attempts"]
    assert first == {"lr": cfg.training.lr, "failure": "made to fail", "folder": "failed-1"}
    assert second["lr"] == pytest.approx(cfg.training.lr * cfg.training.retry_lr_factor)
    # the failed attempt's files are kept aside; the folder holds the retry's
    assert (out / "failed-1" / "model.pt").is_file() and (out / "failed-1" / "scores.csv").is_file()
    assert json.loads((out / "summary.json").read_text()) == summary
    # a finished run with a retry is left alone when run again
    assert fit_v1_model(cfg, tiny_sim, out)["attempts"] == summary["attempts"]
    assert len(calls) == 2


def test_a_fit_that_keeps_failing_is_marked_failed(tiny_sim, tmp_path, monkeypatch):
    monkeypatch.setattr(fit_module, "fit_failure", lambda history, peak, response: "made to fail")
    cfg = tiny_config(max_epochs=1, retries=2)
    summary = fit_v1_model(cfg, tiny_sim, tmp_path / "fit")
    assert summary["status"] == "failed" and summary["failure"] == "made to fail"
    assert [a["folder"] for a in summary["attempts"]] == ["failed-1", "failed-2", "."]
    assert summary["attempts"][2]["lr"] == pytest.approx(cfg.training.lr * cfg.training.retry_lr_factor**2)


def test_a_diverging_fit_is_caught(tiny_sim, tmp_path):
    # a learning rate no Poisson readout survives: the health check, not the score, must say what happened
    summary = fit_v1_model(tiny_config(max_epochs=2, lr=1e6, retries=0), tiny_sim, tmp_path / "fit")
    assert summary["status"] == "failed" and summary["failure"]


def test_more_retries_continue_a_fit_that_failed(tiny_sim, tmp_path, monkeypatch):
    outcomes = iter(["made to fail", None])
    monkeypatch.setattr(fit_module, "fit_failure", lambda history, peak, response: next(outcomes))
    out = tmp_path / "fit"
    assert fit_v1_model(tiny_config(max_epochs=1, retries=0), tiny_sim, out)["status"] == "failed"
    again = fit_v1_model(tiny_config(max_epochs=1, retries=1), tiny_sim, out)
    assert again["status"] == "ok" and [a["folder"] for a in again["attempts"]] == ["failed-1", "."]
