"""PyTorch datasets and loaders over a V1 dataset, one loader per session.

Batches are ``(images, responses, mask)``:

- train / validation: ``images (B, 1, H, W)`` float32, ``responses (B, neurons)`` float32 with NaN
  replaced by 0, ``mask (B, neurons)`` bool, True where the neuron was recorded on that trial;
- test: one item per test image with all its repeats: ``images (B, 1, H, W)``, ``responses
  (B, repeats, neurons)`` and ``mask (B, repeats, neurons)``, so measures over repeats can be computed.
  (The reference's ``RepeatsBatchSampler`` yields one batch per test image with the image repeated once
  per repeat; here the image is given once and the repeats sit on their own axis.)

Training trials are split into train and validation by image id (``split_image_ids``: 80/20, seed 1000
over the dataset's image ids, as nnvision ``monkey_static_loader`` does), so all trials of an image land on
the same side in every session. Shuffling is seeded per session, so a run is repeatable.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch.utils.data import BatchSampler, DataLoader, Dataset, RandomSampler, SequentialSampler

from v1mtl.data.neural.preprocess import Crop, ImageStats, prepare_images
from v1mtl.data.neural.recordings import Session, V1Dataset
from v1mtl.data.neural.split import SPLIT_SEED, TRAIN_FRACTION, split_image_ids

Batch = tuple[torch.Tensor, torch.Tensor, torch.Tensor]


def _masked(responses: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
    resp = torch.from_numpy(np.array(responses, dtype=np.float32))
    mask = ~torch.isnan(resp)
    return torch.nan_to_num(resp, nan=0.0), mask


class ResponseDataset(Dataset):
    """Items of one session: the input image of each item plus its responses and mask.

    Args:
        inputs: ``(n_images, 1, H, W)`` float32, the prepared stimulus set (shared by all sessions).
        rows: ``(items,)`` row of ``inputs`` for each item.
        responses: ``(items, neurons)`` single trials or ``(items, repeats, neurons)`` test repeats; NaN =
            not recorded.

    Indexing with an int gives one item; with a sequence of ints, a whole batch at once (used by the
    loaders below with a ``BatchSampler``, which avoids per-item collation).
    """

    def __init__(self, inputs: torch.Tensor, rows: np.ndarray, responses: np.ndarray):
        if len(rows) != len(responses):
            raise ValueError(f"{len(rows)} rows for {len(responses)} response items")
        self.inputs = inputs
        self.rows = torch.as_tensor(np.asarray(rows, dtype=np.int64))
        self.responses, self.mask = _masked(responses)

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, index: int | Sequence[int]) -> Batch:
        idx = torch.as_tensor(index, dtype=torch.long)
        return self.inputs[self.rows[idx]], self.responses[idx], self.mask[idx]


def _loader(dataset: ResponseDataset, batch_size: int, shuffle: bool, seed: int) -> DataLoader:
    if shuffle:
        sampler = RandomSampler(dataset, generator=torch.Generator().manual_seed(seed))
    else:
        sampler = SequentialSampler(dataset)
    return DataLoader(dataset, sampler=BatchSampler(sampler, batch_size, drop_last=False), batch_size=None)


@dataclass
class V1Loaders:
    """Per-session loaders plus what a model needs to be built for them.

    Attributes:
        train, validation, test: ``{session_id: DataLoader}`` in the dataset's session order.
        stats: the z-scoring statistics applied (save them with the model).
        input_shape: ``(1, H, W)`` of one network input.
        n_neurons: ``{session_id: neurons}``.
        train_ids, val_ids: the image-id split used.
    """

    train: dict[str, DataLoader]
    validation: dict[str, DataLoader]
    test: dict[str, DataLoader]
    stats: ImageStats
    input_shape: tuple[int, int, int]
    n_neurons: dict[str, int]
    train_ids: np.ndarray
    val_ids: np.ndarray


def session_datasets(
    dataset: V1Dataset, session: Session, inputs: torch.Tensor, train_ids: np.ndarray, val_ids: np.ndarray
) -> tuple[ResponseDataset, ResponseDataset, ResponseDataset]:
    """Train, validation and test ``ResponseDataset`` of one session."""
    ids = np.asarray(session.train_image_ids)
    responses = np.asarray(session.train_responses)
    is_train = np.isin(ids, train_ids)
    is_val = np.isin(ids, val_ids)
    return (
        ResponseDataset(inputs, dataset.image_rows(ids[is_train]), responses[is_train]),
        ResponseDataset(inputs, dataset.image_rows(ids[is_val]), responses[is_val]),
        ResponseDataset(
            inputs, dataset.image_rows(np.asarray(session.test_image_ids)), session.test_responses
        ),
    )


def build_loaders(
    dataset: V1Dataset,
    *,
    batch_size: int = 128,
    test_batch_size: int = 64,
    crop: Crop = 0,
    subsample: int = 1,
    scale: float = 1.0,
    stats: ImageStats | None = None,
    train_frac: float = TRAIN_FRACTION,
    split_seed: int = SPLIT_SEED,
    shuffle_seed: int = 1000,
) -> V1Loaders:
    """Prepare the stimuli once (``prepare_images``) and build train/validation/test loaders per session.

    Train loaders shuffle (seed ``shuffle_seed + session index``); validation and test keep their order.
    The batch size 128 is the reference's (nntransfer ``DatasetConfig.batch_size``).
    """
    prepared, used_stats = prepare_images(
        dataset.images, crop=crop, subsample=subsample, scale=scale, stats=stats
    )
    inputs = torch.from_numpy(prepared)
    train_ids, val_ids = split_image_ids(dataset.image_ids, train_frac=train_frac, seed=split_seed)
    train, validation, test, n_neurons = {}, {}, {}, {}
    for k, s in enumerate(dataset.sessions):
        tr, va, te = session_datasets(dataset, s, inputs, train_ids, val_ids)
        train[s.session_id] = _loader(tr, batch_size, shuffle=True, seed=shuffle_seed + k)
        validation[s.session_id] = _loader(va, batch_size, shuffle=False, seed=0)
        test[s.session_id] = _loader(te, test_batch_size, shuffle=False, seed=0)
        n_neurons[s.session_id] = s.n_neurons
    return V1Loaders(
        train=train,
        validation=validation,
        test=test,
        stats=used_stats,
        input_shape=tuple(prepared.shape[1:]),
        n_neurons=n_neurons,
        train_ids=train_ids,
        val_ids=val_ids,
    )


def round_robin(loaders: dict[str, DataLoader], n_batches: int | None = None) -> Iterator[tuple[str, Batch]]:
    """Yield ``(session_id, batch)`` visiting the sessions in turn, restarting each loader when it runs out.

    ``n_batches`` None gives one pass of ``n_sessions * longest loader`` batches (neural_cotraining's
    ``LongCycler``); an int gives exactly that many. Sessions with no batches are skipped.
    """
    active = {k: v for k, v in loaders.items() if len(v) > 0}
    if not active:
        return
    total = len(active) * max(len(v) for v in active.values()) if n_batches is None else n_batches
    iterators = {k: iter(v) for k, v in active.items()}
    for key in itertools.islice(itertools.cycle(active), total):
        try:
            batch = next(iterators[key])
        except StopIteration:
            iterators[key] = iter(active[key])
            batch = next(iterators[key])
        yield key, batch
