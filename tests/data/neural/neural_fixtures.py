"""Small V1 datasets built in code, shared by the neural-data tests (not a test module itself)."""

from __future__ import annotations

import numpy as np

from v1mtl.data.neural import Session, V1Dataset


def toy_dataset(
    n_images: int = 20,
    size: int = 8,
    neurons: tuple[int, ...] = (3, 4),
    repeats: tuple[int, ...] = (4, 2),
    nan_fraction: float = 0.1,
    seed: int = 0,
) -> V1Dataset:
    """Images with ids 5, 15, 25, ... (not row numbers); the last 20% of images are every session's test set.

    Each training image is shown once or twice per session; responses are Poisson counts whose mean depends
    on the image, with a few single values set to NaN (never a whole trial).
    """
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, size=(n_images, size, size), dtype=np.uint8)
    image_ids = 10 * np.arange(n_images, dtype=np.int64) + 5
    n_train = int(n_images * 0.8)
    sessions = []
    for k, (n_neurons, n_rep) in enumerate(zip(neurons, repeats, strict=True)):
        rate = rng.uniform(0.5, 6.0, size=(n_images, n_neurons))
        shows = rng.integers(1, 3, size=n_train)
        train_rows = np.repeat(np.arange(n_train), shows)
        rng.shuffle(train_rows)
        train = rng.poisson(rate[train_rows]).astype(np.float32)
        test = rng.poisson(rate[n_train:, None, :], size=(n_images - n_train, n_rep, n_neurons)).astype(
            np.float32
        )
        for arr in (train, test):
            holes = rng.random(arr.shape) < nan_fraction
            holes.reshape(-1, n_neurons)[:, 0] = False  # keep every trial partly recorded
            arr[holes] = np.nan
        sessions.append(
            Session(
                session_id=f"s{k}",
                subject_id=f"monkey{k % 2}",
                train_image_ids=image_ids[train_rows],
                train_responses=train,
                test_image_ids=image_ids[n_train:],
                test_responses=test,
            )
        )
    return V1Dataset(images=images, image_ids=image_ids, sessions=sessions, pixels_per_degree=None)


def canonical(dataset: V1Dataset) -> dict:
    """Order-free view: images by id; per session, trials sorted (stably) by image id, test images by id."""
    order = np.argsort(dataset.image_ids)
    out = {"images": np.asarray(dataset.images)[order], "ids": np.asarray(dataset.image_ids)[order]}
    for s in dataset.sessions:
        tr = np.argsort(s.train_image_ids, kind="stable")
        te = np.argsort(s.test_image_ids, kind="stable")
        out[s.session_id] = (
            s.subject_id,
            np.asarray(s.train_image_ids)[tr],
            np.asarray(s.train_responses)[tr],
            np.asarray(s.test_image_ids)[te],
            np.asarray(s.test_responses)[te],
        )
    return out


def assert_same(a: V1Dataset, b: V1Dataset) -> None:
    """Same content up to order (NaN compares equal to NaN)."""
    ca, cb = canonical(a), canonical(b)
    assert ca.keys() == cb.keys()
    for key in ca:
        va, vb = ca[key], cb[key]
        if isinstance(va, tuple):
            assert va[0] == vb[0]
            for x, y in zip(va[1:], vb[1:], strict=True):
                np.testing.assert_array_equal(x, y)
        else:
            np.testing.assert_array_equal(va, vb)
