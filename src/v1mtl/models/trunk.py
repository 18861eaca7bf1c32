"""A trained network's VGG trunk cut at one layer, as a frozen feature extractor.

Layers are named as in ``v1mtl.models.vgg.vgg_layer_names`` (``"relu3_1"``) or given as the module count
``k`` of ``features[:k]`` (17 = relu3_1 of vgg19_bn), the convention of ``shared_layer_index``. The trunk
is the network's ``shared`` block followed by its ``unshared`` block; both keep torchvision's indices.
"""

from __future__ import annotations

import torch
from torch import nn

from v1mtl.common.errors import InputError
from v1mtl.models import ModelConfig, MultiTaskNet
from v1mtl.models.vgg import shared_layer_index, vgg_layer_names


class FrozenTrunk(nn.Module):
    """``features[:k]`` of a network in eval mode with no parameter gradients, whatever ``train()`` says.

    Freezing parameters alone would still update BatchNorm running statistics in training mode
    (docs/reference-implementation.md, 'BatchNorm when freezing'), so ``train`` is overridden to keep
    every submodule in eval mode. Input ``(batch, 1 or 3, H, W)``
    (1 channel is repeated to 3, as ``MultiTaskNet`` does) -> ``(batch, c, h, w)`` activations.
    """

    def __init__(self, modules: list[nn.Module], in_channels: int = 3):
        super().__init__()
        self.features = nn.Sequential(*modules)
        self.in_channels = in_channels
        for p in self.features.parameters():
            p.requires_grad_(False)
        super().train(False)

    def train(self, mode: bool = True) -> FrozenTrunk:
        return super().train(False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[1] == 1 and self.in_channels != 1:
            x = x.expand(-1, self.in_channels, -1, -1)
        return self.features(x)


def trunk_modules(net: MultiTaskNet) -> list[nn.Module]:
    """The network's VGG ``features`` in order: ``shared`` then ``unshared`` (if any)."""
    modules = list(net.shared)
    if net.unshared is not None:
        modules += list(net.unshared)
    return modules


def parse_layer(text: str) -> str | int:
    """A command-line layer: digits give the module count ``k``, anything else a layer name."""
    return int(text) if text.strip().isdigit() else text.strip()


def resolve_layer(net: MultiTaskNet, model_cfg: ModelConfig, layer: str | int) -> tuple[int, str]:
    """``(k, name)`` of ``layer``: the trunk is ``features[:k]`` and its last module is ``name``."""
    names = vgg_layer_names(model_cfg.arch, model_cfg.batch_norm)
    available = len(trunk_modules(net))
    try:
        k = shared_layer_index(model_cfg.arch, model_cfg.batch_norm, layer)
    except ValueError as err:
        raise InputError(str(err), field="layers") from None
    if k > available:
        raise InputError(
            f"layer {layer!r} (features[:{k}]) is beyond this network's trunk of {available} modules "
            f"(last: {names[available - 1]})",
            field="layers",
        )
    return k, names[k - 1]


def frozen_trunk(net: MultiTaskNet, model_cfg: ModelConfig, layer: str | int) -> tuple[FrozenTrunk, int, str]:
    """``(extractor, k, name)``: the trunk ``features[:k]`` up to ``layer`` as a ``FrozenTrunk``.

    The extractor shares its modules with ``net`` (no copy); ``net``'s parameters are frozen too.
    """
    k, name = resolve_layer(net, model_cfg, layer)
    return FrozenTrunk(trunk_modules(net)[:k], in_channels=net.in_channels), k, name
