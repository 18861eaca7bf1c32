"""Classification heads: layouts and output shapes of the reference's conv and dense heads."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from v1mtl.models.heads import ConvHead, DenseHead


def test_conv_head_shape_and_layout():
    head = ConvHead(16, 7, hidden=32).eval()
    out = head(torch.randn(3, 16, 2, 2))
    assert out.shape == (3, 7)
    assert [type(m) for m in head] == [
        nn.Conv2d,
        nn.ReLU,
        nn.Dropout,
        nn.Conv2d,
        nn.ReLU,
        nn.Dropout,
        nn.Conv2d,
        nn.AdaptiveMaxPool2d,
        nn.Flatten,
    ]
    assert head[0].kernel_size == (1, 1) and head[6].out_channels == 7


def test_conv_head_global_max_pools_class_maps():
    head = ConvHead(4, 3, hidden=8).eval()
    x = torch.randn(2, 4, 3, 3)
    maps = nn.Sequential(*list(head)[:7])(x)
    assert torch.allclose(head(x), maps.amax(dim=(2, 3)))


def test_conv_head_parameter_count_matches_reference():
    # The reference's conv head on vgg19_bn (512 -> 4096 -> 4096 -> 200) has 19,701,960
    # (neural_cotraining ``models/vgg.py`` create_vgg_readout).
    assert sum(p.numel() for p in ConvHead(512, 200, 4096).parameters()) == 19_701_960


def test_dense_head_flattens_and_uses_torchvision_classifier_keys():
    head = DenseHead(16 * 2 * 2, 5, hidden=12).eval()
    assert head(torch.randn(4, 16, 2, 2)).shape == (4, 5)
    assert list(head.state_dict()) == [f"{i}.{p}" for i in (0, 3, 6) for p in ("weight", "bias")]
    assert torch.all(head[0].bias == 0)
    assert head[0].weight.std().item() < 0.02  # N(0, 0.01)


def test_default_head_init_is_torchvision():
    torch.manual_seed(0)
    default = ConvHead(16, 10, hidden=64)
    torch.manual_seed(0)
    explicit = ConvHead(16, 10, hidden=64, init="torchvision")
    for a, b in zip(default.state_dict().values(), explicit.state_dict().values(), strict=True):
        assert torch.equal(a, b)
    # torchvision's conv init is kaiming fan-out: the last 1x1 conv has std sqrt(2 / n_classes).
    assert abs(default[6].weight.std().item() - (2 / 10) ** 0.5) < 0.1


def test_fan_in_head_init_preserves_forward_scale_and_starts_with_small_logits():
    torch.manual_seed(0)
    for head in (ConvHead(256, 10, hidden=512, init="fan_in"), DenseHead(256, 10, hidden=512, init="fan_in")):
        convs = [m for m in head.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
        for m, fan_in in zip(convs[:2], (256, 512), strict=True):
            assert abs(m.weight.std().item() / (2 / fan_in) ** 0.5 - 1) < 0.05
            assert torch.all(m.bias == 0)
        assert abs(convs[2].weight.std().item() - 0.01) < 0.002
    x = torch.relu(torch.randn(64, 256, 1, 1))
    small = ConvHead(256, 10, hidden=32, init="fan_in").eval()(x)
    large = ConvHead(256, 10, hidden=32).eval()(x)
    assert small.std() < 0.2 < 2 < large.std()


def test_unknown_head_init_is_rejected():
    with pytest.raises(ValueError, match="head init"):
        ConvHead(4, 3, hidden=8, init="xavier")
