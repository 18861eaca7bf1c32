"""VGG trunks: torchvision layout, layer names, width multiplier, initialization.

``torchvision_vgg_keys.json`` lists the state_dict key names and shapes of torchvision's ``vgg19_bn()`` and
``vgg11()``, written out from torchvision's published definition (``torchvision/models/vgg.py``: cfgs E/A,
``make_layers``, ``VGG.classifier``) because the CPU torch pinned here has no importable torchvision
(every torchvision 0.28 wheel for torch 2.13 is CUDA-linked).
The parameter count of vgg19_bn's features (20,035,392) is an independent check: with the conv head's
19,701,960 it gives the 39,737,352 parameters that the demo notebook of sinzlab/reconstruction prints for
the reference's Baseline.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from torch import nn

from v1mtl.models.vgg import make_features, shared_layer_index, vgg_layer_names

FIXTURE = json.loads((Path(__file__).parent / "torchvision_vgg_keys.json").read_text())


@pytest.mark.parametrize(("arch", "bn", "name"), [("vgg19", True, "vgg19_bn"), ("vgg11", False, "vgg11")])
def test_state_dict_keys_and_shapes_match_torchvision(arch, bn, name):
    expected = [(k.removeprefix("features."), s) for k, s in FIXTURE[name] if k.startswith("features.")]
    got = [(k, list(v.shape)) for k, v in make_features(arch, bn).state_dict().items()]
    assert got == expected


def test_torchvision_layout_state_dict_loads_strictly():
    features = make_features("vgg19", True)
    tv = {
        k.removeprefix("features."): torch.full(s, 0.5)
        for k, s in FIXTURE["vgg19_bn"]
        if k.startswith("features.")
    }
    tv = {k: v.long() if k.endswith("num_batches_tracked") else v for k, v in tv.items()}
    features.load_state_dict(tv, strict=True)
    assert torch.all(features[0].weight == 0.5)


def test_vgg19_bn_features_parameter_count_matches_reference():
    features = make_features("vgg19", True)
    assert sum(p.numel() for p in features.parameters()) == 20_035_392


def test_first_17_modules_are_conv1_1_to_relu3_1():
    features = make_features("vgg19", True)
    names = vgg_layer_names("vgg19", True)
    assert len(names) == len(features) == 53
    assert shared_layer_index("vgg19", True, "relu3_1") == 17
    assert names[:17][0] == "conv1_1" and names[16] == "relu3_1" and names[14] == "conv3_1"
    block = features[:17]
    kinds = [type(m) for m in block]
    assert kinds.count(nn.Conv2d) == 5 and kinds.count(nn.MaxPool2d) == 2
    assert isinstance(block[16], nn.ReLU) and isinstance(block[14], nn.Conv2d)
    assert block[14].in_channels == 128 and block[14].out_channels == 256
    out = block.eval()(torch.randn(2, 3, 64, 64))
    assert out.shape == (2, 256, 16, 16)
    assert (out >= 0).all()  # post-ReLU


def test_layer_names_without_batch_norm():
    names = vgg_layer_names("vgg11", False)
    assert names[:4] == ["conv1_1", "relu1_1", "pool1", "conv2_1"]
    assert names[-1] == "pool5"
    assert shared_layer_index("vgg11", False, "pool2") == 6
    assert shared_layer_index("vgg11", False, 6) == 6
    with pytest.raises(ValueError, match="bn1_1"):
        shared_layer_index("vgg11", False, "bn1_1")
    with pytest.raises(ValueError, match="outside"):
        shared_layer_index("vgg11", False, 99)


@pytest.mark.parametrize("arch", ["vgg11", "vgg13", "vgg16", "vgg19"])
def test_every_depth_ends_at_one_thirty_second(arch):
    out = make_features(arch, True, width=0.125).eval()(torch.zeros(1, 3, 64, 64))
    assert out.shape == (1, 64, 2, 2)


def test_width_multiplier_scales_every_conv():
    full = [m.out_channels for m in make_features("vgg16", True) if isinstance(m, nn.Conv2d)]
    quarter = make_features("vgg16", True, width=0.25)
    convs = [m for m in quarter if isinstance(m, nn.Conv2d)]
    assert [c.out_channels for c in convs] == [c // 4 for c in full]
    assert [c.in_channels for c in convs[1:]] == [c.out_channels for c in convs[:-1]]
    bns = [m.num_features for m in quarter if isinstance(m, nn.BatchNorm2d)]
    assert bns == [c.out_channels for c in convs]
    with pytest.raises(ValueError):
        make_features("vgg16", True, width=0)


def test_initialization_is_torchvision_convention():
    torch.manual_seed(0)
    features = make_features("vgg19", True)
    conv = features[17]  # conv3_2: 256 -> 256, fan_out = 256 * 9
    assert torch.all(conv.bias == 0)
    expected_std = (2.0 / (256 * 9)) ** 0.5
    assert conv.weight.std().item() == pytest.approx(expected_std, rel=0.05)
    bn = features[1]
    assert torch.all(bn.weight == 1) and torch.all(bn.bias == 0)


def test_unknown_arch_is_an_error():
    with pytest.raises(ValueError, match="vgg12"):
        make_features("vgg12", True)
