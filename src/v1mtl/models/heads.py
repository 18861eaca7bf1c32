"""The two classification heads of the reference (neural_cotraining ``models/vgg.py create_vgg_readout``).

Both are ``nn.Sequential`` so their state_dict keys are plain indices. Layouts:
- ``ConvHead`` (used by the paper's Baseline and MTL models): Conv1x1(in->hidden), ReLU, Dropout,
  Conv1x1(hidden->hidden), ReLU, Dropout, Conv1x1(hidden->classes), AdaptiveMaxPool2d(1), Flatten. It runs
  on the trunk's spatial map (512x2x2 for 64 px input) and global-max-pools the class maps.
- ``DenseHead``: flatten, then Linear(in->hidden), ReLU, Dropout, Linear(hidden->hidden), ReLU, Dropout,
  Linear(hidden->classes): torchvision's ``VGG.classifier`` layout without its 7x7 average pool.
The reference uses ``hidden=4096`` and dropout 0.5. Weights use torchvision's VGG initialization by default
(``init="torchvision"``). ``init="fan_in"`` is an alternative for thin heads (docs/training.md, quick preset):
He fan-in normal for the hidden layers (He et al. 2015, arXiv 1502.01852, forward-variance preserving) and
N(0, 0.01) for the last layer, as torchvision initializes its Linear classifiers. With the torchvision init
the conv head's 1x1 convolutions are kaiming fan-out, so the last one (fan-out = the class count) has std
``sqrt(2 / n_classes)`` and the initial logits are large (std about 14 for a 32-wide head on VGG-11 at
32 px); the resulting first gradient steps kill the head's ReLUs in thin heads.
"""

from __future__ import annotations

import torch
from torch import nn

from v1mtl.models.vgg import init_vgg_weights

HEAD_INITS = ("torchvision", "fan_in")


def init_head_weights(head: nn.Sequential, init: str) -> None:
    """Initialize a head's conv / linear layers in place: ``"torchvision"`` or ``"fan_in"`` (module doc)."""
    if init not in HEAD_INITS:
        raise ValueError(f"unknown head init {init!r}; expected one of {list(HEAD_INITS)}")
    init_vgg_weights(head)
    if init == "torchvision":
        return
    layers = [m for m in head.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    for m in layers[:-1]:
        nn.init.kaiming_normal_(m.weight, mode="fan_in", nonlinearity="relu")
    nn.init.normal_(layers[-1].weight, 0, 0.01)


class ConvHead(nn.Sequential):
    """``(batch, in_ch, h, w)`` -> ``(batch, n_classes)`` logits."""

    def __init__(
        self, in_ch: int, n_classes: int, hidden: int = 4096, dropout: float = 0.5, init: str = "torchvision"
    ):
        super().__init__(
            nn.Conv2d(in_ch, hidden, kernel_size=1),
            nn.ReLU(inplace=True),
            nn.Dropout(dropout),
            nn.Conv2d(hidden, hidden, kernel_size=1),
            nn.ReLU(inplace=True),
            nn.Dropout(dropout),
            nn.Conv2d(hidden, n_classes, kernel_size=1),
            nn.AdaptiveMaxPool2d(1),
            nn.Flatten(),
        )
        init_head_weights(self, init)


class DenseHead(nn.Sequential):
    """``(batch, ...)`` flattened to ``(batch, in_features)`` -> ``(batch, n_classes)`` logits."""

    def __init__(
        self,
        in_features: int,
        n_classes: int,
        hidden: int = 4096,
        dropout: float = 0.5,
        init: str = "torchvision",
    ):
        super().__init__(
            nn.Linear(in_features, hidden),
            nn.ReLU(inplace=True),
            nn.Dropout(dropout),
            nn.Linear(hidden, hidden),
            nn.ReLU(inplace=True),
            nn.Dropout(dropout),
            nn.Linear(hidden, n_classes),
        )
        init_head_weights(self, init)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(torch.flatten(x, 1))
