import json

from v1mtl.evaluate.robustness_table import RobustnessRow, write_rows
from v1mtl.study.unit_results import describe


def test_a_training_unit_is_summarized_by_accuracy_and_neural_fit(tmp_path):
    (tmp_path / "final.json").write_text(
        json.dumps({"test_accuracy": 0.543, "val_neural_corr": 0.9491, "under_trained": True})
    )
    assert describe("train", tmp_path) == "test accuracy 54.3%, fit to targets 0.949, under-trained"
    (tmp_path / "final.json").write_text(json.dumps({"test_accuracy": 0.5, "val_neural_corr": None}))
    assert describe("train", tmp_path) == "test accuracy 50.0%"


def test_robustness_and_predictivity_units_are_summarized(tmp_path):
    rows = [
        RobustnessRow("m", "on-the-fly", "cifar", False, "gray", corruption, severity, 10, correct)
        for corruption, severity, correct in (("clean", 0, 5), ("contrast", 1, 4), ("contrast", 2, 2))
    ]
    (tmp_path / "corruptions").mkdir()
    write_rows(rows, tmp_path / "corruptions" / "robustness.csv")
    assert describe("robustness", tmp_path) == "mean corruption accuracy 30.0% (clean 50.0%)"
    (tmp_path / "summary.json").write_text(
        json.dumps({"best": {"feve_mean": 0.2683}, "best_layer": "relu3_1"})
    )
    assert describe("predictivity", tmp_path) == "FEVE 0.268 at relu3_1"
    best = {"feve_mean": 0.2683, "feve_median": 0.21, "n_used": 9, "n_total": 12}
    (tmp_path / "summary.json").write_text(
        json.dumps({"best": best, "best_layer": "relu3_1", "status": "ok"})
    )
    assert describe("predictivity", tmp_path) == "FEVE 0.268 (median 0.210, 9 of 12 neurons) at relu3_1"
    failed = {
        "best": best,
        "best_layer": "relu3_1",
        "status": "failed",
        "failure": "every layer's fit failed",
    }
    (tmp_path / "summary.json").write_text(json.dumps(failed))
    assert describe("predictivity", tmp_path) == "failed: every layer's fit failed"


def test_a_fit_unit_is_summarized_by_its_scores_or_its_failure(tmp_path):
    summary = {"feve_mean": 0.3, "feve_median": None, "test_corr_mean": 0.25, "n_used": 0, "n_total": 4}
    (tmp_path / "summary.json").write_text(json.dumps(summary | {"status": "ok"}))
    assert describe("fit", tmp_path) == "test FEVE 0.300 (median –, 0 of 4 neurons), correlation 0.250"
    failed = summary | {
        "status": "failed",
        "failure": "non-finite training loss in epoch 1",
        "attempts": [{}, {}],
    }
    (tmp_path / "summary.json").write_text(json.dumps(failed))
    assert describe("fit", tmp_path) == "failed after 2 attempts: non-finite training loss in epoch 1"


def test_an_adversarial_unit_is_summarized_by_accuracy_per_norm_and_budget(tmp_path):
    rows = [
        {"norm": norm, "eps": eps, "accuracy": acc}
        for norm, eps, acc in (
            ("l2", 8.0, 0.0),
            ("linf", 0.25, 0.0),
            ("linf", 0.0, 0.537),
            ("l2", 0.0, 0.537),
        )
    ]
    summary = {"rows": rows, "suspect_gradient_masking": False}
    (tmp_path / "adversarial.json").write_text(json.dumps(summary))
    assert describe("adversarial", tmp_path) == "accuracy under PGD L∞ 54% 0%, L2 54% 0%"
    (tmp_path / "adversarial.json").write_text(json.dumps(summary | {"suspect_gradient_masking": True}))
    assert describe("adversarial", tmp_path).endswith("L2 54% 0%, gradient masking suspected")


def test_a_unit_without_readable_results_gets_no_words(tmp_path):
    assert describe("train", tmp_path) == ""  # no final.json
    (tmp_path / "summary.json").write_text("{not json")
    assert describe("fit", tmp_path) == ""
    assert describe("report", tmp_path) == ""  # a stage without a summary
