"""Neural batches for co-training: per-session datasets over a targets dataset, cycled and sharded.

The targets are a native V1 dataset (images = classification images, responses = predicted targets). Its
images are normalized with the classification statistics (the reference normalizes its MTL neural sets with
the TinyImageNet gray stats, nntransfer_recipes ``mtl_models.py``); training trials are split 80/20 by
image id with seed 1000
(``split_image_ids``). Datasets come from ``v1mtl.data.neural.loaders.session_datasets``; the targets'
test images (the classification test split) give the test correlation of ``final.json``.

``standardize=True`` z-scores every neuron's targets with the mean and standard deviation of its training
trials (``TargetScaling``), so that each neuron weighs the same in the MSE whatever its rate; a neuron
whose training targets are constant keeps scale 1. Correlations, the measure of the neural fit, do not
change under this per-neuron affine map.

Shuffling is driven by one ``torch.Generator`` per session, seeded from (run seed, epoch, session index),
so an epoch's batches depend only on the epoch, which makes a resumed run repeat them exactly. Each session
loader is cycled (a new permutation whenever it runs out), and under DDP each pass is sharded the way
``DistributedSampler`` does (pad by wrapping to a multiple of the world size, rank ``r`` takes every
``world_size``-th index from ``r``), with the same permutation on every rank.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
import torch

from v1mtl.data.neural import ImageStats, V1Dataset, prepare_images, split_image_ids
from v1mtl.data.neural.loaders import ResponseDataset, session_datasets

Batch = tuple[torch.Tensor, torch.Tensor, torch.Tensor]


@dataclass
class TargetScaling:
    """Per-neuron ``(target - mean) / std`` of one session; ``mean``, ``std``: ``(neurons,)``."""

    mean: torch.Tensor
    std: torch.Tensor

    @classmethod
    def fit(cls, responses: torch.Tensor, mask: torch.Tensor) -> TargetScaling:
        """Statistics of the recorded entries of ``responses`` ``(trials, neurons)``."""
        count = mask.sum(0).clamp(min=1)
        mean = (responses * mask).sum(0) / count
        var = (((responses - mean) * mask) ** 2).sum(0) / count
        std = var.sqrt()
        return cls(mean, torch.where(std > 1e-8, std, torch.ones_like(std)))

    def apply(self, dataset: ResponseDataset) -> None:
        """Scale ``dataset``'s recorded responses in place (unrecorded entries stay 0)."""
        scaled = (dataset.responses - self.mean) / self.std
        dataset.responses = torch.where(dataset.mask, scaled, torch.zeros_like(scaled))

    def to_dict(self) -> dict[str, list[float]]:
        return {"mean": self.mean.tolist(), "std": self.std.tolist()}


@dataclass
class NeuralTask:
    """The neural side of a run.

    Attributes:
        train, val, test: ``{session_id: ResponseDataset}`` in the dataset's session order (test items
            hold ``(repeats, neurons)`` responses).
        n_neurons: ``{session_id: neurons}``.
        image_size: side of the (square) neural input.
        scaling: ``{session_id: TargetScaling}`` when the targets were standardized, else empty.
    """

    train: dict[str, ResponseDataset]
    val: dict[str, ResponseDataset]
    test: dict[str, ResponseDataset]
    n_neurons: dict[str, int]
    image_size: int
    scaling: dict[str, TargetScaling] = field(default_factory=dict)

    @property
    def sessions(self) -> list[str]:
        return list(self.train)


def build_neural_task(
    dataset: V1Dataset,
    *,
    mean: float,
    std: float,
    train_fraction: float = 0.8,
    split_seed: int = 1000,
    standardize: bool = False,
) -> NeuralTask:
    """Prepare the stimuli once and make the train/validation/test datasets of every session.

    ``standardize`` z-scores every split with the statistics of the session's training trials.
    """
    inputs, _ = prepare_images(dataset.images, stats=ImageStats(mean=mean, std=std))
    inputs_t = torch.from_numpy(inputs)
    train_ids, val_ids = split_image_ids(dataset.image_ids, train_frac=train_fraction, seed=split_seed)
    train, val, test, n_neurons, scaling = {}, {}, {}, {}, {}
    for s in dataset.sessions:
        tr, va, te = session_datasets(dataset, s, inputs_t, train_ids, val_ids)
        if len(tr) == 0:
            continue
        if standardize:
            scaling[s.session_id] = TargetScaling.fit(tr.responses, tr.mask)
            for ds in (tr, va, te):
                scaling[s.session_id].apply(ds)
        train[s.session_id], val[s.session_id], test[s.session_id] = tr, va, te
        n_neurons[s.session_id] = s.n_neurons
    side = int(inputs.shape[-1])
    return NeuralTask(train=train, val=val, test=test, n_neurons=n_neurons, image_size=side, scaling=scaling)


def epoch_seed(seed: int, epoch: int, stream: int) -> int:
    """A 63-bit seed determined by (seed, epoch, stream), independent across the three."""
    mixed = np.random.SeedSequence([seed, epoch, stream]).generate_state(1, dtype=np.uint64)[0]
    return int(mixed) & ((1 << 63) - 1)


def epoch_generator(seed: int, epoch: int, stream: int) -> torch.Generator:
    """A CPU generator determined by (seed, epoch, stream): the same on every rank and after a resume."""
    return torch.Generator().manual_seed(epoch_seed(seed, epoch, stream))


def sharded_permutation(n: int, generator: torch.Generator, rank: int, world_size: int) -> torch.Tensor:
    """A random order of ``range(n)`` padded by wrapping to a multiple of ``world_size``; this rank's share."""
    order = torch.randperm(n, generator=generator)
    total = -(-n // world_size) * world_size
    if total > n:
        order = torch.cat([order, order[: total - n]])
    return order[rank::world_size]


class CycledBatches:
    """Endless shuffled batches of one session's dataset (``next()`` restarts it when a pass ends)."""

    def __init__(
        self,
        dataset: ResponseDataset,
        batch_size: int,
        generator: torch.Generator,
        rank: int = 0,
        world_size: int = 1,
    ):
        self.dataset = dataset
        self.batch_size = batch_size
        self.generator = generator
        self.rank, self.world_size = rank, world_size
        self._order = torch.empty(0, dtype=torch.long)
        self._pos = 0

    def __iter__(self) -> Iterator[Batch]:
        return self

    def __next__(self) -> Batch:
        if self._pos >= len(self._order):
            self._order = sharded_permutation(len(self.dataset), self.generator, self.rank, self.world_size)
            self._pos = 0
        rows = self._order[self._pos : self._pos + self.batch_size]
        self._pos += self.batch_size
        return self.dataset[rows]


def epoch_batches(
    task: NeuralTask, batch_size: int, seed: int, epoch: int, rank: int = 0, world_size: int = 1
) -> dict[str, CycledBatches]:
    """The cycled batch sources of every session for one epoch."""
    return {
        sid: CycledBatches(ds, batch_size, epoch_generator(seed, epoch, 1000 + k), rank, world_size)
        for k, (sid, ds) in enumerate(task.train.items())
    }


def eval_batches(
    dataset: ResponseDataset, batch_size: int, rank: int = 0, world_size: int = 1
) -> Iterator[Batch]:
    """This rank's share of a dataset in order (contiguous blocks, no padding, so no item counts twice)."""
    n = len(dataset)
    lo, hi = n * rank // world_size, n * (rank + 1) // world_size
    for start in range(lo, hi, batch_size):
        yield dataset[list(range(start, min(start + batch_size, hi)))]
