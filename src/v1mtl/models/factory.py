"""Build a ``MultiTaskNet`` from a ``ModelConfig``.

The defaults are the paper's (docs/reference-implementation.md, 'Model layout', 'Recipes'): VGG-19 with
batch norm, shared block ``features[:17]``
(up to ``relu3_1``), the ``conv`` classification head with 4096 hidden channels, Gaussian readouts with
init_mu_range 0.3, init_sigma_range 0.6, L1 weight 0.5 and output ``ELU(r - 1) + 1``. ``readout`` and
``readout_output`` offer the factorized readout and a linear output (``v1mtl.models.readouts``);
``front_end: vone`` puts a VOneBlock in the place of the first convolution (``v1mtl.models.vone``).

The width multiplier scales every convolution of the trunk AND the head's hidden size
(``hidden * width``), so a width-0.25 network is a uniformly thinner VGG.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated

import torch
from torch import nn

from v1mtl.common.config import check_config
from v1mtl.common.errors import InputError
from v1mtl.common.ranges import NonNegativeFloat, PositiveFloat, PositiveInt, Range
from v1mtl.models.heads import HEAD_INITS, ConvHead, DenseHead
from v1mtl.models.multitask import MultiTaskNet
from v1mtl.models.readouts import READOUT_KINDS, READOUT_OUTPUTS, SessionReadouts
from v1mtl.models.vgg import ARCH_CFG, make_features, scaled_width, shared_layer_index
from v1mtl.models.vone import NOISE_MODES, VOneConfig, VOneFrontEnd

HEADS = ("conv", "dense")
FRONT_ENDS = ("none", "vone")


@dataclass
class ModelConfig:
    """Architecture of a network.

    Attributes:
        arch: vgg11, vgg13, vgg16 or vgg19.
        batch_norm: BatchNorm after every convolution (``vgg19_bn``).
        width: multiplier of every channel count, conv and head (1.0 = standard VGG).
        shared_layer: last layer of the shared block, by name (``"relu3_1"``, see ``vgg_layer_names``) or
            as the module count ``k`` of ``features[:k]`` (17 = relu3_1 of vgg19_bn).
        head: classification head, ``"conv"`` (reference) or ``"dense"``.
        hidden: hidden size of the head before the width multiplier.
        dropout: dropout probability in the head.
        head_init: initialization of the head, ``"torchvision"`` (reference) or ``"fan_in"``
            (``v1mtl.models.heads.init_head_weights``).
        readout: ``"gaussian"`` (reference) or ``"factorized"`` (spatial x feature, Klindt et al. 2017).
        readout_output: ``"elu"`` (reference, ``ELU(r + elu_offset) + 1``) or ``"linear"`` (for
            standardized targets).
        init_mu_range: readout locations start U(-init_mu_range, init_mu_range).
        init_sigma_range: readout widths start U(0, init_sigma_range).
        gamma_readout: weight of the readouts' L1 feature penalty.
        elu_offset: neural output is ``ELU(r + elu_offset) + 1``.
        readout_bias: readouts have a per-neuron bias.
        front_end: ``"none"`` (the VGG as it is) or ``"vone"`` (a VOneBlock and a 1x1 bottleneck in the
            place of the first convolution; condition ``vone`` sets it).
        vone: the VOneBlock's settings (read only with ``front_end: vone``).
    """

    arch: str = "vgg19"
    batch_norm: bool = True
    # 16 x VGG's widths (8192 channels) is already far beyond any GPU's memory
    width: Annotated[float, Range(0, 16, low_open=True)] = 1.0
    shared_layer: str | PositiveInt = "relu3_1"
    head: str = "conv"
    hidden: Annotated[int, Range(1, 65536)] = 4096
    dropout: Annotated[float, Range(0, 1, high_open=True)] = 0.5
    head_init: str = "torchvision"
    readout: str = "gaussian"
    readout_output: str = "elu"
    init_mu_range: Annotated[float, Range(0, 1, low_open=True)] = 0.3
    init_sigma_range: PositiveFloat = 0.6
    gamma_readout: NonNegativeFloat = 0.5
    elu_offset: float = -1.0
    readout_bias: bool = True
    front_end: str = "none"
    vone: VOneConfig = field(default_factory=VOneConfig)

    def validate(self, source: str = "config", prefix: str = "model.") -> ModelConfig:
        """Raise ``InputError`` (a ``ValueError``) naming the key (``prefix`` + field) of a value out of
        range or unknown. Returns ``self``."""
        check_config(self, source=source, prefix=prefix)
        for key, value, known in (
            ("arch", self.arch, sorted(ARCH_CFG)),
            ("head", self.head, list(HEADS)),
            ("head_init", self.head_init, list(HEAD_INITS)),
            ("readout", self.readout, list(READOUT_KINDS)),
            ("readout_output", self.readout_output, list(READOUT_OUTPUTS)),
            ("front_end", self.front_end, list(FRONT_ENDS)),
            ("vone.noise", self.vone.noise, list(NOISE_MODES)),
        ):
            if value not in known:
                raise InputError(
                    f"unknown {value!r}; expected one of {known}", path=source, field=prefix + key
                )
        try:
            shared_layer_index(self.arch, self.batch_norm, self.shared_layer)
        except ValueError as err:
            raise InputError(str(err), path=source, field=f"{prefix}shared_layer") from None
        if self.front_end == "vone" and self.vone.simple_channels + self.vone.complex_channels == 0:
            raise InputError(
                "the VOneBlock needs at least one channel", path=source, field=f"{prefix}vone.simple_channels"
            )
        return self


def _dry_run(module: nn.Module, shape: tuple[int, ...]) -> torch.Size:
    """Output shape of ``module`` on zeros of ``shape`` (eval mode, no grad; training mode is restored)."""
    was_training = module.training
    module.eval()
    with torch.no_grad():
        out = module(torch.zeros(shape))
    module.train(was_training)
    return out.shape


def make_trunk(cfg: ModelConfig, image_size: int) -> nn.Sequential:
    """The whole convolutional trunk ``cfg`` describes, its front end in place (``features`` of the VGG,
    initialized); ``image_size`` sizes a VOneBlock's filters (``v1mtl.models.vone.adopt_saved_banks``
    resizes them to a saved state's before it is loaded)."""
    features = make_features(cfg.arch, cfg.batch_norm, cfg.width, in_channels=3)
    if cfg.front_end == "vone":
        try:
            features[0] = VOneFrontEnd(cfg.vone, image_size, features[0].out_channels)
        except ValueError as err:  # a pixel grid too coarse for the lowest preferred spatial frequency
            raise InputError(str(err), field="model.vone.visual_degrees") from None
    return features


