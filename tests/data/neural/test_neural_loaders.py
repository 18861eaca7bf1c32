import numpy as np
import torch
from neural_fixtures import toy_dataset

from v1mtl.data.neural import ImageStats, split_image_ids
from v1mtl.data.neural.loaders import build_loaders, round_robin


def _id_images(d):
    """Make every image a constant equal to its id, so batches reveal which image they hold."""
    d.images = np.broadcast_to(d.image_ids[:, None, None], d.images.shape).astype(np.float32).copy()
    return d


def _loaders(d, **kwargs):
    return build_loaders(d, stats=ImageStats(mean=0.0, std=1.0), **kwargs)


def test_batches_pair_images_responses_and_masks():
    d = _id_images(toy_dataset())
    loaders = _loaders(d, batch_size=4)
    seen_ids, seen_resp = [], []
    for split in (loaders.train, loaders.validation):
        for x, y, m in split["s0"]:
            assert x.shape[1:] == (1, 8, 8) and x.dtype == torch.float32
            assert y.shape == m.shape == (x.shape[0], 3) and m.dtype == torch.bool
            assert not torch.isnan(y).any() and (y[~m] == 0).all()
            seen_ids += x[:, 0, 0, 0].long().tolist()
            seen_resp.append(torch.where(m, y, torch.nan).numpy())
    s = d.sessions[0]
    assert sorted(seen_ids) == sorted(s.train_image_ids.tolist())
    got = np.concatenate(seen_resp)
    order_got, order_ref = (
        np.lexsort(np.nan_to_num(got, nan=-1).T),
        np.lexsort(np.nan_to_num(s.train_responses, nan=-1).T),
    )
    np.testing.assert_array_equal(got[order_got], s.train_responses[order_ref])


def test_train_and_validation_split_by_image_id():
    d = _id_images(toy_dataset())
    loaders = _loaders(d, batch_size=64)
    train_ids, val_ids = split_image_ids(d.image_ids)
    np.testing.assert_array_equal(loaders.train_ids, train_ids)
    for key in ("s0", "s1"):
        tr = {int(i) for x, _, _ in loaders.train[key] for i in x[:, 0, 0, 0]}
        va = {int(i) for x, _, _ in loaders.validation[key] for i in x[:, 0, 0, 0]}
        assert tr <= set(train_ids.tolist()) and va <= set(val_ids.tolist())


def test_shuffling_is_seeded():
    d = _id_images(toy_dataset())

    def first_epoch(seed):
        loaders = _loaders(d, batch_size=5, shuffle_seed=seed)
        return [x[:, 0, 0, 0].tolist() for x, _, _ in loaders.train["s1"]]

    assert first_epoch(3) == first_epoch(3)
    assert first_epoch(3) != first_epoch(4)


def test_test_loader_yields_all_repeats_of_each_image():
    d = _id_images(toy_dataset())
    loaders = _loaders(d, test_batch_size=3)
    batches = list(loaders.test["s1"])
    x = torch.cat([b[0] for b in batches])
    y = torch.cat([b[1] for b in batches])
    m = torch.cat([b[2] for b in batches])
    s = d.sessions[1]
    assert y.shape == (4, 2, 4) and x.shape == (4, 1, 8, 8)
    np.testing.assert_array_equal(x[:, 0, 0, 0].numpy(), s.test_image_ids)
    np.testing.assert_array_equal(m.numpy(), ~np.isnan(s.test_responses))
    np.testing.assert_array_equal(y.numpy(), np.nan_to_num(s.test_responses))


def test_prepared_inputs_use_the_preprocessing():
    d = toy_dataset()
    loaders = build_loaders(d, crop=1, subsample=2)
    assert loaders.input_shape == (1, 3, 3)
    x, _, _ = next(iter(loaders.validation["s0"]))
    assert x.shape[1:] == (1, 3, 3)
    assert loaders.n_neurons == {"s0": 3, "s1": 4}


def test_round_robin_alternates_and_restarts_loaders():
    d = toy_dataset()
    loaders = _loaders(d, batch_size=6)
    lengths = {k: len(v) for k, v in loaders.train.items()}
    keys = [k for k, _ in round_robin(loaders.train)]
    assert len(keys) == 2 * max(lengths.values())
    assert keys[:4] == ["s0", "s1", "s0", "s1"]
    assert [k for k, _ in round_robin(loaders.train, n_batches=11)].count("s0") == 6
    empty = {"a": loaders.train["s0"], "b": torch.utils.data.DataLoader([], batch_size=1)}
    assert {k for k, _ in round_robin(empty, n_batches=3)} == {"a"}
