"""One readout per recording session: the reference's Gaussian readout, or a factorized one.

``kind="gaussian"`` (the reference's ``MultipleGaussian2d``): each session gets a
``neuralpredictors.layers.readouts.Gaussian2d``. Its semantics match the legacy readout the reference used
(sinzlab/neuralpredictors ``mlutils/layers/legacy.py`` @36a2857), checked against its code:
- per neuron a location ``mu`` ~ U(-init_mu_range, init_mu_range), a per-axis ``sigma`` ~
  U(0, init_sigma_range) (``fixed_sigma=False``), feature weights ``1/channels`` and a bias;
- in ``forward`` ``mu`` is clamped to [-1, 1] and ``sigma`` to >= 0 in place; the grid is
  ``clamp(mu + sigma * eps, -1, 1)`` with ``eps`` ~ N(0, 1) drawn per image (``batch_sample=True``) in
  training mode and ``eps = 0`` in eval mode; ``F.grid_sample(..., align_corners=True)`` (bilinear);
- the regularizer is ``feature_reg_weight * sum(|features|)``.
The reference's settings are init_mu_range 0.3, init_sigma_range 0.6, gamma 0.5, bias = the mean response of
the session's first training batch, and output ``ELU(r - 1) + 1`` (sinzlab/neural_cotraining
``models/mtl_vgg.py``; docs/models.md).

``kind="factorized"``: the spatial x feature readout of Klindt, Ecker, Euler & Bethge 2017 ("Neural system
identification for large populations separating 'what' and 'where'", NeurIPS), each neuron a full spatial
mask (unit L2 norm) times a feature vector over the channels: ``neuralpredictors.layers.readouts.
FullFactorized2d`` (its ``SpatialXFeatureLinear``), with its L1 penalty on mask x features weighted by
``gamma_readout``. Every position of the map gets a gradient from the first step, where a Gaussian readout
learns its location through a sampled grid one neighbourhood at a time; on small maps and short budgets
it learns much faster (docs/training.md).

``output="elu"`` gives ``ELU(r + elu_offset) + 1 > 0`` (the reference, for non-negative rates);
``output="linear"`` gives ``r``, the matching output for per-neuron standardized targets, which are
negative half of the time.
"""

from __future__ import annotations

import re
import warnings

import torch
import torch.nn.functional as F
from neuralpredictors.layers.readouts import FullFactorized2d, Gaussian2d
from torch import nn

READOUT_KINDS = ("gaussian", "factorized")
READOUT_OUTPUTS = ("elu", "linear")


def _module_key(session: str) -> str:
    """A ModuleDict key for a session id (module names may not contain dots)."""
    return "s_" + re.sub(r"[^0-9A-Za-z_]", "_", session)


class SessionReadouts(nn.Module):
    """Readouts keyed by session id.

    Args:
        in_shape: ``(channels, height, width)`` of the feature map the readouts read.
        sessions: session id -> number of neurons, in a fixed order.
        kind: ``"gaussian"`` (reference) or ``"factorized"`` (module doc).
        output: ``"elu"`` (reference) or ``"linear"``.
        init_mu_range, init_sigma_range: initialization ranges of Gaussian locations and widths.
        gamma_readout: weight of the L1 penalty on the feature weights (``regularizer``).
        elu_offset: ``r + elu_offset`` goes through the ELU; -1 gives the reference's ``ELU(r - 1) + 1``.
        bias: whether each neuron has a bias.
    """

    def __init__(
        self,
        in_shape: tuple[int, int, int],
        sessions: dict[str, int],
        *,
        kind: str = "gaussian",
        output: str = "elu",
        init_mu_range: float = 0.3,
        init_sigma_range: float = 0.6,
        gamma_readout: float = 0.5,
        elu_offset: float = -1.0,
        bias: bool = True,
    ):
        super().__init__()
        if not sessions:
            raise ValueError("SessionReadouts needs at least one session")
        if kind not in READOUT_KINDS:
            raise ValueError(f"unknown readout kind {kind!r}; expected one of {list(READOUT_KINDS)}")
        if output not in READOUT_OUTPUTS:
            raise ValueError(f"unknown readout output {output!r}; expected one of {list(READOUT_OUTPUTS)}")
        self.kind, self.output = kind, output
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
                if kind == "gaussian":
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
                else:
                    readouts[self._keys[session]] = FullFactorized2d(
                        self.in_shape,
                        n,
                        bias,
                        normalize=True,
                        mean_activity=torch.zeros(n) if bias else None,
                        spatial_and_feature_reg_weight=gamma_readout,
                    )
        self.readouts = nn.ModuleDict(readouts)

    def __getitem__(self, session: str) -> Gaussian2d | FullFactorized2d:
        if session not in self._keys:
            raise KeyError(f"unknown session {session!r}; known: {sorted(self.sessions)}")
        return self.readouts[self._keys[session]]

    def forward(self, features: torch.Tensor, session: str, sample: bool | None = None) -> torch.Tensor:
        """``(batch, c, h, w)`` features -> ``(batch, neurons)`` predicted responses, all > 0.

        ``sample=None`` samples Gaussian locations in training mode and uses ``mu`` in eval mode (a
        factorized readout has nothing to sample). Outputs are > 0 with ``output="elu"``.
        """
        readout = self[session]
        r = readout(features, sample=sample) if self.kind == "gaussian" else readout(features)
        return F.elu(r + self.elu_offset) + 1 if self.output == "elu" else r

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
        """``gamma_readout`` times the L1 norm of the session's readout weights (a scalar tensor): of the
        feature vectors (Gaussian), of mask x features (factorized)."""
        return self[session].regularizer(reduction="sum")
