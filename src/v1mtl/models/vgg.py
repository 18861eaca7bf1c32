"""VGG convolutional trunks with torchvision's module layout, so indices and state_dict keys carry over.

``make_features("vgg19", batch_norm=True)`` builds the same ``nn.Sequential`` as torchvision's
``vgg19_bn().features``: each 3x3 convolution (padding 1, with bias) is followed by BatchNorm (when
``batch_norm``) and an in-place ReLU, and every ``"M"`` of the configuration is a 2x2 max-pool with
stride 2. The configurations A/B/D/E are those of Simonyan & Zisserman 2015 (arXiv 1409.1556, Table 1), as
torchvision's ``cfgs``. With ``batch_norm`` the module at index 16 of vgg19_bn is ``relu3_1``, so
``features[:17]`` is the shared block of the paper (``v1_model_layer=17`` in neural_cotraining
``models/mtl_vgg.py``).

Initialization follows torchvision's ``VGG._initialize_weights`` (kaiming-normal fan-out for convolutions,
bias 0; BatchNorm weight 1, bias 0; Linear N(0, 0.01)), which the reference also uses
(neural_cotraining ``models/vgg.py``).
"""

from __future__ import annotations

from torch import nn

CFGS: dict[str, list[int | str]] = {
    "A": [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "B": [64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "D": [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"],
    "E": [
        64,
        64,
        "M",
        128,
        128,
        "M",
        256,
        256,
        256,
        256,
        "M",
        512,
        512,
        512,
        512,
        "M",
        512,
        512,
        512,
        512,
        "M",
    ],
}

ARCH_CFG = {"vgg11": "A", "vgg13": "B", "vgg16": "D", "vgg19": "E"}


def _cfg(arch: str) -> list[int | str]:
    if arch not in ARCH_CFG:
        raise ValueError(f"unknown VGG architecture {arch!r}; expected one of {sorted(ARCH_CFG)}")
    return CFGS[ARCH_CFG[arch]]


def scaled_width(channels: int, width: float) -> int:
    """Channel count after the width multiplier: ``round(channels * width)``, at least 1."""
    if width <= 0:
        raise ValueError(f"width multiplier must be positive, got {width}")
    return max(1, int(round(channels * width)))


def make_features(arch: str, batch_norm: bool, width: float = 1.0, in_channels: int = 3) -> nn.Sequential:
    """The convolutional part of a VGG (torchvision ``vgg<depth>[_bn]().features``), initialized.

    ``width`` multiplies every convolution's output channels (``scaled_width``); 1.0 is the standard VGG.
    Input ``(batch, in_channels, H, W)`` -> output ``(batch, 512*width, H/32, W/32)``.
    """
    layers: list[nn.Module] = []
    channels = in_channels
    for v in _cfg(arch):
        if v == "M":
            layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
            continue
        out = scaled_width(int(v), width)
        layers.append(nn.Conv2d(channels, out, kernel_size=3, padding=1))
        if batch_norm:
            layers.append(nn.BatchNorm2d(out))
        layers.append(nn.ReLU(inplace=True))
        channels = out
    features = nn.Sequential(*layers)
    init_vgg_weights(features)
    return features


def init_vgg_weights(module: nn.Module) -> None:
    """torchvision's VGG initialization, applied to every submodule of ``module``."""
    for m in module.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            if m.bias is not None:
                nn.init.constant_(m.bias, 0)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.constant_(m.weight, 1)
            nn.init.constant_(m.bias, 0)
        elif isinstance(m, nn.Linear):
            nn.init.normal_(m.weight, 0, 0.01)
            nn.init.constant_(m.bias, 0)


def vgg_layer_names(arch: str, batch_norm: bool) -> list[str]:
    """Name of every module of ``make_features(arch, batch_norm)``, by index.

    Stage ``s`` (1-based) ends with ``pool<s>``; its ``i``-th convolution gives ``conv<s>_<i>``,
    ``bn<s>_<i>`` (with batch norm) and ``relu<s>_<i>``. For vgg19_bn index 14 is ``conv3_1``, 16 ``relu3_1``.
    """
    names: list[str] = []
    stage, conv = 1, 0
    for v in _cfg(arch):
        if v == "M":
            names.append(f"pool{stage}")
            stage, conv = stage + 1, 0
            continue
        conv += 1
        names.append(f"conv{stage}_{conv}")
        if batch_norm:
            names.append(f"bn{stage}_{conv}")
        names.append(f"relu{stage}_{conv}")
    return names


def shared_layer_index(arch: str, batch_norm: bool, name: str | int = "relu3_1") -> int:
    """Number of leading modules up to and including layer ``name``: ``features[:k]`` ends with it.

    ``name`` is a layer name of ``vgg_layer_names`` (``"relu3_1"`` -> 17 for vgg19_bn, the paper's
    ``v1_model_layer=17``) or an int ``k`` itself, checked to lie in ``1..len(features)``.
    """
    names = vgg_layer_names(arch, batch_norm)
    if isinstance(name, int) and not isinstance(name, bool):
        if not 1 <= name <= len(names):
            raise ValueError(f"shared layer index {name} outside 1..{len(names)} for {arch}")
        return name
    if name not in names:
        raise ValueError(
            f"unknown layer {name!r} for {arch} (batch_norm={batch_norm}); expected one of {names}"
        )
    return names.index(name) + 1
