"""Gabor receptive fields on a square pixel grid, built for many neurons at once.

A Gabor is a Gaussian envelope times a sinusoidal carrier (Jones & Palmer 1987, J Neurophysiol 58:1233, who
showed that it fits macaque/cat simple-cell receptive fields). In the rotated frame of the neuron,
``x'`` runs along the carrier's wave vector (across the bars) and ``y'`` along the bars:

    g(x', y') = exp(-x'^2 / (2 sx^2) - y'^2 / (2 sy^2)) * cos(2 pi f x' + phase)

With Ringach's (2002, J Neurophysiol 88:455) dimensionless sizes ``nx = sx * f`` and ``ny = sy * f``, the
envelope is measured in cycles of the carrier. Filters are made zero-mean (so the mean luminance of a
stimulus drives nothing) and scaled to unit L2 norm (so filter outputs of different neurons share units).
"""

from __future__ import annotations

import numpy as np


def pixel_grid_deg(image_size: int, pixels_per_degree: float) -> tuple[np.ndarray, np.ndarray]:
    """Pixel-centre coordinates in degrees relative to the image centre: two ``(size, size)`` arrays.

    ``x`` grows with the column index, ``y`` with the row index (downwards on screen).
    """
    centres = (np.arange(image_size, dtype=np.float64) - (image_size - 1) / 2.0) / pixels_per_degree
    y, x = np.meshgrid(centres, centres, indexing="ij")
    return x, y


def gabor_bank(
    image_size: int,
    pixels_per_degree: float,
    x0_deg: np.ndarray,
    y0_deg: np.ndarray,
    orientation_deg: np.ndarray,
    sf_cpd: np.ndarray,
    sigma_x_deg: np.ndarray,
    sigma_y_deg: np.ndarray,
    phase_deg: np.ndarray,
) -> np.ndarray:
    """Zero-mean, unit-norm Gabor filters, one per entry of the ``(filters,)`` parameter arrays.

    ``orientation_deg`` is the direction of the carrier's wave vector (0 = luminance varies along x, i.e.
    vertical bars). Returns ``(filters, image_size, image_size)`` float32.
    """
    params = [
        np.asarray(a, dtype=np.float64)
        for a in (x0_deg, y0_deg, orientation_deg, sf_cpd, sigma_x_deg, sigma_y_deg, phase_deg)
    ]
    out = np.empty((params[0].shape[0], image_size, image_size), dtype=np.float32)
    x, y = pixel_grid_deg(image_size, pixels_per_degree)
    # Chunks bound the float64 temporaries to a few tens of MB however many filters there are.
    chunk = max(1, 2**22 // (image_size * image_size))
    for start in range(0, out.shape[0], chunk):
        part = [p[start : start + chunk, None, None] for p in params]
        out[start : start + chunk] = _gabors(x, y, *part)
    return out


def _gabors(
    x: np.ndarray,
    y: np.ndarray,
    x0: np.ndarray,
    y0: np.ndarray,
    orientation: np.ndarray,
    sf: np.ndarray,
    sx: np.ndarray,
    sy: np.ndarray,
    phase: np.ndarray,
) -> np.ndarray:
    """Parameters are ``(chunk, 1, 1)``; returns ``(chunk, size, size)`` float64."""
    dx, dy = x[None] - x0, y[None] - y0
    theta = np.deg2rad(orientation)
    xr = dx * np.cos(theta) + dy * np.sin(theta)
    yr = -dx * np.sin(theta) + dy * np.cos(theta)
    envelope = np.exp(-(xr**2) / (2 * sx**2) - yr**2 / (2 * sy**2))
    g = envelope * np.cos(2 * np.pi * sf * xr + np.deg2rad(phase))
    # Remove the DC in proportion to the envelope, so the correction stays inside the receptive field.
    dc = g.sum(axis=(1, 2), keepdims=True) / envelope.sum(axis=(1, 2), keepdims=True)
    g = g - dc * envelope
    norm = np.sqrt((g**2).sum(axis=(1, 2), keepdims=True))
    return g / np.maximum(norm, 1e-12)


def sf_bandwidth_octaves(nx: np.ndarray) -> np.ndarray:
    """Full spatial-frequency bandwidth at half amplitude, in octaves, of a Gabor with size ``nx``.

    The carrier's spectrum is a Gaussian of standard deviation ``1 / (2 pi sx)`` around ``f``; its
    half-amplitude half-width is ``sqrt(2 ln 2) / (2 pi sx)``. In units of ``f`` that is ``h = sqrt(2 ln 2) /
    (2 pi nx)``, and the bandwidth is ``log2((1 + h) / (1 - h))`` (infinite when ``h >= 1``).
    """
    h = np.sqrt(2 * np.log(2)) / (2 * np.pi * np.asarray(nx, dtype=np.float64))
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(h < 1, np.log2((1 + h) / np.maximum(1 - h, 1e-12)), np.inf)


def orientation_bandwidth_deg(ny: np.ndarray) -> np.ndarray:
    """Orientation half-width at half amplitude, in degrees, of a Gabor with size ``ny`` (at its preferred SF).

    Rotating a grating by ``a`` moves it ``f sin(a)`` off the spectral peak along the bars' axis, where the
    envelope's spectrum has standard deviation ``1 / (2 pi sy)``; half amplitude is reached at
    ``sin(a) = sqrt(2 ln 2) / (2 pi ny)`` (90 degrees when that exceeds 1).
    """
    s = np.sqrt(2 * np.log(2)) / (2 * np.pi * np.asarray(ny, dtype=np.float64))
    return np.rad2deg(np.arcsin(np.clip(s, 0.0, 1.0)))
