"""A batched JPEG encode-decode round trip in torch that follows libjpeg's baseline path, as PIL uses it.

Facts taken from the IJG libjpeg sources (``jcparam.c``, ``jccolor.c``, ``jcsample.c``, ``jcdctmgr.c``,
``jdsample.c``, ``jdcolor.c``) and the JPEG standard (ITU-T T.81, Annex K.1 tables):

- quantisation tables: Annex K luminance/chrominance tables scaled by ``5000 / q`` (q < 50) or
  ``200 − 2q`` percent, ``(t · s + 50) // 100`` clamped to [1, 255] (baseline);
- colour: JFIF RGB -> YCbCr rounded to integers; chroma 4:2:0 by 2 × 2 averaging with libjpeg's
  alternating rounding bias (1, 2);
- 8 × 8 orthonormal DCT-II, quantisation rounding half away from zero;
- decoding: dequantised inverse DCT, +128, rounded and clamped; "fancy" (triangular) chroma upsampling
  ``(3·near + far)`` vertically then ``(3·this + neighbour + 8 | 7) >> 4`` horizontally, edges replicated;
  YCbCr -> RGB with libjpeg's rounding.

The DCT is computed in floating point where libjpeg uses its integer "islow" transform, so a coefficient
that lies within rounding error of a quantisation boundary may land in the neighbouring bin; the fidelity
test measures the resulting difference against PIL. Images whose sides are not multiples of 16 are
padded by edge replication (libjpeg also replicates edges, but fills whole padding blocks differently).
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
import torch

LUMA_TABLE = (
    (16, 11, 10, 16, 24, 40, 51, 61),
    (12, 12, 14, 19, 26, 58, 60, 55),
    (14, 13, 16, 24, 40, 57, 69, 56),
    (14, 17, 22, 29, 51, 87, 80, 62),
    (18, 22, 37, 56, 68, 109, 103, 77),
    (24, 35, 55, 64, 81, 104, 113, 92),
    (49, 64, 78, 87, 103, 121, 120, 101),
    (72, 92, 95, 98, 112, 100, 103, 99),
)
CHROMA_TABLE = (
    (17, 18, 24, 47, 99, 99, 99, 99),
    (18, 21, 26, 66, 99, 99, 99, 99),
    (24, 26, 56, 99, 99, 99, 99, 99),
)
CHROMA_TABLE += ((47, 66, 99, 99, 99, 99, 99, 99),) + ((99,) * 8,) * 4


def quant_table(base: tuple[tuple[int, ...], ...], quality: int) -> np.ndarray:
    """libjpeg's ``jpeg_set_quality(quality, force_baseline=TRUE)`` scaling of one base table."""
    quality = min(max(int(quality), 1), 100)
    scale = 5000 // quality if quality < 50 else 200 - 2 * quality
    table = (np.asarray(base, dtype=np.int64) * scale + 50) // 100
    return np.clip(table, 1, 255).astype(np.float64)


@lru_cache(maxsize=1)
def _dct_matrix() -> np.ndarray:
    """``(64, 64)`` orthonormal 2-D DCT-II of a row-major 8 × 8 block (Kronecker product of the 1-D one)."""
    u = np.arange(8)[:, None]
    x = np.arange(8)[None, :]
    d = np.sqrt(2 / 8) * np.cos((2 * x + 1) * u * math.pi / 16)
    d[0] /= math.sqrt(2)
    return np.kron(d, d)


