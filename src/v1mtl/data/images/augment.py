"""The paper's training augmentation as batched tensor operations (CPU or GPU), seeded by a generator.

Reference transform (neural_cotraining ``img_classification_loader.py``, torchvision):
``RandomCrop(64, padding=4)`` with zero fill, then
``RandomHorizontalFlip()`` (p = 0.5), then ``RandomRotation(15)`` (angle uniform in [-15, 15] degrees about
the image center, zero fill). Here the crop is an exact integer shift of a zero-padded batch, and the flip
and the rotation are one ``affine_grid`` + ``grid_sample`` for the whole batch (the flip alone, without
rotation, is a masked select). One deviation: the rotation interpolates bilinearly, where torchvision's
default is nearest neighbour.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F


def augment_batch(
    x: torch.Tensor,
    generator: torch.Generator,
    *,
    pad: int = 4,
    flip: bool = True,
    max_degrees: float = 15.0,
) -> torch.Tensor:
    """Random crop with zero padding, horizontal flip and rotation, independently per image.

    Args:
        x: ``(batch, channels, height, width)`` float images (any value range; padding is 0).
        generator: the source of randomness; its device decides where the random numbers are drawn, so a
            CPU generator gives the same augmentation on CPU and GPU.
        pad: padding of the random crop in pixels (0 disables the crop).
        flip: apply the horizontal flip with probability 0.5.
        max_degrees: rotation range (0 disables the rotation).

    Returns ``(batch, channels, height, width)``, same dtype and device as ``x``.
    """
    b, _, h, w = x.shape
    gdev = generator.device
    # Draw every random number up front in a fixed order, so the stream does not depend on the options
    # that are switched off.
    shifts = torch.randint(0, 2 * pad + 1, (b, 2), generator=generator, device=gdev).to(x.device)
    flips = (torch.rand(b, generator=generator, device=gdev) < 0.5).to(x.device)
    angles = ((torch.rand(b, generator=generator, device=gdev) * 2 - 1) * max_degrees).to(x.device)
    if pad > 0:
        x = _random_crop(x, shifts, pad)
    if max_degrees > 0:
        # The flip rides along in the rotation's affine map: mirroring maps pixel centers onto pixel
        # centers, so it costs nothing extra and stays exact.
        return _rotate(x, angles, flips if flip else None)
    if flip:
        x = torch.where(flips.view(b, 1, 1, 1), x.flip(-1), x)
    return x


def _random_crop(x: torch.Tensor, shifts: torch.Tensor, pad: int) -> torch.Tensor:
    """Crop ``(h, w)`` windows at per-image offsets ``shifts`` ``(batch, 2)`` out of the zero-padded batch.

    Slicing per distinct row offset, then per distinct column offset (at most ``2 * pad + 1`` each) is
    much cheaper than gathering with a full index tensor.
    """
    h, w = x.shape[-2:]
    padded = F.pad(x, (pad, pad, pad, pad))
    rows = torch.empty(padded.shape[:-2] + (h, padded.shape[-1]), dtype=x.dtype, device=x.device)
    for dy in shifts[:, 0].unique().tolist():
        idx = (shifts[:, 0] == dy).nonzero().squeeze(1)
        rows[idx] = padded[idx, :, dy : dy + h, :]
    out = torch.empty_like(x)
    for dx in shifts[:, 1].unique().tolist():
        idx = (shifts[:, 1] == dx).nonzero().squeeze(1)
        out[idx] = rows[idx, :, :, dx : dx + w]
    return out


def _rotate(x: torch.Tensor, degrees: torch.Tensor, flips: torch.Tensor | None = None) -> torch.Tensor:
    """Rotate each image about its center by ``degrees`` ``(batch,)``, after mirroring it where ``flips``
    ``(batch,)`` is true; bilinear, zero outside."""
    rad = degrees.to(x.dtype) * (math.pi / 180.0)
    cos, sin = torch.cos(rad), torch.sin(rad)
    zero = torch.zeros_like(cos)
    # affine_grid maps output to input coordinates; normalized coordinates are isotropic for square images.
    # Mirroring the input's x coordinate (first row of the map) flips the image before the rotation.
    mirror = torch.ones_like(cos) if flips is None else 1.0 - 2.0 * flips.to(x.dtype)
    theta = torch.stack(
        [torch.stack([mirror * cos, -mirror * sin, zero], 1), torch.stack([sin, cos, zero], 1)], 1
    )
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
