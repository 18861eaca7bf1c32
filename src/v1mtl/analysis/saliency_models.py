"""Classic bottom-up saliency models that need no trained weights.

- ``spectral_residual``: Hou & Zhang 2007, "Saliency detection: a spectral residual approach", CVPR. The
  image is resized to a small working width (the paper uses 64 px), the log amplitude spectrum minus its
  3x3 local average (the "spectral residual") is recombined with the original phase, and the squared
  magnitude of the inverse transform, smoothed by a Gaussian, is the saliency map. Deviation: the
  image is mirrored at its borders before the transform (and cropped after), because with small images
  the border discontinuity of the periodic transform otherwise dominates the map.
- ``centre_surround``: the intensity channel of Itti, Koch & Niebur 1998, "A model of saliency-based
  visual attention for rapid scene analysis", IEEE TPAMI 20(11). Centre-surround differences
  ``|G(sigma_c) * I - G(sigma_s) * I|`` at centre scales {1, 2} px and surround ratios {4, 8}, each map
  rescaled to [0, 1] and weighted by ``(1 - mean)^2`` (a simplified version of their normalization
  operator N, which promotes maps with few strong peaks), then summed. Colour and orientation channels are
  left out because the images are gray; Gaussian blurs at full resolution replace their pyramid.
Both return non-negative ``(H, W)`` float64 maps of the input's size.
"""

from __future__ import annotations

import numpy as np
from PIL import Image
from scipy import ndimage

from v1mtl.analysis.settings import SALIENCY_MODELS


def _resize(img: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    if img.shape == shape:
        return img.astype(np.float64)
    pil = Image.fromarray(img.astype(np.float32), mode="F")
    return np.asarray(pil.resize((shape[1], shape[0]), Image.Resampling.BILINEAR), dtype=np.float64)


def spectral_residual(image: np.ndarray, working_width: int = 64, smooth_sigma: float = 3.0) -> np.ndarray:
    """Spectral-residual saliency of a gray ``(H, W)`` image; ``smooth_sigma`` is in working-width pixels."""
    h, w = image.shape
    small = _resize(
        np.asarray(image, dtype=np.float64), (max(1, round(h * working_width / w)), working_width)
    )
    # mirror the image so the Fourier transform sees no jump at the borders, which would otherwise
    # dominate the residual; the centre is cropped back out below
    ph, pw = small.shape[0] // 2, small.shape[1] // 2
    spectrum = np.fft.fft2(np.pad(small, ((ph, ph), (pw, pw)), mode="symmetric"))
    log_amp = np.log(np.abs(spectrum) + 1e-12)
    residual = log_amp - ndimage.uniform_filter(log_amp, size=3, mode="nearest")
    sal = np.abs(np.fft.ifft2(np.exp(residual + 1j * np.angle(spectrum)))) ** 2
    sal = ndimage.gaussian_filter(sal, smooth_sigma, mode="nearest")
    sal = sal[ph : ph + small.shape[0], pw : pw + small.shape[1]]
    return np.clip(_resize(sal, (h, w)), 0.0, None)


def centre_surround(
    image: np.ndarray,
    centre_sigmas: tuple[float, ...] = (1.0, 2.0),
    surround_ratios: tuple[float, ...] = (4.0, 8.0),
) -> np.ndarray:
    """Itti-Koch-style intensity centre-surround saliency of a gray ``(H, W)`` image."""
    img = np.asarray(image, dtype=np.float64)
    total = np.zeros_like(img)
    for sc in centre_sigmas:
        centre = ndimage.gaussian_filter(img, sc, mode="reflect")
        for ratio in surround_ratios:
            fmap = np.abs(centre - ndimage.gaussian_filter(img, sc * ratio, mode="reflect"))
            span = fmap.max() - fmap.min()
            if span <= 0:
                continue
            fmap = (fmap - fmap.min()) / span
            total += fmap * (1.0 - fmap.mean()) ** 2
    return total


def saliency_map(image: np.ndarray, model: str) -> np.ndarray:
    """The saliency map of ``image`` ``(H, W)`` under the built-in ``model`` (see ``SALIENCY_MODELS``)."""
    if model == "spectral_residual":
        return spectral_residual(image)
    if model == "centre_surround":
        return centre_surround(image)
    raise ValueError(f"unknown saliency model {model!r}; expected one of {SALIENCY_MODELS}")
