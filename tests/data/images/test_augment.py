import numpy as np
import torch

from v1mtl.data.images.augment import _rotate, augment_batch


def _batch(b=6, h=16, w=16):
    return torch.rand(b, 1, h, w, generator=torch.Generator().manual_seed(0))


def test_shape_dtype_and_determinism():
    x = _batch()
    a = augment_batch(x, torch.Generator().manual_seed(3))
    b = augment_batch(x, torch.Generator().manual_seed(3))
    c = augment_batch(x, torch.Generator().manual_seed(4))
    assert a.shape == x.shape and a.dtype == x.dtype
    assert torch.equal(a, b)
    assert not torch.equal(a, c)


def test_flip_only_equals_torch_flip_on_the_drawn_images():
    x = _batch(b=32)
    out = augment_batch(x, torch.Generator().manual_seed(1), pad=0, max_degrees=0.0)
    flipped = [torch.equal(out[i], x[i].flip(-1)) for i in range(32)]
    kept = [torch.equal(out[i], x[i]) for i in range(32)]
    assert all(f or k for f, k in zip(flipped, kept, strict=True))
    assert 4 < sum(flipped) < 28  # p = 0.5


def test_crop_is_a_zero_filled_shift():
    x = _batch(b=8, h=10, w=10)
    gen = torch.Generator().manual_seed(7)
    out = augment_batch(x, gen, pad=4, flip=False, max_degrees=0.0)
    # Redraw the same offsets and crop by hand from a zero-padded copy.
    shifts = torch.randint(0, 9, (8, 2), generator=torch.Generator().manual_seed(7))
    padded = np.zeros((8, 1, 18, 18), np.float32)
    padded[:, :, 4:14, 4:14] = x.numpy()
    for i, (dy, dx) in enumerate(shifts.tolist()):
        np.testing.assert_array_equal(out[i].numpy(), padded[i, :, dy : dy + 10, dx : dx + 10])


def test_rotation_by_zero_is_identity_and_by_90_is_rot90():
    x = _batch(b=2, h=12, w=12)
    assert (_rotate(x, torch.zeros(2)) - x).abs().max() < 1e-5
    assert (_rotate(x, torch.full((2,), 90.0)) - torch.rot90(x, 1, dims=(2, 3))).abs().max() < 1e-5
    off = augment_batch(x, torch.Generator().manual_seed(0), pad=0, flip=False, max_degrees=0.0)
    assert (off - x).abs().max() < 1e-5


def test_rotation_keeps_a_centered_disc_and_zero_fills_corners():
    yy, xx = torch.meshgrid(torch.arange(32) - 15.5, torch.arange(32) - 15.5, indexing="ij")
    disc = (yy**2 + xx**2 < 8**2).float().expand(4, 1, 32, 32)
    out = augment_batch(torch.ones(4, 1, 32, 32), torch.Generator().manual_seed(2), pad=0, flip=False)
    # An all-ones image rotated by a nonzero angle loses its corners to the zero fill.
    assert (out[:, :, 0, 0] < 1).all() and torch.allclose(out[:, :, 16, 16], torch.ones(4, 1))
    rotated = augment_batch(disc, torch.Generator().manual_seed(2), pad=0, flip=False)
    # A rotation about the center leaves a centered disc in place: only its one-pixel rim is resampled.
    r = (yy**2 + xx**2).sqrt()
    assert torch.allclose(rotated[:, :, r < 7], torch.ones(1), atol=1e-5)
    assert torch.allclose(rotated[:, :, r > 9], torch.zeros(1), atol=1e-5)
    assert abs(rotated.sum() / disc.sum() - 1) < 0.02


def test_fused_flip_and_rotation_equal_flip_then_rotate():
    x = _batch(b=16)
    fused = augment_batch(x, torch.Generator().manual_seed(9), pad=0)
    gen = torch.Generator().manual_seed(9)
    torch.randint(0, 9, (16, 2), generator=gen)  # the crop offsets, drawn first
    flips = torch.rand(16, generator=gen) < 0.5
    angles = (torch.rand(16, generator=gen) * 2 - 1) * 15.0
    flipped = torch.where(flips.view(16, 1, 1, 1), x.flip(-1), x)
    assert (fused - _rotate(flipped, angles)).abs().max() < 1e-5
