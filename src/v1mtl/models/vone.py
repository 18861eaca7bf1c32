"""The VOneBlock front end: a fixed bank of macaque-like Gabor filters with simple and complex cells and
neuronal noise, in the place of a VGG's first convolution.

After Dapello et al. 2020 (NeurIPS, "Simulating a primary visual cortex at the front of CNNs improves
robustness to image perturbations"; dicarlolab/vonenet, ``vonenet/modules.py`` and ``vonenet/vonenet.py``
at commit d8ba817): each channel is one Gabor filter; a simple channel is ``ReLU(q0)``, a complex channel
the energy ``sqrt(q0^2 + q1^2) / sqrt(2)`` of the quadrature pair ``q0, q1`` (phase and phase + 90 deg),
both times the gain ``k_exc``; then neuronal noise, Gaussian with a variance that grows with the
activation as for Poisson counts:

    y = ReLU(x + n * sqrt(ReLU(s * x + l) + 1e-4) / s),    n ~ N(0, 1)

with VOneNet's ``noise_scale`` ``s`` = 0.35 and ``noise_level`` ``l`` = 0.07 (the published defaults, as
``k_exc`` = 25 and 256 simple + 256 complex channels). A 1x1 convolution (VOneNet's "bottleneck") maps the
channels to the width of the VGG's first convolution, whose place the block takes, so every later layer
keeps its index and its name (``relu3_1`` stays ``features[16]``).

What v1mtl does differently, and why:
- Filter parameters come from the tables the simulator uses (``v1mtl.simulator.tuning``: De Valois et al.
  1982 orientations and spatial frequencies, Ringach 2002 sizes, uniform phase), drawn independently; VOneNet
  correlates spatial frequency with size (``sf_corr`` 0.75), which v1mtl does not reproduce.
- The block is sized for the data, not for ImageNet at 224 px over 8 degrees: ``visual_degrees`` is the
  visual angle the (square) input spans, default 2 degrees as in EVNets (Baidya, Dapello, DiCarlo & Marques
  2021, "Combining different V1 brain model variants to improve robustness to image corruptions in CNNs",
  who adapted VOneNet to 64 px Tiny-ImageNet images over 2 degrees); the kernel spans ``kernel_deg`` (VOneNet's
  25 px at 28 px per degree is 0.9 degree), and the stride is 1 because the VGG trunk does its own
  down-sampling.
- Preferred spatial frequencies above ``sf_max_cpd`` (VOneNet's 9 cycles/degree) or above 0.35 cycles per
  pixel (the simulator's anti-aliasing bound) are redrawn rather than kept.
- Filters are the simulator's zero-mean Gabors (``v1mtl.simulator.gabor.gabor_bank``) scaled to the L2 norm
  of VOneNet's, whose envelope sums to one (``1 / sqrt(8 pi sx sy)`` with the envelope widths in pixels), so
  ``k_exc`` and the noise constants keep their meaning; the mean luminance drives no channel.
- Gray input: the network's three identical channels are averaged back to one before the filters.

Deterministic mode: ``noise: none`` trains and tests without noise; ``set_noise(False)`` switches the noise
of a noise-trained block off (for a check, not how VOneNet is evaluated). The noise is drawn from torch's
global generator, so a seeded run and an evaluation that seeds it repeat.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Annotated

import numpy as np
import torch
from torch import nn

from v1mtl.common.ranges import PositiveFloat, Range, Seed
from v1mtl.simulator.config import TuningSpec
from v1mtl.simulator.gabor import gabor_bank
from v1mtl.simulator.tuning import sample_tuning

NOISE_MODES = ("neuronal", "none")
# the simulator's bound: a carrier finer than this aliases on the pixel grid (Nyquist is 0.5)
MAX_SF_CYCLES_PER_PIXEL = 0.35
# VOneNet's ``eps`` inside the square root of the noise's standard deviation
NOISE_EPS = 1e-4


@dataclass
class VOneConfig:
    """Settings of the VOneBlock (``model.vone``; used when ``model.front_end`` is ``vone``).

    Attributes:
        simple_channels, complex_channels: Gabor channels of each cell type (VOneNet: 256 each).
        visual_degrees: visual angle the square input spans; sets pixels per degree.
        kernel_deg: side of the filters' kernel in degrees (rounded to an odd number of pixels).
        sf_max_cpd: highest preferred spatial frequency, cycles/degree.
        k_exc: gain of the filter responses before the noise.
        noise: ``neuronal`` (VOneNet's Poisson-like noise, at training and test) or ``none``.
        noise_scale, noise_level: the noise's constants (module docstring).
        seed: seed of the filter parameters (the same seed gives the same bank in every network).
    """

    simple_channels: Annotated[int, Range(0, 4096)] = 256
    complex_channels: Annotated[int, Range(0, 4096)] = 256
    visual_degrees: Annotated[float, Range(0, 180, low_open=True)] = 2.0
    kernel_deg: Annotated[float, Range(0, 180, low_open=True)] = 0.9
    sf_max_cpd: PositiveFloat = 9.0
    k_exc: Annotated[float, Range(0, 1e6, low_open=True)] = 25.0
    noise: str = "neuronal"
    noise_scale: Annotated[float, Range(0, 1e6, low_open=True)] = 0.35
    noise_level: Annotated[float, Range(0, 1e6)] = 0.07
    seed: Seed = 0


def kernel_pixels(cfg: VOneConfig, image_size: int) -> int:
    """The kernel's side in pixels: ``kernel_deg`` at ``image_size / visual_degrees`` pixels per degree,
    rounded to the nearest odd number, at least 3."""
    side = cfg.kernel_deg * image_size / cfg.visual_degrees
    return max(3, 2 * int(round((side - 1) / 2)) + 1)


def gabor_parameters(cfg: VOneConfig, image_size: int) -> dict[str, np.ndarray]:
    """The filter parameters of every channel, simple channels first: ``(channels,)`` arrays
    ``orientation_deg``, ``sf_cpd``, ``sigma_x_deg``, ``sigma_y_deg``, ``phase_deg``.

    Raises ``ValueError`` when the pixel grid cannot show the lowest preferred spatial frequency."""
    n = cfg.simple_channels + cfg.complex_channels
    ppd = image_size / cfg.visual_degrees
    max_sf = min(cfg.sf_max_cpd, MAX_SF_CYCLES_PER_PIXEL * ppd)
    spec = TuningSpec(max_sf_cycles_per_pixel=max_sf / ppd)
    tuning = sample_tuning(n, np.random.default_rng(cfg.seed), ppd, spec)
    sf = tuning["sf_cpd"]
    return {
        "orientation_deg": tuning["orientation_deg"],
        "sf_cpd": sf,
        "sigma_x_deg": tuning["nx"] / sf,
        "sigma_y_deg": tuning["ny"] / sf,
        "phase_deg": tuning["phase_deg"],
    }


def gabor_kernels(cfg: VOneConfig, image_size: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The quadrature pair of kernels of every channel: ``q0`` and ``q1`` (phase + 90 deg), each
    ``(channels, 1, k, k)`` float32 with ``k = kernel_pixels(cfg, image_size)``."""
    p = gabor_parameters(cfg, image_size)
    ppd = image_size / cfg.visual_degrees
    k = kernel_pixels(cfg, image_size)
    zeros = np.zeros_like(p["sf_cpd"])
    # VOneNet's envelope sums to one; a Gabor's L2 norm is then about 1 / sqrt(8 pi sx sy) (pixels)
    scale = 1.0 / np.sqrt(8 * math.pi * p["sigma_x_deg"] * ppd * p["sigma_y_deg"] * ppd)
    pair = []
    for shift in (0.0, 90.0):
        bank = gabor_bank(
            k,
            ppd,
            zeros,
            zeros,
            p["orientation_deg"],
            p["sf_cpd"],
            p["sigma_x_deg"],
            p["sigma_y_deg"],
            p["phase_deg"] + shift,
        )
        bank = bank * scale[:, None, None].astype(np.float32)
        # the envelope's far tail underflows to subnormal floats, which make a CPU convolution ~6x slower
        bank[np.abs(bank) < np.finfo(np.float32).tiny] = 0.0
        pair.append(torch.from_numpy(bank)[:, None])
    return pair[0], pair[1]


class VOneBlock(nn.Module):
    """Fixed Gabor filters, simple and complex cells, neuronal noise.

    ``(batch, channels_in, H, W)`` (identical gray copies) -> ``(batch, simple + complex, H, W)``, >= 0.
    The filters are buffers: saved with the network, never trained.
    """

    def __init__(self, cfg: VOneConfig, image_size: int):
        super().__init__()
        if cfg.noise not in NOISE_MODES:
            raise ValueError(f"unknown VOneBlock noise {cfg.noise!r}; expected one of {list(NOISE_MODES)}")
        if cfg.simple_channels + cfg.complex_channels == 0:
            raise ValueError("the VOneBlock needs at least one channel")
        q0, q1 = gabor_kernels(cfg, image_size)
        s = cfg.simple_channels
        # One convolution gives q0 of every channel and q1 of the complex ones. The gain k_exc and the
        # complex cells' 1 / sqrt(2) commute with ReLU and the energy, so they are folded into the filters.
        complex_scale = cfg.k_exc / math.sqrt(2)
        self.register_buffer(
            "weight", torch.cat([q0[:s] * cfg.k_exc, q0[s:] * complex_scale, q1[s:] * complex_scale])
        )
        self.simple_channels = s
        self.complex_channels = cfg.complex_channels
        self.noise_scale = cfg.noise_scale
        self.noise_level = cfg.noise_level
        self.noise_enabled = cfg.noise == "neuronal"

    @property
    def out_channels(self) -> int:
        return self.simple_channels + self.complex_channels

    @property
    def stochastic(self) -> bool:
        """Whether the forward pass draws noise (in training and in eval mode alike, as VOneNet)."""
        return self.noise_enabled

    def set_noise(self, enabled: bool) -> None:
        """Switch the neuronal noise on or off."""
        self.noise_enabled = bool(enabled)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        gray = x.mean(dim=1, keepdim=True)
        pad = self.weight.shape[-1] // 2
        q = nn.functional.conv2d(gray, self.weight.to(gray.dtype), padding=pad)
        s, c = self.simple_channels, self.complex_channels
        simple = torch.relu(q[:, :s])
        # the tiny constant keeps the gradient of the square root finite where both filters give 0
        complex_ = torch.sqrt(q[:, s : s + c].square() + q[:, s + c :].square() + 1e-12)
        out = torch.cat([simple, complex_], dim=1)
        if self.noise_enabled:
            var = torch.relu(out * self.noise_scale + self.noise_level) + NOISE_EPS
            out = torch.addcmul(out, torch.randn_like(out), var.sqrt(), value=1.0 / self.noise_scale)
        return torch.relu(out)


class VOneFrontEnd(nn.Module):
    """The VOneBlock and its 1x1 bottleneck to ``out_channels``: the place of a VGG's first convolution.

    ``(batch, channels_in, H, W)`` -> ``(batch, out_channels, H, W)``.
    """

    def __init__(self, cfg: VOneConfig, image_size: int, out_channels: int):
        super().__init__()
        self.block = VOneBlock(cfg, image_size)
        self.bottleneck = nn.Conv2d(self.block.out_channels, out_channels, kernel_size=1, bias=False)
        nn.init.kaiming_normal_(self.bottleneck.weight, mode="fan_out", nonlinearity="relu")

    @property
    def stochastic(self) -> bool:
        return self.block.stochastic

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.bottleneck(self.block(x))


def adopt_saved_banks(module: nn.Module, state_dict: dict[str, torch.Tensor]) -> None:
    """Give every VOneBlock of ``module`` the kernel size of its bank in ``state_dict`` (keys as
    ``module.state_dict()`` names them), so that loading the state restores the filters a network was
    trained with even when ``module`` was built for inputs of another size (a V1 model's stimuli)."""
    for name, block in module.named_modules():
        if isinstance(block, VOneBlock):
            saved = state_dict.get(f"{name}.weight" if name else "weight")
            if isinstance(saved, torch.Tensor) and saved.shape[:2] == block.weight.shape[:2]:
                block.weight = torch.empty_like(saved, device=block.weight.device)
