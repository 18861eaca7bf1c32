"""The multi-task network and its factory: split point, channel expansion, branches, readout input shape."""

from __future__ import annotations

import pytest
import torch

from v1mtl.models import ModelConfig, build_network
from v1mtl.models.heads import ConvHead, DenseHead

SMALL = dict(arch="vgg11", batch_norm=True, width=0.125, hidden=32, shared_layer="relu2_1")


def test_split_keeps_torchvision_indices_and_shapes():
    net = build_network(ModelConfig(**SMALL), n_classes=5, sessions={"s": 4}, image_size=32)
    assert list(net.shared._modules) == [str(i) for i in range(7)]
    assert list(net.unshared._modules)[0] == "7"
    assert net.readouts.in_shape == (16, 16, 16)  # relu2_1 at width 1/8: 128/8 channels, 1/2 resolution
    assert isinstance(net.classifier, ConvHead)
    assert net.classifier[0].out_channels == 4  # hidden 32 scaled by the width 1/8


def test_default_network_matches_reference_shapes():
    cfg = ModelConfig(width=0.125)
    net = build_network(cfg, n_classes=200, sessions={"s": 3}, image_size=64).eval()
    x = torch.randn(2, 1, 64, 64)
    assert net.shared_features(x).shape == (2, 32, 16, 16)  # 256/8 channels at 16x16 (vgg19_bn features[:17])
    assert net.unshared(net.shared_features(x)).shape == (2, 64, 2, 2)
    assert net(x).shape == (2, 200)


def test_one_channel_input_equals_three_identical_channels():
    net = build_network(ModelConfig(**SMALL), n_classes=5, sessions={"s": 4}, image_size=32).eval()
    x = torch.randn(3, 1, 32, 32)
    x3 = x.repeat(1, 3, 1, 1)
    assert torch.allclose(net(x), net(x3))
    assert torch.allclose(net(x, "neural", "s"), net(x3, "neural", "s"))


def test_neural_and_classification_branches():
    net = build_network(
        ModelConfig(**SMALL, head="dense"), n_classes=5, sessions={"a": 4, "b": 2}, image_size=32
    )
    net.eval()
    x = torch.randn(2, 1, 32, 32)
    assert isinstance(net.classifier, DenseHead)
    assert net(x, "classification").shape == (2, 5)
    assert net(x, "neural", "b").shape == (2, 2)
    assert torch.all(net(x, "neural", "a") > 0)
    with pytest.raises(ValueError, match="session"):
        net(x, "neural")
    with pytest.raises(ValueError, match="task"):
        net(x, "segmentation")


def test_v1_model_has_no_classification_branch_and_own_neural_size():
    net = build_network(
        ModelConfig(**SMALL), n_classes=None, sessions={"s": 4}, image_size=32, neural_image_size=40
    )
    assert net.unshared is None and net.classifier is None
    assert net.readouts.in_shape == (16, 20, 20)
    with pytest.raises(ValueError, match="classification"):
        net(torch.randn(1, 1, 40, 40))


def test_integer_shared_layer_and_config_errors():
    net = build_network(
        ModelConfig(**{**SMALL, "shared_layer": 3}), n_classes=2, sessions=None, image_size=32
    )
    assert len(net.shared) == 3 and net.readouts is None
    with pytest.raises(ValueError, match="model.shared_layer"):
        build_network(ModelConfig(shared_layer="relu9_9"), n_classes=2, sessions=None, image_size=32)
    with pytest.raises(ValueError, match="model.head"):
        build_network(ModelConfig(head="mlp"), n_classes=2, sessions=None, image_size=32)


def test_too_small_classification_input_is_a_clear_error():
    with pytest.raises(ValueError, match="too small"):
        build_network(ModelConfig(**SMALL), n_classes=2, sessions=None, image_size=16)


def test_head_init_reaches_the_head_and_is_validated():
    torch.manual_seed(0)
    for head in ("conv", "dense"):
        cfg = ModelConfig(**{**SMALL, "head": head, "head_init": "fan_in", "hidden": 256})
        last = build_network(cfg, n_classes=10, sessions=None, image_size=32).classifier[6]
        assert abs(last.weight.std().item() - 0.01) < 0.003
    ref = build_network(ModelConfig(**SMALL, head="conv"), n_classes=10, sessions=None, image_size=32)
    assert ref.classifier[6].weight.std().item() > 0.1  # torchvision fan-out: sqrt(2 / 10)
    with pytest.raises(ValueError, match="model.head_init"):
        build_network(ModelConfig(head_init="xavier"), n_classes=2, sessions=None, image_size=32)