def _blocks_roundtrip(plane: torch.Tensor, table: np.ndarray) -> torch.Tensor:
    """Level shift, DCT, quantise, dequantise, inverse DCT of ``(N, H, W)`` samples (H, W multiples of 8)."""
    n, h, w = plane.shape
    d = torch.as_tensor(_dct_matrix(), dtype=plane.dtype, device=plane.device)
    q = torch.as_tensor(table.reshape(64), dtype=plane.dtype, device=plane.device)
    blocks = (plane - 128).reshape(n, h // 8, 8, w // 8, 8).permute(0, 1, 3, 2, 4).reshape(-1, 64)
    coef = (blocks @ d.T).div_(q)
    coef.add_(torch.copysign(torch.full_like(coef, 0.5), coef)).trunc_()  # round half away from zero
    out = coef.mul_(q) @ d
    out = out.reshape(n, h // 8, w // 8, 8, 8).permute(0, 1, 3, 2, 4).reshape(n, h, w)
    return out.add_(128).round_().clamp_(0, 255)


def _downsample(c: torch.Tensor) -> torch.Tensor:
    """libjpeg ``h2v2_downsample``: 2 × 2 sums plus a bias alternating 1, 2 across columns, ``>> 2``."""
    w = c.shape[-1]
    sums = torch.nn.functional.avg_pool2d(c[:, None], 2)[:, 0].mul_(4)  # exact: integer sums
    bias = torch.tensor((1.0, 2.0), dtype=c.dtype, device=c.device).repeat(w // 4 + 1)[: w // 2]
    return sums.add_(bias).div_(4).floor_()


def _upsample(c: torch.Tensor) -> torch.Tensor:
    """libjpeg ``h2v2_fancy_upsample`` (triangular filter, edge samples replicated)."""
    n, h, w = c.shape
    c3 = 3 * c
    rows = torch.empty((n, h, 2, w), dtype=c.dtype, device=c.device)  # column sums, 3·near + far
    torch.add(c3, torch.cat((c[:, :1], c[:, :-1]), 1), out=rows[:, :, 0])
    torch.add(c3, torch.cat((c[:, 1:], c[:, -1:]), 1), out=rows[:, :, 1])
    rows = rows.reshape(n, 2 * h, w)
    r3 = 3 * rows
    out = torch.empty((n, 2 * h, w, 2), dtype=c.dtype, device=c.device)
    torch.add(r3, torch.cat((rows[:, :, :1], rows[:, :, :-1]), 2), out=out[..., 0]).add_(8)
    torch.add(r3, torch.cat((rows[:, :, 1:], rows[:, :, -1:]), 2), out=out[..., 1]).add_(7)
    return out.div_(16).floor_().reshape(n, 2 * h, 2 * w)


# JFIF RGB -> YCbCr (ITU-T T.871), chroma offset 128 added separately.
_RGB_TO_YCC = (
    (0.299, 0.587, 0.114),
    (-0.168735892, -0.331264108, 0.5),
    (0.5, -0.418687589, -0.081312411),
)


def jpeg_roundtrip(x: torch.Tensor, quality: int) -> torch.Tensor:
    """Encode and decode ``(B, 3, H, W)`` images in [0, 1] at a PIL/libjpeg quality; returns [0, 1]."""
    b, _, h, w = x.shape
    work = torch.float64 if x.dtype == torch.float64 else torch.float32
    rgb = (x.to(work) * 255).round_().clamp_(0, 255)
    ph, pw = -h % 16, -w % 16
    if ph or pw:
        rgb = torch.cat((rgb, rgb[:, :, -1:].expand(b, 3, ph, w)), 2) if ph else rgb
        rgb = torch.cat((rgb, rgb[:, :, :, -1:].expand(b, 3, h + ph, pw)), 3) if pw else rgb
    to_ycc = torch.tensor(_RGB_TO_YCC, dtype=work, device=x.device)
    offset = torch.tensor((0.0, 128.0, 128.0), dtype=work, device=x.device).view(1, 3, 1, 1)
    ycc = torch.einsum("dc,bchw->bdhw", to_ycc, rgb).add_(offset).round_()
    y = _blocks_roundtrip(ycc[:, 0], quant_table(LUMA_TABLE, quality))
    chroma = _upsample(
        _blocks_roundtrip(_downsample(ycc[:, 1:].flatten(0, 1)), quant_table(CHROMA_TABLE, quality))
    )
    chroma = chroma.sub_(128).reshape(b, 2, *y.shape[-2:])
    cb, cr = chroma[:, 0], chroma[:, 1]
    out = torch.empty((b, 3, *y.shape[-2:]), dtype=work, device=x.device)
    torch.add(y, (1.402 * cr).add_(0.5).floor_(), out=out[:, 0])
    torch.add(y, (-0.344136286 * cb).sub_(0.714136286 * cr).add_(0.5).floor_(), out=out[:, 1])
    torch.add(y, (1.772 * cb).add_(0.5).floor_(), out=out[:, 2])
    return (out[:, :, :h, :w].clamp(0, 255) / 255).to(x.dtype)
