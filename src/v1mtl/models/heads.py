"""The two classification heads of the reference (neural_cotraining ``models/vgg.py create_vgg_readout``).

Both are ``nn.Sequential`` so their state_dict keys are plain indices. Layouts (method.md 2.4):
- ``ConvHead`` (used by the paper's Baseline and MTL models): Conv1x1(in->hidden), ReLU, Dropout,
  Conv1x1(hidden->hidden), ReLU, Dropout, Conv1x1(hidden->classes), AdaptiveMaxPool2d(1), Flatten. It runs
  on the trunk's spatial map (512x2x2 for 64 px input) and global-max-pools the class maps.
- ``DenseHead``: flatten, then Linear(in->hidden), ReLU, Dropout, Linear(hidden->hidden), ReLU, Dropout,
  Linear(hidden->classes): torchvision's ``VGG.classifier`` layout without its 7x7 average pool.
The reference uses ``hidden=4096`` and dropout 0.5. Weights use torchvision's VGG initialization.
"""

from __future__ import annotations

import torch
from torch import nn

from v1mtl.models.vgg import init_vgg_weights


class ConvHead(nn.Sequential):
    """``(batch, in_ch, h, w)`` -> ``(batch, n_classes)`` logits."""

    def __init__(self, in_ch: int, n_classes: int, hidden: int = 4096, dropout: float = 0.5):
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
        init_vgg_weights(self)


class DenseHead(nn.Sequential):
    """``(batch, ...)`` flattened to ``(batch, in_features)`` -> ``(batch, n_classes)`` logits."""

    def __init__(self, in_features: int, n_classes: int, hidden: int = 4096, dropout: float = 0.5):
        super().__init__(
            nn.Linear(in_features, hidden),
            nn.ReLU(inplace=True),
            nn.Dropout(dropout),
            nn.Linear(hidden, hidden),
            nn.ReLU(inplace=True),
            nn.Dropout(dropout),
            nn.Linear(hidden, n_classes),
        )
        init_vgg_weights(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(torch.flatten(x, 1))
