"""Comparing two study folders: timings, bookkeeping and the folders' own paths aside, every number counts."""

import json

import torch

from v1mtl.study.compare import differences


def _study(root, accuracy, weight):
    run = root / "train" / "mtl-s0"
    run.mkdir(parents=True)
    final = {"test_accuracy": accuracy, "train_time_s": float(len(str(root))), "dir": str(run)}
    (run / "final.json").write_text(json.dumps(final))
    (run / "metrics.jsonl").write_text(json.dumps({"epoch": 1, "epoch_time_s": 0.1 * len(str(root))}) + "\n")
    (run / ".done.json").write_text(json.dumps({"run": str(root)}))
    state = {"state_dict": {"w": torch.tensor([weight])}, "optimizer": {"state": {}}, "epoch": 1}
    torch.save(state, run / "last.pt")


def test_only_results_count(tmp_path):
    _study(tmp_path / "a", 0.5, 1.0)
    _study(tmp_path / "bb", 0.5, 1.0)
    assert differences(tmp_path / "a", tmp_path / "bb") == []
    _study(tmp_path / "c", 0.25, 1.0 + 1e-7)
    assert differences(tmp_path / "a", tmp_path / "c") == ["train/mtl-s0/final.json", "train/mtl-s0/last.pt"]


def test_outputs_moved_aside_when_a_unit_ran_again_do_not_count(tmp_path):
    _study(tmp_path / "a", 0.5, 1.0)
    _study(tmp_path / "b", 0.5, 1.0)
    _study(tmp_path / "old", 0.25, 2.0)
    (tmp_path / "old" / "train" / "mtl-s0").rename(
        tmp_path / "b" / "train" / "mtl-s0.replaced-20250101-000000"
    )
    assert differences(tmp_path / "a", tmp_path / "b") == []
