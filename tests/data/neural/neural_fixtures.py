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


def cadena_content(rng: np.random.Generator, n_images: int = 10, size: int = 6) -> dict:
    """A pickle dict in the layout of ``cadena_ploscb_data.pkl``: ``(repeats=4, images, neurons=5)``.

    Neurons 0-2: session 10 of subject 1, 4 repeats; neurons 3-4: session 20 of subject 2, 2 repeats
    (NaN in slots 3-4); neuron 1 also missed repeat 0 of image 0. Image types nest 1-element arrays.
    """
    types = ["original", "conv1", "conv2", "conv3", "conv4"]
    responses = rng.poisson(3.0, size=(4, n_images, 5)).astype(np.float64)
    responses[2:, :, 3:] = np.nan
    responses[0, 0, 1] = np.nan
    return {
        "images": rng.uniform(0, 255, size=(n_images, size, size)),
        "responses": responses,
        "repetitions": np.array([4, 4, 4, 2, 2]),
        "image_ids": np.arange(1, n_images + 1)[:, None],
        "image_numbers": np.repeat(np.arange(1, n_images // 5 + 2), 5)[:n_images, None],
        "image_types": np.array([[np.array([types[i % 5]])] for i in range(n_images)], dtype=object),
        "subject_id": np.array([1, 1, 1, 2, 2]),
        "session_id": np.array([10, 10, 10, 20, 20]),
    }


NNVISION_SESSIONS = {"3631896544452": 3, "3632669014376": 2}  # session id -> neurons


def nnvision_sessions(seed: int = 1, n_bins: int = 15) -> dict[str, dict]:
    """The pickled dict of each session (by id) in the CSRF19_V1 layout: neurons x time bins x trials;
    training images 1-8, test images 9 and 10 recurring once per repeat (4 and 3 repeats)."""
    rng = np.random.default_rng(seed)
    return {
        session_id: {
            "subject_id": 31,
            "session_id": int(session_id),
            "training_responses": rng.poisson(0.4, size=(n_neurons, n_bins, 12)).astype(np.float64),
            "testing_responses": rng.poisson(0.4, size=(n_neurons, n_bins, 7)).astype(np.float64),
            "training_image_ids": rng.integers(1, 9, size=12),
            "testing_image_ids": np.array([9, 10, 9, 10, 9, 10, 9]),
        }
        for session_id, n_neurons in NNVISION_SESSIONS.items()
    }


def nnvision_layout(root, seed: int = 0) -> None:
    """Write an nnvision folder under ``root``: images ``000001.npy`` .. ``000010.npy`` (6 x 7 uint8)
    and ``neuronal_data/CSRF19_V1_<id>.pickle`` holding ``nnvision_sessions(seed + 1)``."""
    import pickle

    rng = np.random.default_rng(seed)
    (root / "images" / "individual").mkdir(parents=True)
    for image_id in range(1, 11):
        img = rng.integers(0, 256, size=(6, 7), dtype=np.uint8)
        np.save(root / "images" / "individual" / f"{image_id:06d}.npy", img)
    (root / "neuronal_data").mkdir()
    for session_id, content in nnvision_sessions(seed + 1).items():
        (root / "neuronal_data" / f"CSRF19_V1_{session_id}.pickle").write_bytes(pickle.dumps(content))


def assert_valid(dataset: V1Dataset) -> None:
    """Check a read dataset's invariants independently of ``V1Dataset.validate`` (for fuzzing)."""
    images = np.asarray(dataset.images)
    assert images.ndim == 3 and images.dtype.kind in "uif" and np.isfinite(images).all()
    ids = np.asarray(dataset.image_ids)
    assert ids.dtype == np.int64 and ids.shape == (len(images),) and len(set(ids.tolist())) == len(ids)
    ppd = dataset.pixels_per_degree
    assert ppd is None or (isinstance(ppd, float) and np.isfinite(ppd) and ppd > 0)
    assert isinstance(dataset.metadata, dict)
    names = [s.session_id for s in dataset.sessions]
    assert names and len(set(names)) == len(names)
    known = set(ids.tolist())
    for s in dataset.sessions:
        for label in (s.session_id, s.subject_id):
            assert isinstance(label, str) and label and label.isprintable()
        tr, te = np.asarray(s.train_responses), np.asarray(s.test_responses)
        assert tr.ndim == 2 and tr.shape[0] > 0 and tr.shape[1] > 0
        assert te.ndim == 3 and te.shape[2] == tr.shape[1]
        for arr in (tr, te):
            assert arr.dtype.kind in "iuf" and not np.isinf(arr).any() and not (arr < 0).any()
        train_ids, test_ids = np.asarray(s.train_image_ids), np.asarray(s.test_image_ids)
        assert train_ids.shape == (tr.shape[0],) and test_ids.shape == (te.shape[0],)
        assert len(set(test_ids.tolist())) == len(test_ids)
        assert set(train_ids.tolist()) <= known and set(test_ids.tolist()) <= known
