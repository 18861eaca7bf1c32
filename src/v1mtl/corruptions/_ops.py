"""Batched building blocks shared by the corruptions: boundary handling, separable linear operators,
2-D filtering, resampling, motion blur and HSV conversion. Images are ``(batch, channels, height, width)``.

Boundary modes use SciPy's names: ``"nearest"`` (edge replicate), ``"reflect"`` (half-sample symmetric,
``d c b a | a b c d``) and ``"mirror"`` (whole-sample, ``d c b | a b c d``: OpenCV's default
BORDER_REFLECT_101).
"""

from __future__ import annotations

import math
import warnings
from functools import lru_cache

import numpy as np
import torch
import torch.nn.functional as F


def boundary_index(idx: np.ndarray, n: int, mode: str) -> np.ndarray:
    """Map integer positions (any range) into ``[0, n)`` under a boundary mode."""
    if mode == "nearest" or n == 1:
        return np.clip(idx, 0, n - 1)
    if mode == "reflect":
        m = np.mod(idx, 2 * n)
        return np.where(m < n, m, 2 * n - 1 - m)
    if mode == "mirror":
        m = np.mod(idx, 2 * n - 2)
        return np.where(m < n, m, 2 * n - 2 - m)
    raise ValueError(f"unknown boundary mode {mode!r}")


def gaussian_taps(sigma: float, truncate: float = 4.0) -> np.ndarray:
    """SciPy's 1-D Gaussian (``scipy.ndimage.gaussian_filter``): radius ``int(truncate * sigma + 0.5)``."""
    if sigma <= 1e-15:
        return np.ones(1)
    radius = int(truncate * sigma + 0.5)
    x = np.arange(-radius, radius + 1)
    phi = np.exp(-0.5 * (x / sigma) ** 2)
    return phi / phi.sum()


@lru_cache(maxsize=256)
def _filter_matrix(n: int, taps: tuple[float, ...], mode: str) -> np.ndarray:
    radius = (len(taps) - 1) // 2
    out = np.zeros((n, n))
    rows = np.arange(n)
    for j, w in enumerate(taps):
        np.add.at(out, (rows, boundary_index(rows + j - radius, n, mode)), w)
    return out


def filter_matrix(n: int, taps: np.ndarray, mode: str) -> np.ndarray:
    """``(n, n)`` matrix applying a centred odd-length correlation kernel with the given boundary mode."""
    return _filter_matrix(n, tuple(float(t) for t in taps), mode)


def apply_separable(x: torch.Tensor, rows: np.ndarray | None, cols: np.ndarray | None) -> torch.Tensor:
    """``rows @ x @ cols.T`` over the last two axes; ``rows`` is ``(H', H)``, ``cols`` is ``(W', W)``."""
    if cols is not None:
        # One large GEMM over the rows of all images.
        flat = x.reshape(-1, x.shape[-1]) @ torch.as_tensor(cols, dtype=x.dtype, device=x.device).T
        x = flat.reshape(*x.shape[:-1], cols.shape[0])
    if rows is not None:
        # A batched GEMM against the expanded (stride-0) matrix: torch.matmul's broadcasting would first
        # copy the matrix once per image plane.
        h, w = x.shape[-2:]
        planes = x.reshape(-1, h, w)
        r = torch.as_tensor(rows, dtype=x.dtype, device=x.device)
        x = torch.bmm(r.expand(planes.shape[0], *r.shape), planes).reshape(*x.shape[:-2], r.shape[0], w)
    return x


def gaussian_filter(
    x: torch.Tensor, sigma: float, mode: str = "nearest", truncate: float = 4.0
) -> torch.Tensor:
    """``skimage.filters.gaussian`` over the two spatial axes (its default mode is ``"nearest"``)."""
    taps = gaussian_taps(sigma, truncate)
    if len(taps) == 1:
        return x
    h, w = x.shape[-2:]
    return apply_separable(x, filter_matrix(h, taps, mode), filter_matrix(w, taps, mode))


def pad(x: torch.Tensor, top: int, bottom: int, left: int, right: int, mode: str) -> torch.Tensor:
    """Pad the two spatial axes by any amount (also more than the image size) under a boundary mode."""
    h, w = x.shape[-2:]
    ri = torch.as_tensor(boundary_index(np.arange(-top, h + bottom), h, mode), device=x.device)
    ci = torch.as_tensor(boundary_index(np.arange(-left, w + right), w, mode), device=x.device)
    return x.index_select(-2, ri).index_select(-1, ci)


