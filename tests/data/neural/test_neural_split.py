import numpy as np
import pytest

from v1mtl.common.errors import InputError
from v1mtl.data.neural import split_image_ids


def test_matches_the_reference_for_ids_one_to_n():
    # nnvision get_validation_split: np.random.seed(seed); permute 1..n; first int(n*train_frac) -> train
    n = 53
    state = np.random.get_state()  # noqa: NPY002
    np.random.seed(1000)  # noqa: NPY002 - the reference uses NumPy's legacy global generator
    perm = np.random.permutation(np.arange(1, n + 1))  # noqa: NPY002
    np.random.set_state(state)  # noqa: NPY002
    ref_train, ref_val = perm[: int(n * 0.8)], perm[int(n * 0.8) :]
    train, val = split_image_ids(np.arange(1, n + 1))
    np.testing.assert_array_equal(train, np.sort(ref_train))
    np.testing.assert_array_equal(val, np.sort(ref_val))


def test_depends_only_on_the_set_of_ids():
    ids = np.array([70, 3, 15, 999, 42, 8, 11, 500, 64, 27, 31, 2])
    train, val = split_image_ids(ids)
    rng = np.random.default_rng(0)
    for _ in range(3):
        shuffled = rng.permutation(np.concatenate([ids, ids[:4]]))  # order and duplicates do not matter
        t2, v2 = split_image_ids(shuffled)
        np.testing.assert_array_equal(train, t2)
        np.testing.assert_array_equal(val, v2)
    assert len(train) == int(12 * 0.8) and set(train) | set(val) == set(ids) and not set(train) & set(val)


def test_seed_and_fraction():
    ids = np.arange(100)
    a, _ = split_image_ids(ids, seed=1)
    b, _ = split_image_ids(ids, seed=2)
    assert not np.array_equal(a, b)
    t, v = split_image_ids(ids, train_frac=1.0)
    assert len(t) == 100 and len(v) == 0
    with pytest.raises(InputError, match="train_frac"):
        split_image_ids(ids, train_frac=0.0)
