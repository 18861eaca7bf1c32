import json

from v1mtl.study.unit_results import describe


def test_a_training_unit_is_summarized_by_accuracy_and_neural_fit(tmp_path):
    (tmp_path / "final.json").write_text(
        json.dumps({"test_accuracy": 0.543, "val_neural_corr": 0.9491, "under_trained": True})
    )
    assert describe("train", tmp_path) == "test accuracy 54.3%, fit to targets 0.949, under-trained"
    (tmp_path / "final.json").write_text(json.dumps({"test_accuracy": 0.5, "val_neural_corr": None}))
    assert describe("train", tmp_path) == "test accuracy 50.0%"


def test_robustness_and_predictivity_units_are_summarized(tmp_path):
    (tmp_path / "corruptions").mkdir()
    (tmp_path / "corruptions" / "robustness.csv").write_text(
        "corruption,severity,accuracy\nclean,0,0.5\ncontrast,1,0.4\ncontrast,2,0.2\n"
    )
    assert describe("robustness", tmp_path) == "mean corruption accuracy 30.0% (clean 50.0%)"
    (tmp_path / "summary.json").write_text(
        json.dumps({"best": {"feve_mean": 0.2683}, "best_layer": "relu3_1"})
    )
    assert describe("predictivity", tmp_path) == "FEVE 0.268 at relu3_1"


def test_a_unit_without_readable_results_gets_no_words(tmp_path):
    assert describe("train", tmp_path) == ""  # no final.json
    (tmp_path / "summary.json").write_text("{not json")
    assert describe("fit", tmp_path) == ""
    assert describe("report", tmp_path) == ""  # a stage without a summary
