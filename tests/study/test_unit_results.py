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
