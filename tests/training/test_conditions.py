"""Every condition trains end to end on tiny data; targets that do not match the condition are refused."""

from __future__ import annotations

import json

import pytest
import torch
from train_fixtures import tiny_config

from v1mtl.common.errors import InputError
from v1mtl.neural_model import predict_targets
from v1mtl.simulator import SimulationConfig, simulate_to_folder
from v1mtl.training import train
from v1mtl.training.checkpoint import NETWORK_KIND, load_trained_network, read_checkpoint

ONE_EPOCH = "schedule.max_epochs=1"


@pytest.fixture(scope="module")
def targets(tmp_path_factory):
    """A tiny simulated V1 dataset and its noise-free targets on the tiny built-in images, per control."""
    root = tmp_path_factory.mktemp("targets")
    v1 = root / "v1"
    simulate_to_folder(
        SimulationConfig(neurons=4, sessions=2, images=120, test_images=4, repeats=2, image_size=32),
        v1,
        progress=False,
    )
    cfg = tiny_config()
    out = {"v1": v1}
    for control in (None, "shuffled", "random"):
        folder = root / f"targets-{control or 'none'}"
        predict_targets(
            v1,
            "builtin",
            folder,
            control=control,
            image_size=cfg.data.image_size,
            builtin_counts=tuple(cfg.data.builtin_counts),
            progress=False,
        )
        out[control or "none"] = folder
    return out


@pytest.mark.slow
def test_every_condition_trains(tmp_path, targets):
    runs = {
        "baseline": [],
        "noise-augmented": [],
        "mtl": [f"neural.targets={targets['none']}"],
        "mtl-shuffled": [f"neural.targets={targets['shuffled']}"],
        "mtl-random": [
            f"neural.targets={targets['random']}",
            "neural.loss=poisson",
            "neural.weighting=fixed",
        ],
    }
    for condition, extra in runs.items():
        result = train(tiny_config(condition, ONE_EPOCH, *extra), tmp_path / condition)
        assert result["condition"] == condition and 0 <= result["test_accuracy"] <= 1
        records = [
            json.loads(line) for line in (tmp_path / condition / "metrics.jsonl").read_text().splitlines()
        ]
        assert len(records) == 1
        assert ("train_neural_loss" in records[0]) == condition.startswith("mtl")
        assert ("weight_neural" in records[0]) == (condition in ("mtl", "mtl-shuffled"))

    oracle = tiny_config(
        "mtl-oracle",
        ONE_EPOCH,
        f"oracle.checkpoint={tmp_path / 'noise-augmented'}",
        f"oracle.v1_dataset={targets['v1']}",
        "oracle.fit_overrides=[training.max_epochs=1, data.batch_size=32, progress=false]",
    )
    result = train(oracle, tmp_path / "mtl-oracle")
    assert result["condition"] == "mtl-oracle"
    folder = tmp_path / "mtl-oracle" / "oracle"
    assert (folder / "v1_model" / "model.pt").is_file() and (folder / "targets" / "manifest.json").is_file()
    net, cfg, extras = load_trained_network(tmp_path / "mtl-oracle")
    assert cfg.condition == "mtl-oracle" and set(extras["sessions"]) and net.readouts is not None
    # The Oracle's readouts read its frozen shared block: the V1 model's trunk equals the noise-augmented one.
    fitted = load_trained_network(tmp_path / "noise-augmented")[0].shared.state_dict()
    v1_state = torch.load(folder / "v1_model" / "model.pt", weights_only=True)["state_dict"]
    for key, value in fitted.items():
        assert torch.equal(v1_state[f"shared.{key}"], value)


def test_targets_must_match_condition(tmp_path, targets):
    with pytest.raises(InputError, match="'shuffled' targets but condition 'mtl'"):
        train(tiny_config("mtl", ONE_EPOCH, f"neural.targets={targets['shuffled']}"), tmp_path / "a")
    with pytest.raises(InputError, match="predicted on 32 px images"):
        train(
            tiny_config("mtl-random", ONE_EPOCH, f"neural.targets={targets['random']}", "data.image_size=64"),
            tmp_path / "b",
        )
    with pytest.raises(InputError, match="must be a noise-augmented run"):
        train(tiny_config("baseline", ONE_EPOCH), tmp_path / "base")
        train(
            tiny_config(
                "mtl-oracle",
                ONE_EPOCH,
                f"oracle.checkpoint={tmp_path / 'base'}",
                f"oracle.v1_dataset={targets['v1']}",
            ),
            tmp_path / "c",
        )


def test_pixel_similarity_co_trains_without_v1_data(tmp_path):
    run = tmp_path / "pixel-similarity"
    result = train(tiny_config("pixel-similarity"), run)
    assert result["condition"] == "pixel-similarity" and result["val_neural_corr"] is None
    records = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in records] == [1, 2, 3]
    assert all("train_neural_loss" not in r and "weight_neural" not in r for r in records)
    assert all("weight_similarity" in r for r in records)  # Kendall weighting, as the MTL default
    losses = [r["train_similarity_loss"] for r in records]
    # the same 192 images every epoch: the trunk learns their pixel similarities
    assert losses[-1] < 0.9 * losses[0], losses
    assert not (run / "oracle").exists()
    net, cfg, extras = load_trained_network(run)
    assert cfg.condition == "pixel-similarity" and net.readouts is None and not extras["sessions"]
    saved = read_checkpoint(run / "best.pt", NETWORK_KIND)
    assert set(saved["loss_weights"]) == {"classification.log_weight", "similarity.log_weight"}
    for key, value in net.state_dict().items():
        assert torch.equal(saved["state_dict"][key], value)


def test_vone_trains_classification_only_behind_a_voneblock_and_loads_as_it_trained(tmp_path):
    run = tmp_path / "vone"
    cfg = tiny_config("vone", "model.vone.simple_channels=4", "model.vone.complex_channels=4", ONE_EPOCH)
    result = train(cfg, run)
    assert result["condition"] == "vone" and result["val_neural_corr"] is None
    # the condition sets the front end, and the saved config says so
    assert "front_end: vone" in (run / "config.yaml").read_text()
    net, loaded_cfg, _ = load_trained_network(run)
    assert loaded_cfg.model.front_end == "vone" and net.readouts is None and net.stochastic
    saved = read_checkpoint(run / "best.pt", NETWORK_KIND)
    assert torch.equal(saved["state_dict"]["shared.0.block.weight"], net.shared[0].block.weight)
