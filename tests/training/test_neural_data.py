"""The neural task of a run: splits, the test split of the targets, and per-neuron standardized targets."""

from __future__ import annotations

import torch
from train_fixtures import tiny_config, tiny_targets

from v1mtl.training.neural_data import build_neural_task


def test_standardized_targets_have_unit_scale_on_training_trials_and_keep_the_others_aligned():
    targets = tiny_targets(tiny_config("mtl"))
    raw = build_neural_task(targets, mean=0.45, std=0.22)
    scaled = build_neural_task(targets, mean=0.45, std=0.22, standardize=True)
    assert raw.scaling == {} and set(scaled.scaling) == {"s0", "s1"}
    for sid, ds in scaled.train.items():
        assert torch.allclose(ds.responses.mean(0), torch.zeros(5), atol=1e-5)
        assert torch.allclose(ds.responses.std(0, unbiased=False), torch.ones(5), atol=1e-4)
        t = scaled.scaling[sid]
        # validation and test responses go through the training trials' map, not their own
        for split in ("val", "test"):
            a, b = getattr(raw, split)[sid].responses, getattr(scaled, split)[sid].responses
            assert torch.allclose(b, (a - t.mean) / t.std, atol=1e-5)
    assert len(scaled.test["s0"]) == 4  # the targets' test images, with their repeats
