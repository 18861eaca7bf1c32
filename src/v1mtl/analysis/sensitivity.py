"""Per-pixel sensitivity maps of a network's representation at one layer.

- ``jacobian_sensitivity``: the L2 norm of the columns of the layer's Jacobian, ``s_p = |d f(x) / d x_p|``,
  i.e. how much the whole representation changes when pixel ``p`` changes. It is estimated with random
  probes: for ``v ~ N(0, I)`` in activation space, ``E[(v^T J)_p^2] = sum_k J_kp^2`` (the stochastic
  diagonal estimator of Bekas, Kokiopoulou & Saad 2007, Appl. Numer. Math. 57, applied to ``J^T J``), so
  one backward pass per probe gives an unbiased estimate of every pixel's squared norm at once.
- ``reconstruction_sensitivity``: where a norm-constrained reconstruction of the image
  (``v1mtl.analysis.reconstruction``) spends its budget: the locally averaged energy of the
  reconstruction after removing its mean, ``G_sigma * (r - mean(r))^2``.
Both return non-negative ``(batch, H, W)`` maps.
"""

from __future__ import annotations

import numpy as np
import torch
from scipy import ndimage

from v1mtl.analysis.reconstruction import FeatureFn


def jacobian_sensitivity(
    extractor: FeatureFn, images: torch.Tensor, n_probes: int = 16, seed: int = 0
) -> np.ndarray:
    """Estimated per-pixel Jacobian norm of ``extractor`` at ``images`` ``(batch, C, H, W)`` -> ``(batch, H, W)``.

    Channels are pooled (the squared norms add up). Image ``i`` of a batch uses its own probe stream
    ``seed + i``, so results do not depend on batching.
    """
    if n_probes < 1:
        raise ValueError(f"n_probes must be at least 1, got {n_probes}")
    x = images.detach().clone().requires_grad_(True)
    acts = extractor(x)
    gens = [torch.Generator().manual_seed(seed + i) for i in range(x.shape[0])]
    total = torch.zeros(x.shape[0], *x.shape[2:], dtype=x.dtype)
    for k in range(n_probes):
        probe = torch.stack([torch.randn(acts.shape[1:], generator=g) for g in gens]).to(acts)
        (grad,) = torch.autograd.grad(acts, x, grad_outputs=probe, retain_graph=k < n_probes - 1)
        total += grad.detach().pow(2).sum(dim=1).cpu()
    return (total / n_probes).sqrt().numpy().astype(np.float64)


def reconstruction_sensitivity(recons: np.ndarray, smooth_sigma: float = 1.0) -> np.ndarray:
    """Local energy of mean-removed reconstructions: ``(batch, H, W)`` (or ``(batch, C, H, W)``) -> ``(batch, H, W)``."""
    r = np.asarray(recons, dtype=np.float64)
    if r.ndim == 4:
        r = r - r.mean(axis=(1, 2, 3), keepdims=True)
        energy = (r**2).sum(axis=1)
    elif r.ndim == 3:
        energy = (r - r.mean(axis=(1, 2), keepdims=True)) ** 2
    else:
        raise ValueError(f"expected (batch, H, W) or (batch, C, H, W) reconstructions, got shape {r.shape}")
    if smooth_sigma > 0:
        energy = np.stack([ndimage.gaussian_filter(e, smooth_sigma, mode="reflect") for e in energy])
    return energy
