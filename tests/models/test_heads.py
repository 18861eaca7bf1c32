"""Classification heads: layouts and output shapes of the reference's conv and dense heads."""

from __future__ import annotations

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
    # method.md 2.4: the reference's conv head on vgg19_bn (512 -> 4096 -> 4096 -> 200) has 19,701,960.
    assert sum(p.numel() for p in ConvHead(512, 200, 4096).parameters()) == 19_701_960


def test_dense_head_flattens_and_uses_torchvision_classifier_keys():
    head = DenseHead(16 * 2 * 2, 5, hidden=12).eval()
    assert head(torch.randn(4, 16, 2, 2)).shape == (4, 5)
    assert list(head.state_dict()) == [f"{i}.{p}" for i in (0, 3, 6) for p in ("weight", "bias")]
    assert torch.all(head[0].bias == 0)
    assert head[0].weight.std().item() < 0.02  # N(0, 0.01)