def filter2d(x: torch.Tensor, kernel: np.ndarray, mode: str) -> torch.Tensor:
    """Correlate every channel with one odd-sized 2-D kernel (``cv2.filter2D`` semantics)."""
    kh, kw = kernel.shape
    b, c, h, w = x.shape
    padded = pad(x.reshape(b * c, 1, h, w), kh // 2, kh // 2, kw // 2, kw // 2, mode)
    k = torch.as_tensor(kernel, dtype=x.dtype, device=x.device)[None, None]
    return F.conv2d(padded, k).reshape(b, c, h, w)


def filter2d_fft(x: torch.Tensor, kernel: np.ndarray, mode: str) -> torch.Tensor:
    """:func:`filter2d` through the FFT, for large kernels: the image is padded by the kernel radius, so
    the circular wrap-around touches only the padding that is cut away."""
    kh, kw = kernel.shape
    b, c, h, w = x.shape
    padded = pad(x, kh // 2, kh // 2, kw // 2, kw // 2, mode)
    ph, pw = padded.shape[-2:]
    # Correlation = convolution with the flipped kernel, placed so that its centre sits at the origin.
    k = np.zeros((ph, pw))
    k[:kh, :kw] = kernel[::-1, ::-1]
    k = np.roll(k, (-(kh // 2), -(kw // 2)), axis=(0, 1))
    spectrum = torch.fft.rfft2(torch.as_tensor(k, dtype=x.dtype, device=x.device))
    out = torch.fft.irfft2(torch.fft.rfft2(padded) * spectrum, s=(ph, pw))
    return out[..., kh // 2 : kh // 2 + h, kw // 2 : kw // 2 + w]


@lru_cache(maxsize=256)
def pil_resize_matrix(n_in: int, n_out: int, method: str) -> np.ndarray:
    """``(n_out, n_in)`` weights of PIL's ``resize`` along one axis, for ``"box"`` and ``"nearest"``.

    Follows Pillow's ``Resample.c`` (``precompute_coeffs`` with the box filter, support 0.5 scaled by the
    downscale factor) and its nearest-neighbour rule ``floor((i + 0.5) * n_in / n_out)``.
    """
    scale = n_in / n_out
    out = np.zeros((n_out, n_in))
    if method == "nearest":
        out[
            np.arange(n_out), np.minimum(np.floor((np.arange(n_out) + 0.5) * scale).astype(int), n_in - 1)
        ] = 1
        return out
    filterscale = max(scale, 1.0)
    support = 0.5 * filterscale
    for i in range(n_out):
        center = (i + 0.5) * scale
        lo = max(int(center - support + 0.5), 0)
        hi = min(int(center + support + 0.5), n_in)
        pos = (np.arange(lo, hi) - center + 0.5) / filterscale
        wts = ((pos > -0.5) & (pos <= 0.5)).astype(float)
        out[i, lo:hi] = wts / wts.sum()
    return out


@lru_cache(maxsize=256)
def zoom_axis(n: int, factor: float, trim: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Linear-interpolation taps of the reference ``clipped_zoom`` along one axis of length ``n``.

    The reference crops ``ceil(n / factor)`` central samples and zooms them with
    ``scipy.ndimage.zoom(order=1)``, whose output sample ``o`` reads input position
    ``o * (in - 1) / (out - 1)`` with ``out = round(in * factor)``; the result is then cut back to ``n``
    samples from the top-left (imagecorruptions) or the centre (hendrycks). Returns ``(lo, hi, weight of
    hi)`` index arrays of length ``n``.
    """
    crop = int(np.ceil(n / factor))
    top = (n - crop) // 2
    out_len = int(round(crop * factor))
    start = (out_len - n) // 2 if trim == "center" else 0
    o = np.arange(start, start + n)
    pos = o * (crop - 1) / (out_len - 1) if out_len > 1 else np.zeros(n)
    lo = np.floor(pos).astype(int)
    frac = pos - lo
    hi = np.minimum(lo + 1, crop - 1)
    return top + lo, top + hi, frac


def zoom(x: torch.Tensor, factor: float, trim: str) -> torch.Tensor:
    """The reference ``clipped_zoom`` applied to every image and channel, ``(B, C, H, W)``."""
    h, w = x.shape[-2:]
    for axis, n in ((-2, h), (-1, w)):
        lo, hi, frac = zoom_axis(n, float(factor), trim)
        shape = [1] * x.dim()
        shape[axis] = n
        wt = torch.as_tensor(frac, dtype=x.dtype, device=x.device).view(shape)
        a = x.index_select(axis, torch.as_tensor(lo, device=x.device))
        b = x.index_select(axis, torch.as_tensor(hi, device=x.device))
        x = a + (b - a) * wt
    return x


@lru_cache(maxsize=32)
def _zoom_blur_operator(h: int, w: int, factors: tuple[float, ...], trim: str) -> torch.Tensor:
    """``(H·W, H·W)`` sparse CSR matrix of ``x + Σ_f zoom(x, f)`` on flattened images."""
    import scipy.sparse as sp

    total = sp.identity(h * w, format="csr")
    for factor in factors:
        per_axis = []
        for n in (h, w):
            lo, hi, frac = zoom_axis(n, factor, trim)
            rows = np.concatenate((np.arange(n), np.arange(n)))
            per_axis.append(
                sp.csr_matrix((np.concatenate((1 - frac, frac)), (rows, np.concatenate((lo, hi)))), (n, n))
            )
        total = total + sp.kron(per_axis[0], per_axis[1], format="csr")
    total.sum_duplicates()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "sparse CSR support is in beta"
        return torch.sparse_csr_tensor(
            torch.as_tensor(total.indptr, dtype=torch.int64),
            torch.as_tensor(total.indices, dtype=torch.int64),
            torch.as_tensor(total.data),
            size=total.shape,
        )


def zoom_sum(x: torch.Tensor, factors: tuple[float, ...], trim: str) -> torch.Tensor:
    """``x + Σ_f zoom(x, f)`` as one sparse matrix product (all images share the operator)."""
    b, c, h, w = x.shape
    op = _zoom_blur_operator(h, w, factors, trim).to(device=x.device, dtype=x.dtype)
    flat = x.reshape(b * c, h * w).T
    return (op @ flat).T.reshape(b, c, h, w)


def motion_blur(x: torch.Tensor, radius: float, sigma: float, angle_deg: torch.Tensor) -> torch.Tensor:
    """Line blur with one angle per image, ``(B, C, H, W)`` and ``angle_deg`` ``(B,)``.

    ImageMagick's ``MotionBlurImage`` as ported by imagecorruptions (``_motion_blur``): a one-sided
    Gaussian of ``2 * radius + 1`` taps, ``k_i ∝ exp(-i² / 2σ²)``, tap ``i`` reading the pixel
    ``ceil(i·cos θ − 0.5)`` columns and ``ceil(i·sin θ − 0.5)`` rows away with edge replication; taps
    from the first one that leaves the image onward are dropped (not renormalised), as in the port.

    Edge replication is a padding made once; each tap then copies whole shifted rows out of the flat
    padded batch (an index over a strided view of all its length-W windows), not single pixels.
    """
    b, c, h, w = x.shape
    width = int(2 * radius + 1)
    taps = np.exp(-(np.arange(width) ** 2) / (2 * sigma**2))
    taps = torch.as_tensor(taps / taps.sum(), dtype=x.dtype, device=x.device)
    theta = torch.deg2rad(angle_deg.to(torch.float64)).to(x.device)
    i = torch.arange(width, dtype=torch.float64, device=x.device)
    dy = torch.ceil(i[None] * torch.sin(theta)[:, None] - 0.5).long()  # (B, width)
    dx = torch.ceil(i[None] * torch.cos(theta)[:, None] - 0.5).long()
    coeff = taps[None] * ((dy.abs() < h) & (dx.abs() < w)).long().cumprod(dim=1).to(x.dtype)
    # A shift of a side or more reads only the edge, as does one of exactly side - 1.
    dy, dx = dy.clamp(-(h - 1), h - 1), dx.clamp(-(w - 1), w - 1)
    top, bottom = int((-dy).clamp(min=0).max()), int(dy.clamp(min=0).max())
    left, right = int((-dx).clamp(min=0).max()), int(dx.clamp(min=0).max())
    padded = pad(x, top, bottom, left, right, "nearest").contiguous()
    hp, wp = padded.shape[-2:]
    flat = padded.reshape(-1)
    windows = flat.as_strided((flat.numel() - w + 1, w), (1, 1))  # row j = flat[j : j + w], a view
    planes = torch.arange(b * c, device=x.device).view(b, c, 1) * (hp * wp)
    rows = (torch.arange(h, device=x.device) + top).view(1, 1, h) * wp + left
    starts = planes + rows  # (B, C, H): where each unshifted output row starts in ``flat``
    offset = dy * wp + dx
    out = torch.zeros_like(x)
    for t in range(width):
        shifted = windows.index_select(0, (starts + offset[:, t].view(b, 1, 1)).reshape(-1))
        out.addcmul_(shifted.view(b, c, h, w), coeff[:, t].view(b, 1, 1, 1))
    return out


def gaussian_kernel_cv2(ksize: int, sigma: float) -> np.ndarray:
    """``cv2.getGaussianKernel`` for ``sigma > 0``."""
    x = np.arange(ksize) - (ksize - 1) / 2
    k = np.exp(-(x**2) / (2 * sigma**2))
    return k / k.sum()


def disk_kernel(radius: float, alias_blur: float) -> np.ndarray:
    """The defocus kernel of the reference ``disk``: an aliased disk on a grid of at least 17 × 17,
    normalised, then smoothed by a 3 × 3 (radius ≤ 8) or 5 × 5 Gaussian with OpenCV's default border."""
    span = 8 if radius <= 8 else int(radius)
    ksize = 3 if radius <= 8 else 5
    grid = np.arange(-span, span + 1)
    xx, yy = np.meshgrid(grid, grid)
    aliased = ((xx**2 + yy**2) <= radius**2).astype(np.float64)
    aliased /= aliased.sum()
    g = gaussian_kernel_cv2(ksize, alias_blur)
    n = len(grid)
    m = _filter_matrix(n, tuple(g), "mirror")
    return m @ aliased @ m.T


def rgb_to_hsv(rgb: torch.Tensor) -> torch.Tensor:
    """``skimage.color.rgb2hsv`` on ``(B, 3, H, W)`` (hue ties resolved blue > green > red, as there)."""
    r, g, b = rgb.unbind(1)
    v = rgb.amax(1)
    delta = v - rgb.amin(1)
    safe = torch.where(delta > 0, delta, torch.ones_like(delta))
    s = torch.where(delta > 0, delta / torch.where(v > 0, v, torch.ones_like(v)), torch.zeros_like(v))
    h = (g - b) / safe
    h = torch.where(g == v, 2.0 + (b - r) / safe, h)
    h = torch.where(b == v, 4.0 + (r - g) / safe, h)
    h = torch.remainder(h / 6.0, 1.0)
    h = torch.where(delta > 0, h, torch.zeros_like(h))
    return torch.stack((h, s, v), 1)


def hsv_to_rgb(hsv: torch.Tensor) -> torch.Tensor:
    """``skimage.color.hsv2rgb`` on ``(B, 3, H, W)``."""
    h, s, v = hsv.unbind(1)
    hi = torch.floor(h * 6)
    f = h * 6 - hi
    p = v * (1 - s)
    q = v * (1 - f * s)
    t = v * (1 - (1 - f) * s)
    hi = torch.remainder(hi, 6).long()
    table = torch.stack(
        (
            torch.stack((v, t, p), 1),
            torch.stack((q, v, p), 1),
            torch.stack((p, v, t), 1),
            torch.stack((p, q, v), 1),
            torch.stack((t, p, v), 1),
            torch.stack((v, p, q), 1),
        ),
        0,
    )
    return table.gather(0, hi[None, :, None].expand(1, -1, 3, -1, -1)).squeeze(0)


def cv2_gray(rgb: torch.Tensor) -> torch.Tensor:
    """``cv2.cvtColor(RGB2GRAY)`` on float images, ``(B, 3, H, W)`` -> ``(B, 1, H, W)``."""
    w = torch.tensor((0.299, 0.587, 0.114), dtype=rgb.dtype, device=rgb.device).view(1, 3, 1, 1)
    return (rgb * w).sum(1, keepdim=True)


def next_power_of_2(n: int) -> int:
    return 1 if n <= 1 else 2 ** math.ceil(math.log2(n))
