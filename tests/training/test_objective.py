"""Loss weighting of the co-training objective: values and gradients of the learned weights."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from v1mtl.models import ModelConfig, build_network
from v1mtl.training.objective import CoTrainingObjective
from v1mtl.training.pixel_similarity import similarity_matching_loss, similarity_matrix


def _net():
    torch.manual_seed(0)
    cfg = ModelConfig(arch="vgg11", width=0.0625, hidden=8)
    return build_network(cfg, n_classes=3, sessions={"a": 4}, image_size=32)


def test_learned_weights_values_and_gradients():
    obj = CoTrainingObjective(_net(), "learned", "mse")
    with torch.no_grad():
        obj.loss_weights["classification"].log_weight.fill_(0.3)
        obj.loss_weights["neural"].log_weight.fill_(-0.2)
    x, y = torch.randn(4, 1, 32, 32), torch.tensor([0, 1, 2, 0])
    loss, raw, logits = obj(x, y, "classification")
    assert torch.allclose(raw, F.cross_entropy(logits, y))
    assert torch.allclose(loss, math.exp(-0.3) * raw + 0.15)
    loss.backward()
    # d/ds [exp(-s) CE + s/2] = -exp(-s) CE + 1/2
    g = obj.loss_weights["classification"].log_weight.grad
    assert torch.allclose(g, -math.exp(-0.3) * raw.detach() + 0.5)
    assert obj.loss_weights["neural"].log_weight.grad is None

    target = torch.rand(4, 4)
    mask = torch.ones(4, 4, dtype=torch.bool)
    mask[0, 0] = False
    loss, raw, pred = obj(x, target, "neural", "a", mask)
    mse = ((pred - target)[mask] ** 2).mean()
    assert torch.allclose(raw, mse)
    assert torch.allclose(loss, 0.5 * math.exp(0.2) * mse - 0.1)
    loss.backward()
    g = obj.loss_weights["neural"].log_weight.grad
    assert torch.allclose(g, -0.5 * math.exp(0.2) * mse.detach() + 0.5)


def test_fixed_and_unweighted():
    x, y = torch.randn(2, 1, 32, 32), torch.tensor([1, 2])
    obj = CoTrainingObjective(_net(), "fixed", "poisson", {"classification": 2.0, "neural": 0.5})
    assert len(list(obj.loss_weights.parameters())) == 0
    loss, raw, _ = obj(x, y, "classification")
    assert torch.allclose(loss, 2 * raw)
    target = torch.rand(2, 4)
    loss, raw, pred = obj(x, target, "neural", "a")
    poisson = (pred - target * torch.log(pred + 1e-12)).mean()
    assert torch.allclose(raw, poisson) and torch.allclose(loss, 0.5 * raw)
    obj = CoTrainingObjective(_net(), "none")
    loss, raw, _ = obj(x, y, "classification")
    assert loss is raw


def test_learned_neural_weights_only_the_neural_loss():
    obj = CoTrainingObjective(_net(), "learned-neural", "mse")
    assert set(obj.loss_weights) == {"neural"}
    x, y = torch.randn(4, 1, 32, 32), torch.tensor([0, 1, 2, 0])
    loss, raw, _ = obj(x, y, "classification")
    assert loss is raw  # classification weight fixed at 1
    with torch.no_grad():
        obj.loss_weights["neural"].log_weight.fill_(1.5)
    target = torch.rand(4, 4)
    loss, raw, _ = obj(x, target, "neural", "a")
    assert torch.allclose(loss, 0.5 * math.exp(-1.5) * raw + 0.75)


def test_the_similarity_task_takes_the_neural_tasks_place():
    torch.manual_seed(0)
    cfg = ModelConfig(arch="vgg11", width=0.0625, hidden=8)
    net = build_network(cfg, n_classes=3, sessions=None, image_size=32)
    obj = CoTrainingObjective(net, "learned", auxiliary="similarity")
    assert set(obj.loss_weights) == {"classification", "similarity"}
    with torch.no_grad():
        obj.loss_weights["similarity"].log_weight.fill_(0.4)
    x = torch.randn(6, 1, 32, 32)
    target = similarity_matrix(x)
    loss, raw, out = obj(x, target, "similarity")
    assert torch.allclose(out, similarity_matrix(net.shared_features(x)))
    assert torch.allclose(raw, similarity_matching_loss(out, target))
    # a squared difference, weighted in the MSE's Gaussian form
    assert torch.allclose(loss, 0.5 * math.exp(-0.4) * raw + 0.2)
    loss.backward()
    assert net.shared[0].weight.grad is not None and net.classifier is not None
    assert all(p.grad is None for p in net.classifier.parameters())
    with pytest.raises(ValueError, match="trains 'similarity', not 'neural'"):
        obj(x, torch.rand(6, 4), "neural", "a")
    # the auxiliary task's fixed weight is the one the config calls neural
    fixed = CoTrainingObjective(
        net, "fixed", fixed_weights={"classification": 1.0, "neural": 3.0}, auxiliary="similarity"
    )
    loss, raw, _ = fixed(x, target, "similarity")
    assert torch.allclose(loss, 3 * raw)
