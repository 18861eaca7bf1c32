"""One Gaussian readout per recording session, as the reference's ``MultipleGaussian2d`` (method.md 2.3).

Each session gets a ``neuralpredictors.layers.readouts.Gaussian2d``. Its semantics match the legacy readout
the reference used (neuralpredictors ``mlutils/layers/legacy.py`` @36a2857), checked against its code:
- per neuron a location ``mu`` ~ U(-init_mu_range, init_mu_range), a per-axis ``sigma`` ~
  U(0, init_sigma_range) (``fixed_sigma=False``), feature weights ``1/channels`` and a bias;
- in ``forward`` ``mu`` is clamped to [-1, 1] and ``sigma`` to >= 0 in place; the grid is
  ``clamp(mu + sigma * eps, -1, 1)`` with ``eps`` ~ N(0, 1) drawn per image (``batch_sample=True``) in
  training mode and ``eps = 0`` in eval mode; ``F.grid_sample(..., align_corners=True)`` (bilinear);
- the regularizer is ``feature_reg_weight * sum(|features|)``.
The reference's settings are init_mu_range 0.3, init_sigma_range 0.6, gamma 0.5, bias = the mean response of
the session's first training batch, and output ``ELU(r - 1) + 1`` (method.md 2.2, 2.3, 6.2-6.3).
"""

from __future__ import annotations

import re
import warnings

import torch
import torch.nn.functional as F
from neuralpredictors.layers.readouts import Gaussian2d
from torch import nn


def _module_key(session: str) -> str:
    """A ModuleDict key for a session id (module names may not contain dots)."""
    return "s_" + re.sub(r"[^0-9A-Za-z_]", "_", session)


class SessionReadouts(nn.Module):
    """Gaussian readouts keyed by session id.

    Args:
        in_shape: ``(channels, height, width)`` of the feature map the readouts read.
        sessions: session id -> number of neurons, in a fixed order.
        init_mu_range, init_sigma_range: initialization ranges of locations and widths.
        gamma_readout: weight of the L1 penalty on the feature weights (``regularizer``).
        elu_offset: ``r + elu_offset`` goes through the ELU; -1 gives the reference's ``ELU(r - 1) + 1``.
        bias: whether each neuron has a bias.
    """

    def __init__(
        self,
        in_shape: tuple[int, int, int],
        sessions: dict[str, int],
        *,
        init_mu_range: float = 0.3,
        init_sigma_range: float = 0.6,
        gamma_readout: float = 0.5,
        elu_offset: float = -1.0,
        bias: bool = True,
    ):
        super().__init__()
        if not sessions:
            raise ValueError("SessionReadouts needs at least one session")
        self.in_shape = tuple(int(v) for v in in_shape)
        self.sessions = {str(k): int(v) for k, v in sessions.items()}
        self.elu_offset = float(elu_offset)
        self.gamma_readout = float(gamma_readout)
        self._keys = {s: _module_key(s) for s in self.sessions}
        if len(set(self._keys.values())) != len(self._keys):
            raise ValueError(f"session ids collide after sanitizing to module names: {sorted(self.sessions)}")
        readouts = {}
        with warnings.catch_warnings():
            # Gaussian2d warns that it is deprecated and that sigma is drawn from a range; the range is what
            # the reference used, and NonIsoGaussian2d is not in the released neuralpredictors 0.3.0.
            warnings.simplefilter("ignore")
            for session, n in self.sessions.items():
                readouts[self._keys[session]] = Gaussian2d(
                    self.in_shape,
                    n,
                    bias,
                    init_mu_range=init_mu_range,
                    init_sigma_range=init_sigma_range,
                    batch_sample=True,
                    align_corners=True,
                    fixed_sigma=False,
                    mean_activity=torch.zeros(n) if bias else None,
                    feature_reg_weight=gamma_readout,
                )
        self.readouts = nn.ModuleDict(readouts)

    def __getitem__(self, session: str) -> Gaussian2d:
        if session not in self._keys:
            raise KeyError(f"unknown session {session!r}; known: {sorted(self.sessions)}")
        return self.readouts[self._keys[session]]

    def forward(self, features: torch.Tensor, session: str, sample: bool | None = None) -> torch.Tensor:
        """``(batch, c, h, w)`` features -> ``(batch, neurons)`` predicted responses, all > 0.

        ``sample=None`` samples locations in training mode and uses ``mu`` in eval mode.
        """
        r = self[session](features, sample=sample)
        return F.elu(r + self.elu_offset) + 1

    @torch.no_grad()
    def initialize_bias(self, session: str, mean_response: torch.Tensor) -> None:
        """Set the bias of ``session`` to ``mean_response`` ``(neurons,)`` (reference: first batch's mean)."""
        readout = self[session]
        if readout.bias is None:
            raise ValueError("the readouts were built without bias")
        readout.bias.copy_(
            torch.as_tensor(mean_response, dtype=readout.bias.dtype).reshape(readout.bias.shape)
        )

    def regularizer(self, session: str) -> torch.Tensor:
        """``gamma_readout * sum(|features|)`` of the session's readout (a scalar tensor)."""
        return self[session].regularizer(reduction="sum")
