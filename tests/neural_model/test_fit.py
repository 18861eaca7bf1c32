"""The V1 model fit: it learns, it writes its outputs, it resumes exactly, and a frozen core stays frozen."""

from __future__ import annotations

import csv
import json

import pytest
import torch
import yaml
from v1_fit_helpers import tiny_config

from v1mtl.common.config import config_to_dict
from v1mtl.common.errors import InputError
from v1mtl.models import ModelConfig, build_network
from v1mtl.neural_model import fit_v1_model
from v1mtl.neural_model.checkpoint import load_v1_model
from v1mtl.neural_model.evaluate import SCORE_COLUMNS


def test_fit_improves_validation_correlation_over_init(fitted):
    out, summary = fitted
    history = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert [h["epoch"] for h in history] == list(range(len(history)))
    assert summary["best_val_corr"] > history[0]["val_corr"] + 0.05
    assert summary["test_corr_mean"] > 0.1


def test_fit_writes_scores_summary_model_and_config(fitted, tiny_sim):
    out, summary = fitted
    rows = list(csv.DictReader((out / "scores.csv").open()))
    assert len(rows) == 12 and set(rows[0]) == {"session", "neuron", *SCORE_COLUMNS}
    assert {r["session"] for r in rows} == {"sim00", "sim01"}
    saved = json.loads((out / "summary.json").read_text())
    # the summaries use the reliable neurons (explainable variance above the threshold)
    reliable = [r for r in rows if float(r["explainable_variance"]) > saved["min_explainable_variance"]]
    assert 0 < len(reliable) and saved["n_reliable"] == len(reliable) and saved["n_total"] == 12
    assert saved["noise_ceiling"]["oracle_corr_mean"] == pytest.approx(
        sum(float(r["oracle_corr"]) for r in reliable) / len(reliable)
    )
    assert saved["status"] == "ok" and saved["failure"] is None and len(saved["attempts"]) == 1
    assert "ground_truth" in saved and saved["ground_truth"]["feve_mean"] > saved["feve_mean"] - 0.2
    assert yaml.safe_load((out / "config.yaml").read_text())["data"]["path"] == str(tiny_sim)
    model = load_v1_model(out / "model.pt")
    assert model.sessions == {"sim00": 6, "sim01": 6} and model.input_shape == (1, 16, 16)
    x = torch.randn(3, 1, 16, 16)
    assert torch.equal(model.net(x, "neural", "sim00"), model.net(x, "neural", "sim00"))  # eval mode


def test_finished_run_is_left_alone(fitted, tiny_sim, capsys):
    out, summary = fitted
    before = (out / "model.pt").stat().st_mtime_ns
    again = fit_v1_model(tiny_config(max_epochs=4), tiny_sim, out)
    assert again == json.loads((out / "summary.json").read_text())
    assert (out / "model.pt").stat().st_mtime_ns == before
    assert "already holds a finished run" in capsys.readouterr().out


def test_other_config_in_same_folder_is_an_error(fitted, tiny_sim):
    out, _ = fitted
    with pytest.raises(InputError, match="different config"):
        fit_v1_model(tiny_config(max_epochs=4, lr=1e-3), tiny_sim, out)


def test_resumed_run_equals_uninterrupted_run(tiny_sim, tmp_path):
    fit_v1_model(tiny_config(max_epochs=2), tiny_sim, tmp_path / "whole")
    fit_v1_model(tiny_config(max_epochs=1), tiny_sim, tmp_path / "parts")
    fit_v1_model(tiny_config(max_epochs=2), tiny_sim, tmp_path / "parts")
    whole = torch.load(tmp_path / "whole" / "model.pt", weights_only=True)["state_dict"]
    parts = torch.load(tmp_path / "parts" / "model.pt", weights_only=True)["state_dict"]
    assert whole.keys() == parts.keys()
    assert all(torch.equal(whole[k], parts[k]) for k in whole)
    assert (tmp_path / "whole" / "metrics.jsonl").read_text().count("\n") == 3

    def val_corrs(d):
        return [json.loads(x)["val_corr"] for x in (tmp_path / d / "metrics.jsonl").read_text().splitlines()]

    assert val_corrs("whole") == val_corrs("parts")


def test_frozen_core_keeps_weights_and_batchnorm_statistics(tiny_sim, tmp_path):
    core_cfg = ModelConfig(arch="vgg11", width=0.125, shared_layer="relu2_1")
    torch.manual_seed(3)
    net = build_network(core_cfg, n_classes=3, sessions=None, image_size=32)
    for m in net.shared.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-1, 1)
            m.running_var.uniform_(0.5, 2)
    core = {
        "model_config": config_to_dict(core_cfg),
        "state_dict": net.state_dict(),
        "normalization": {"mean": 0.4, "std": 0.2},
    }
    torch.save(core, tmp_path / "core.pt")
    cfg = tiny_config(max_epochs=2)
    cfg.model.width = 0.5  # trunk settings come from the core, not from here
    out = tmp_path / "frozen"
    fit_v1_model(cfg, tiny_sim, out, core_from=str(tmp_path / "core.pt"), freeze_core=True)
    fitted = torch.load(out / "model.pt", weights_only=True)
    for key, value in net.shared.state_dict().items():
        assert torch.equal(fitted["state_dict"][f"shared.{key}"], value), key
    assert fitted["model_config"]["width"] == 0.125
    assert fitted["stats"] == {"mean": 0.4, "std": 0.2}
    readout_mu = [v for k, v in fitted["state_dict"].items() if k.endswith(".mu")]
    assert readout_mu and all(v.abs().max() <= 1 for v in readout_mu)


def test_unfrozen_core_trains(tiny_sim, tmp_path):
    core_cfg = ModelConfig(arch="vgg11", width=0.125, shared_layer="relu2_1")
    net = build_network(core_cfg, n_classes=3, sessions=None, image_size=32)
    torch.save(
        {"model_config": config_to_dict(core_cfg), "state_dict": net.state_dict()}, tmp_path / "core.pt"
    )
    fit_v1_model(tiny_config(max_epochs=1), tiny_sim, tmp_path / "out", core_from=str(tmp_path / "core.pt"))
    fitted = torch.load(tmp_path / "out" / "model.pt", weights_only=True)["state_dict"]
    assert not torch.equal(fitted["shared.0.weight"], net.state_dict()["shared.0.weight"])


def test_missing_dataset_is_an_error(tmp_path):
    with pytest.raises(InputError, match="data.path"):
        fit_v1_model(tiny_config(), None, tmp_path / "x")
    with pytest.raises(InputError, match="freeze_core"):
        fit_v1_model(tiny_config(), tmp_path, tmp_path / "x", freeze_core=True)


def test_a_restart_removes_what_a_killed_fit_left_half_written(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / ".checkpoint.pt.k1ll3d_x.tmp").write_bytes(b"half a checkpoint")
    (out / "config.yaml").write_text("training: {lr: 2, lr: 3}\n")  # damaged too: the fit stops on it
    with pytest.raises(InputError, match=r"config\.yaml:1:19: duplicate key 'lr'"):
        fit_v1_model(tiny_config(), tmp_path / "dataset", out)
    assert sorted(p.name for p in out.iterdir()) == ["config.yaml"]
