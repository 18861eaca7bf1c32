import numpy as np
import pytest
import torch

from v1mtl.analysis.reconstruction import (
    gaussian_blur,
    gaussian_kernel1d,
    project_norm,
    reconstruct,
    sphere_norm_for_budget,
)
from v1mtl.analysis.settings import ReconstructionSettings


def _identity(x: torch.Tensor) -> torch.Tensor:
    return x


def _smooth_image(seed: int, size: int = 16) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return gaussian_blur(torch.randn(1, 1, size, size, generator=g), 2.0)


def test_kernel_is_normalized_and_symmetric():
    k = gaussian_kernel1d(1.0)
    assert k.numel() == 9
    assert torch.isclose(k.sum(), torch.tensor(1.0))
    assert torch.allclose(k, k.flip(0))


def test_blur_keeps_constants_and_reduces_variance():
    const = torch.full((1, 2, 12, 12), 3.0)
    assert torch.allclose(gaussian_blur(const, 1.0), const)
    noise = torch.randn(1, 1, 32, 32, generator=torch.Generator().manual_seed(0))
    assert gaussian_blur(noise, 1.0).var() < 0.5 * noise.var()
    assert gaussian_blur(noise, 0.0) is noise


def test_projection_sphere_and_ball():
    x = torch.randn(3, 1, 5, 5, generator=torch.Generator().manual_seed(1))
    on = project_norm(x, 2.0, "sphere")
    assert torch.allclose(on.flatten(1).norm(dim=1), torch.full((3,), 2.0))
    small = 0.01 * x
    assert torch.allclose(project_norm(small, 2.0, "ball"), small)
    assert torch.all(project_norm(x, 2.0, "ball").flatten(1).norm(dim=1) <= 2.0 + 1e-5)


# The blurred gradient moves high spatial frequencies slowly, so with blur the target is kept smooth.
@pytest.mark.parametrize("blur_sigma,steps,pixel_noise", [(0.0, 60, 0.3), (1.0, 1500, 0.0)])
def test_identity_network_reconstructs_the_image_at_its_own_norm(blur_sigma, steps, pixel_noise):
    noise = torch.randn(1, 1, 16, 16, generator=torch.Generator().manual_seed(5))
    target = _smooth_image(0) + pixel_noise * noise
    norm = float(target.norm())
    # loss = mean over 256 pixels; lr 64 makes each step move half-way to the target (no blur)
    cfg = ReconstructionSettings(
        steps=steps, lr=64.0 if blur_sigma == 0 else 120.0, blur_sigma=blur_sigma, seed=3
    )
    res = reconstruct(_identity, target, norm, cfg)
    assert np.linalg.norm(res.images) == pytest.approx(norm, rel=1e-4)
    np.testing.assert_allclose(res.images, target.numpy(), atol=2e-2 * float(target.abs().max()))
    assert res.final_loss[0] < 1e-3 * res.initial_loss[0]


def test_identity_network_under_a_smaller_budget_gives_the_scaled_image():
    target = torch.cat([_smooth_image(1), _smooth_image(2)])
    budgets = 0.25 * target.flatten(1).norm(dim=1)
    budget = float(budgets.min())
    res = reconstruct(_identity, target, budget, ReconstructionSettings(steps=80, lr=64.0, blur_sigma=0.0))
    expected = target / target.flatten(1).norm(dim=1).view(-1, 1, 1, 1) * budget
    np.testing.assert_allclose(res.images, expected.numpy(), atol=1e-3)
    assert res.loss_history.shape == (8, 2)


def test_batching_does_not_change_results():
    target = torch.cat([_smooth_image(1), _smooth_image(2)])
    cfg = ReconstructionSettings(steps=20, lr=64.0, seed=7)
    both = reconstruct(_identity, target, 1.0, cfg).images
    first = reconstruct(_identity, target[:1], 1.0, cfg).images
    np.testing.assert_allclose(both[:1], first, atol=1e-6)


def test_budget_conversion_to_gray():
    assert sphere_norm_for_budget(6.0, channels=3) == pytest.approx(6.0)
    # a gray image repeated to 3 channels has sqrt(3) times its norm
    x = torch.randn(1, 1, 4, 4)
    x = x / x.norm() * sphere_norm_for_budget(6.0, channels=1)
    assert float(x.expand(-1, 3, -1, -1).norm()) == pytest.approx(6.0, rel=1e-5)


def test_bad_settings_raise():
    with pytest.raises(ValueError, match="constraint"):
        ReconstructionSettings(constraint="cube").validate()
    with pytest.raises(ValueError, match="budget"):
        reconstruct(_identity, torch.zeros(1, 1, 4, 4), 0.0)
