"""Fast batches from an ``ImageSplit``: gather uint8 rows from the memory map, convert, augment, normalize.

No worker processes: a background thread prepares the next batches while the training step runs (NumPy
gathers and torch kernels release the GIL). Sharding by ``rank`` / ``world_size`` follows
``torch.utils.data.DistributedSampler``: the (shuffled) index list is padded by wrapping around to a
multiple of ``world_size`` and rank ``r`` takes every ``world_size``-th index starting at ``r``.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator

import numpy as np
import torch

from v1mtl.data.images.augment import augment_batch
from v1mtl.data.images.types import TIN_GRAY_MEAN, TIN_GRAY_STD, ImageSplit


class ClassificationBatches:
    """Iterable of ``(x, y)`` batches over one split; each ``iter()`` is one epoch.

    ``x`` is ``(batch, 1, height, width)`` float32 in normalized units (``(batch, 3, h, w)`` for RGB
    splits) and ``y`` is ``(batch,)`` int64, both on ``device``. With ``shuffle`` each epoch draws a new
    order from ``generator``; augmentation randomness comes from a seed drawn from ``generator`` at the
    start of the epoch, so a run is repeatable for a given generator state, whatever the thread timing.
    For DDP, give every rank a generator with the same seed and its own ``rank``: the ranks then see
    disjoint shards of one shared permutation.
    """

    def __init__(
        self,
        split: ImageSplit,
        batch_size: int,
        *,
        shuffle: bool,
        generator: torch.Generator | None = None,
        augment: bool = False,
        normalize: tuple[float, float] = (TIN_GRAY_MEAN, TIN_GRAY_STD),
        device: str | torch.device = "cpu",
        rank: int = 0,
        world_size: int = 1,
        drop_last: bool = False,
        prefetch: int = 2,
    ):
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        if not 0 <= rank < world_size:
            raise ValueError(f"rank {rank} outside world_size {world_size}")
        if (shuffle or augment) and generator is None:
            raise ValueError("shuffle and augment need a torch.Generator, so that runs are repeatable")
        self.split = split
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.generator = generator
        self.augment = augment
        self.mean, self.std = float(normalize[0]), float(normalize[1])
        self.device = torch.device(device)
        self.rank = rank
        self.world_size = world_size
        self.drop_last = drop_last
        self.prefetch = prefetch

    @property
    def n_samples(self) -> int:
        """Samples this rank sees per epoch (ceil(n / world_size), as DistributedSampler)."""
        return -(-len(self.split) // self.world_size)

    def __len__(self) -> int:
        n = self.n_samples
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def _epoch_indices(self) -> np.ndarray:
        n = len(self.split)
        if self.shuffle:
            order = torch.randperm(n, generator=self.generator, device="cpu").numpy()
        else:
            order = np.arange(n)
        total = self.n_samples * self.world_size
        if total > n:
            order = np.concatenate([order, order[: total - n]])
        return order[self.rank :: self.world_size]

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        indices = self._epoch_indices()
        aug_gen = None
        if self.augment:
            seed = int(torch.randint(0, 2**62, (1,), generator=self.generator, device="cpu").item())
            # Ranks share the shuffling generator (as with DistributedSampler) but not augmentation draws.
            aug_gen = torch.Generator(device=self.device).manual_seed(seed + self.rank)
        batches = [indices[i : i + self.batch_size] for i in range(0, len(indices), self.batch_size)]
        if self.drop_last and batches and len(batches[-1]) < self.batch_size:
            batches.pop()
        if self.prefetch <= 0:
            for rows in batches:
                yield self._make(rows, aug_gen)
            return
        yield from _prefetched(lambda rows: self._make(rows, aug_gen), batches, self.prefetch)

    def _make(self, rows: np.ndarray, aug_gen: torch.Generator | None) -> tuple[torch.Tensor, torch.Tensor]:
        # Reading the memory map in ascending row order is faster; the batch is a set, so order is free.
        rows = np.sort(rows)
        images = torch.from_numpy(np.ascontiguousarray(self.split.images[rows]))
        labels = torch.from_numpy(np.asarray(self.split.labels[rows], dtype=np.int64))
        if images.ndim == 3:
            images = images.unsqueeze(1)
        else:
            images = images.permute(0, 3, 1, 2)
        if self.device.type == "cuda":
            images, labels = images.pin_memory(), labels.pin_memory()
        images = images.to(self.device, non_blocking=True)
        labels = labels.to(self.device, non_blocking=True)
        x = images.float().div_(255.0)
        if aug_gen is not None:
            x = augment_batch(x, aug_gen)
        x = x.sub_(self.mean).div_(self.std)
        return x.contiguous(), labels


def _prefetched(make, items: list, depth: int) -> Iterator:
    """Yield ``make(item)`` for each item, computed by one background thread up to ``depth`` ahead."""
    q: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()
    done = object()

    def producer() -> None:
        try:
            for item in items:
                if stop.is_set():
                    return
                q.put(("ok", make(item)))
            q.put(("ok", done))
        except BaseException as err:  # handed to the consumer, which re-raises it
            q.put(("err", err))

    thread = threading.Thread(target=producer, daemon=True)
    thread.start()
    try:
        while True:
            kind, value = q.get()
            if kind == "err":
                raise value
            if value is done:
                return
            yield value
    finally:
        stop.set()
        # Unblock a producer waiting on a full queue so the thread can end.
        while thread.is_alive():
            try:
                q.get_nowait()
            except queue.Empty:
                thread.join(timeout=0.01)
