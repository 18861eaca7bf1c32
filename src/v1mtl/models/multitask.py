"""The multi-task network: a VGG trunk shared up to one layer, a classification branch and a neural branch.

Layout (neural_cotraining ``models/mtl_vgg.py``): ``shared = features[:k]`` feeds both the
rest of the trunk ``unshared = features[k:]`` followed by the classification ``classifier`` head, and one
Gaussian readout per recording session (``readouts``). The single-task V1 model is the same network with no
classification branch (``unshared`` and ``classifier`` are None). Slicing an ``nn.Sequential`` keeps its
indices, so ``shared.16`` and ``unshared.17`` are torchvision's ``features.16`` and ``features.17``.
"""

from __future__ import annotations

import torch
from torch import nn

from v1mtl.models.readouts import SessionReadouts


class MultiTaskNet(nn.Module):
    """Shared trunk + classification branch + per-session neural readouts.

    Args:
        shared: ``features[:k]``; maps ``(batch, in_channels, H, W)`` to the shared feature map.
        unshared: ``features[k:]``, or None for a network without a classification branch.
        classifier: classification head on ``unshared``'s output, or None.
        readouts: the neural head on ``shared``'s output, or None for a classification-only network.
        in_channels: channels the trunk expects; 1-channel input is expanded to this many identical copies.
    """

    def __init__(
        self,
        shared: nn.Sequential,
        unshared: nn.Sequential | None,
        classifier: nn.Module | None,
        readouts: SessionReadouts | None,
        in_channels: int = 3,
    ):
        super().__init__()
        if (unshared is None) != (classifier is None):
            raise ValueError("unshared and classifier must both be given or both be None")
        if classifier is None and readouts is None:
            raise ValueError("a network needs a classification head, a neural head, or both")
        self.shared = shared
        self.unshared = unshared
        self.classifier = classifier
        self.readouts = readouts
        self.in_channels = int(in_channels)

    @property
    def stochastic(self) -> bool:
        """Whether a forward pass draws noise (a VOneBlock front end with its noise on): attacks then
        average over draws, and evaluations seed torch's generator to repeat."""
        return any(getattr(m, "stochastic", False) for m in self.modules() if m is not self)

    def expand_channels(self, x: torch.Tensor) -> torch.Tensor:
        """``(batch, 1, H, W)`` -> ``(batch, in_channels, H, W)`` (a view, as the reference's ``x.expand``)."""
        if x.shape[1] == 1 and self.in_channels != 1:
            return x.expand(-1, self.in_channels, -1, -1)
        return x

    def shared_features(self, x: torch.Tensor) -> torch.Tensor:
        """``(batch, 1 or in_channels, H, W)`` -> the shared feature map ``(batch, c, h, w)``."""
        return self.shared(self.expand_channels(x))

    def forward(
        self,
        x: torch.Tensor,
        task: str = "classification",
        session: str | None = None,
    ) -> torch.Tensor:
        """``task="classification"``: ``(batch, n_classes)`` logits; ``task="neural"``: ``(batch, neurons)``
        predicted responses of ``session`` (all > 0)."""
        if task == "classification":
            if self.classifier is None:
                raise ValueError("this network has no classification branch")
            return self.classifier(self.unshared(self.shared_features(x)))
        if task == "neural":
            if self.readouts is None:
                raise ValueError("this network has no neural readouts")
            if session is None:
                raise ValueError("task='neural' needs a session id")
            return self.readouts(self.shared_features(x), session)
        raise ValueError(f"unknown task {task!r}; expected 'classification' or 'neural'")