def build_network(
    cfg: ModelConfig,
    *,
    n_classes: int | None,
    sessions: dict[str, int] | None,
    image_size: int,
    neural_image_size: int | tuple[int, int] | None = None,
) -> MultiTaskNet:
    """Build the network ``cfg`` describes.

    Args:
        cfg: the architecture.
        n_classes: number of classes, or None for a network without a classification branch.
        sessions: session id -> number of neurons, or None for a network without neural readouts.
        image_size: side of the (square) classification input; sizes the dense head and the VOneBlock's
            pixels per degree (``image_size / model.vone.visual_degrees``).
        neural_image_size: side (or ``(height, width)``) of the neural input, default ``image_size``; the
            readouts' input shape comes from a dry run of the shared block on it, as in the reference
            (neural_cotraining ``models/mtl_vgg.py``).
    """
    cfg.validate()
    features = make_trunk(cfg, image_size)
    k = shared_layer_index(cfg.arch, cfg.batch_norm, cfg.shared_layer)
    shared = features[:k]
    unshared = classifier = None
    if n_classes is not None:
        unshared = features[k:]
        try:
            c, h, w = _dry_run(nn.Sequential(shared, unshared), (1, 3, image_size, image_size))[1:]
        except RuntimeError as err:
            raise ValueError(
                f"image size {image_size} is too small for the {cfg.arch} trunk ({err})"
            ) from None
        hidden = scaled_width(cfg.hidden, cfg.width)
        if cfg.head == "conv":
            classifier = ConvHead(c, n_classes, hidden, cfg.dropout, cfg.head_init)
        else:
            classifier = DenseHead(c * h * w, n_classes, hidden, cfg.dropout, cfg.head_init)
    readouts = None
    if sessions:
        side = neural_image_size or image_size
        h, w = (side, side) if isinstance(side, int) else side
        in_shape = tuple(_dry_run(shared, (1, 3, h, w))[1:])
        readouts = SessionReadouts(
            in_shape,
            sessions,
            kind=cfg.readout,
            output=cfg.readout_output,
            init_mu_range=cfg.init_mu_range,
            init_sigma_range=cfg.init_sigma_range,
            gamma_readout=cfg.gamma_readout,
            elu_offset=cfg.elu_offset,
            bias=cfg.readout_bias,
        )
    return MultiTaskNet(shared, unshared, classifier, readouts, in_channels=3)
