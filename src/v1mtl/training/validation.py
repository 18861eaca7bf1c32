"""Validation and test passes: classification accuracy and neural validation correlation.

Under DDP every process evaluates a contiguous block of the split and the counts are summed, so the
accuracy is exact (no padded duplicates) and identical on every process, as model selection needs.
"""

from __future__ import annotations

from contextlib import nullcontext

import numpy as np
import torch

from v1mtl.common.measures import corr
from v1mtl.data.images import ClassificationBatches, ImageSplit
from v1mtl.models import MultiTaskNet
from v1mtl.training.distributed import DistInfo, all_sum
from v1mtl.training.neural_data import NeuralTask, epoch_generator, eval_batches
from v1mtl.training.noise import add_noise_normalized


def _block(split: ImageSplit, info: DistInfo) -> tuple[ImageSplit, int]:
    n = len(split)
    lo, hi = n * info.rank // info.world_size, n * (info.rank + 1) // info.world_size
    return ImageSplit(split.images[lo:hi], split.labels[lo:hi]), lo


@torch.no_grad()
def accuracy(
    net: MultiTaskNet,
    split: ImageSplit,
    *,
    batch_size: int,
    normalize: tuple[float, float],
    device: torch.device,
    info: DistInfo | None = None,
    autocast: bool = False,
    channels_last: bool = False,
    noise: dict | None = None,
) -> tuple[float, int]:
    """Top-1 accuracy (fraction) of ``net`` on ``split`` and the number of images.

    ``noise``: ``{"stds", "probs", "space", "seed"}`` applies the noise mixture with a generator seeded by
    (seed, first image index of the batch), the same every epoch.
    """
    info = info or DistInfo()
    was_training = net.training
    net.eval()
    block, offset = _block(split, info)
    counts = torch.zeros(2, dtype=torch.float64)
    if len(block):
        batches = ClassificationBatches(block, batch_size, shuffle=False, normalize=normalize, device=device)
        start = offset
        for x, y in batches:
            if noise is not None:
                gen = epoch_generator(noise["seed"], 0, 10_000_000 + start)
                x = add_noise_normalized(
                    x, *normalize, noise["stds"], noise["probs"], gen, space=noise["space"]
                )
            if channels_last:
                x = x.contiguous(memory_format=torch.channels_last)
            ctx = torch.autocast(device.type, dtype=torch.bfloat16) if autocast else nullcontext()
            with ctx:
                logits = net(x, task="classification")
            counts[0] += (logits.argmax(dim=1) == y).sum().item()
            counts[1] += len(y)
            start += len(y)
    counts = all_sum(counts, info)
    net.train(was_training)
    n = int(counts[1].item())
    return (float(counts[0] / counts[1]) if n else float("nan")), n


@torch.no_grad()
def neural_correlation(
    net: MultiTaskNet,
    task: NeuralTask,
    *,
    batch_size: int,
    device: torch.device,
    autocast: bool = False,
    split: str = "val",
) -> float:
    """Mean over all neurons of the Pearson correlation between predictions and targets (eval mode, readout
    at its mean location) on the ``"val"`` images or the ``"test"`` images (targets averaged over their
    repeats); NaN if no session has data there."""
    if split not in ("val", "test"):
        raise ValueError(f"split must be 'val' or 'test', got {split!r}")
    was_training = net.training
    net.eval()
    per_neuron = []
    for sid, ds in getattr(task, split).items():
        if len(ds) < 2:
            continue
        preds, targets = [], []
        for x, y, mask in eval_batches(ds, batch_size):
            ctx = torch.autocast(device.type, dtype=torch.bfloat16) if autocast else nullcontext()
            with ctx:
                p = net(x.to(device), task="neural", session=sid).float().cpu()
            preds.append(p.numpy())
            if y.dim() == 3:  # test items: (batch, repeats, neurons)
                y = (y * mask).sum(1) / mask.sum(1).clamp(min=1)
                mask = mask.any(1)
            targets.append(torch.where(mask, y, torch.full_like(y, float("nan"))).numpy())
        per_neuron.append(corr(np.concatenate(preds), np.concatenate(targets), axis=0))
    net.train(was_training)
    if not per_neuron:
        return float("nan")
    values = np.concatenate(per_neuron)
    return float(np.nanmean(values)) if np.isfinite(values).any() else float("nan")
