"""Seeded, order-independent train/validation split of image ids.

Reference (sinzlab/nnvision ``nnvision/datasets/utility.py`` ``get_validation_split``, called with
``train_frac=0.8, seed=1000`` by ``monkey_static_loader``): seed NumPy's legacy generator, permute the ids
``1..n``, the first ``int(n * train_frac)`` go to training and the rest to validation. Here the ids are
sorted first and the same permutation is applied to them, so for ids ``1..n`` the split is the reference's,
and for any id set the result depends only on the set, not on the order the ids come in.
"""

from __future__ import annotations

import numpy as np

from v1mtl.common.errors import InputError

TRAIN_FRACTION = 0.8
SPLIT_SEED = 1000


def split_image_ids(
    image_ids: np.ndarray, train_frac: float = TRAIN_FRACTION, seed: int = SPLIT_SEED
) -> tuple[np.ndarray, np.ndarray]:
    """Split unique ``image_ids`` into ``(train_ids, val_ids)``, both sorted ``(k,)`` int64 arrays."""
    if not 0.0 < train_frac <= 1.0:
        raise InputError(f"must be in (0, 1], got {train_frac}", field="train_frac")
    ids = np.unique(np.asarray(image_ids, dtype=np.int64).reshape(-1))
    perm = np.random.RandomState(seed).permutation(len(ids))
    n_train = int(len(ids) * train_frac)
    return np.sort(ids[perm[:n_train]]), np.sort(ids[perm[n_train:]])
