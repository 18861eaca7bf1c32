"""The VOneBlock front end: macaque-like filters, simple and complex cells, Poisson-like noise, in the place
of the VGG's first convolution."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch

from v1mtl.common.errors import InputError
from v1mtl.models import ModelConfig, build_network
from v1mtl.models.vgg import make_features
from v1mtl.models.vone import VOneBlock, VOneConfig, gabor_kernels, gabor_parameters, kernel_pixels
from v1mtl.simulator.tuning import SF_BIN_EDGES_CPD

SMALL = VOneConfig(simple_channels=6, complex_channels=6)


def _grating(size: int, ppd: float, orientation_deg: float, sf_cpd: float, phase_deg: float) -> torch.Tensor:
    """``(1, 1, size, size)`` sinusoid around 0 with the filters' conventions (wave vector at the
    orientation, x along columns, phase at the image centre)."""
    c = (np.arange(size) - (size - 1) / 2) / ppd
    y, x = np.meshgrid(c, c, indexing="ij")
    t = np.deg2rad(orientation_deg)
    arg = 2 * np.pi * sf_cpd * (x * np.cos(t) + y * np.sin(t)) + np.deg2rad(phase_deg)
    return torch.from_numpy(np.cos(arg)).float()[None, None]


@pytest.mark.parametrize(("image_size", "degrees"), [(32, 2.0), (64, 2.0), (224, 8.0)])
def test_the_kernel_spans_its_visual_angle_in_an_odd_number_of_pixels(image_size, degrees):
    cfg = VOneConfig(visual_degrees=degrees)
    k = kernel_pixels(cfg, image_size)
    assert k % 2 == 1 and k >= 3
    assert abs(k - cfg.kernel_deg * image_size / degrees) <= 1
    q0, q1 = gabor_kernels(SMALL, image_size)
    assert q0.shape == q1.shape == (12, 1, kernel_pixels(SMALL, image_size), kernel_pixels(SMALL, image_size))


def test_filter_parameters_come_from_the_macaque_tables_within_the_pixel_grid():
    cfg = VOneConfig(simple_channels=300, complex_channels=300)
    p = gabor_parameters(cfg, 32)
    ppd = 32 / cfg.visual_degrees
    assert p["sf_cpd"].min() >= SF_BIN_EDGES_CPD[0]
    assert p["sf_cpd"].max() <= min(cfg.sf_max_cpd, 0.35 * ppd)
    assert 0 <= p["orientation_deg"].min() and p["orientation_deg"].max() < 180
    # sizes are the Ringach nx, ny over the frequency: a few tenths of a cycle to a couple of cycles
    cycles = p["sigma_x_deg"] * p["sf_cpd"]
    assert 0.1 <= cycles.min() and cycles.max() <= 10**0.2
    # the same seed draws the same bank, another seed another one
    assert np.array_equal(gabor_parameters(cfg, 32)["sf_cpd"], p["sf_cpd"])
    assert not np.array_equal(gabor_parameters(replace(cfg, seed=1), 32)["sf_cpd"], p["sf_cpd"])


def test_the_filters_ignore_mean_luminance():
    block = VOneBlock(replace(SMALL, noise="none"), 32)
    out = block(torch.full((2, 3, 32, 32), 0.7))
    # zero-mean filters: a uniform image drives nothing (inside the border the zero padding adds)
    k = kernel_pixels(SMALL, 32) // 2
    assert out[:, :, k:-k, k:-k].abs().max() < 1e-4


def test_simple_cells_are_phase_and_orientation_selective_and_complex_cells_phase_invariant():
    cfg = VOneConfig(simple_channels=40, complex_channels=40, noise="none")
    block = VOneBlock(cfg, 64)
    p = gabor_parameters(cfg, 64)
    ppd = 64 / cfg.visual_degrees
    centre = 32
    simple_ratio, complex_ratio, orientation_ratio = [], [], []
    for ch in range(cfg.simple_channels + cfg.complex_channels):
        phases = np.arange(0, 360, 30)
        gratings = torch.cat(
            [_grating(64, ppd, p["orientation_deg"][ch], p["sf_cpd"][ch], ph) for ph in phases]
        )
        responses = block(gratings)[:, ch, centre, centre]
        orthogonal = block(_grating(64, ppd, p["orientation_deg"][ch] + 90, p["sf_cpd"][ch], 0))[0, ch]
        ratio = (responses.min() / responses.max()).item()
        (simple_ratio if ch < cfg.simple_channels else complex_ratio).append(ratio)
        if ch >= cfg.simple_channels:
            orientation_ratio.append((orthogonal[centre, centre] / responses.mean()).item())
    # a half-rectified filter goes to 0 over half the phases; the energy of the quadrature pair stays put
    assert np.median(simple_ratio) < 0.05
    assert np.median(complex_ratio) > 0.8
    assert np.median(orientation_ratio) < 0.5


def test_the_noise_is_poisson_like_and_can_be_switched_off():
    torch.manual_seed(0)
    block = VOneBlock(SMALL, 32)
    # a high-contrast image, so that many responses stand well above their noise and the final ReLU
    x = (40 * torch.rand(1, 1, 32, 32) - 20).expand(400, 3, -1, -1)
    assert block.stochastic
    draws = block(x)
    assert not torch.equal(draws[0], draws[1])
    block.set_noise(False)
    assert not block.stochastic
    mean = block(x[:1])[0]
    assert torch.equal(block(x[:1])[0], mean)
    # where the rectified mean is well above 0, the variance is (s * mean + l) / s^2 (module docstring)
    strong = mean > 40
    assert strong.sum() > 100
    expected = (SMALL.noise_scale * mean + SMALL.noise_level) / SMALL.noise_scale**2
    ratio = (draws.var(dim=0)[strong] / expected[strong]).median().item()
    assert 0.85 < ratio < 1.15, ratio
    torch.manual_seed(3)
    again = VOneBlock(SMALL, 32)(x[:2])
    torch.manual_seed(3)
    assert torch.equal(VOneBlock(SMALL, 32)(x[:2]), again)


def test_the_network_puts_the_block_in_place_of_the_first_convolution():
    cfg = ModelConfig(arch="vgg11", width=0.125, hidden=16, front_end="vone", vone=SMALL)
    net = build_network(cfg, n_classes=5, sessions={"s": 3}, image_size=32)
    plain = make_features("vgg11", True, 0.125)
    assert net.stochastic
    assert net.shared[0].bottleneck.out_channels == plain[0].out_channels
    # every later layer keeps its index, so layer names (relu3_1, ...) mean the same
    for i in range(1, len(net.shared)):
        assert type(net.shared[i]) is type(plain[i])
    x = torch.rand(4, 1, 32, 32, requires_grad=True)
    out = net(x)
    assert out.shape == (4, 5) and net(x, task="neural", session="s").shape == (4, 3)
    # the filters are fixed buffers, the bottleneck learns; an attack gets a finite input gradient
    trained = {n for n, p in net.named_parameters() if p.requires_grad}
    assert "shared.0.bottleneck.weight" in trained and not any("block" in n for n in trained)
    assert "shared.0.block.weight" in net.state_dict()
    (grad,) = torch.autograd.grad(net.shared_features(x).sum(), x)
    assert torch.isfinite(grad).all() and grad.abs().sum() > 0
    assert not build_network(
        replace(cfg, front_end="none"), n_classes=5, sessions=None, image_size=32
    ).stochastic


def test_settings_the_block_cannot_take_are_input_errors_naming_the_key():
    with pytest.raises(InputError, match=r"model\.front_end"):
        ModelConfig(front_end="gabor").validate()
    with pytest.raises(InputError, match=r"model\.vone\.noise"):
        ModelConfig(front_end="vone", vone=replace(SMALL, noise="poisson")).validate()
    with pytest.raises(InputError, match=r"model\.vone\.simple_channels"):
        ModelConfig(front_end="vone", vone=replace(SMALL, simple_channels=0, complex_channels=0)).validate()
    # 16 px over 30 degrees: half a pixel per degree cannot show 0.5 cycles/degree
    coarse = ModelConfig(
        arch="vgg11", width=0.125, front_end="vone", vone=replace(SMALL, visual_degrees=30.0)
    )
    with pytest.raises(InputError, match=r"model\.vone\.visual_degrees"):
        build_network(coarse, n_classes=2, sessions=None, image_size=16)
