import numpy as np
import pytest
from neural_fixtures import toy_dataset

from v1mtl.common.errors import InputError


def test_toy_dataset_is_valid_and_counts_add_up():
    d = toy_dataset(neurons=(3, 4, 2), repeats=(4, 2, 3))
    assert d.validate() is d
    assert d.n_neurons == 9
    assert [s.n_repeats for s in d.sessions] == [4, 2, 3]
    assert d.sessions[0].n_test_images == 4
    assert d.sessions[0].n_train_trials == len(d.sessions[0].train_image_ids)


def test_image_rows_maps_ids_to_rows():
    d = toy_dataset()
    ids = d.image_ids[[7, 0, 7, 3]]
    np.testing.assert_array_equal(d.image_rows(ids), [7, 0, 7, 3])
    with pytest.raises(KeyError, match="without images"):
        d.image_rows(np.array([1]))


@pytest.mark.parametrize(
    ("break_it", "field"),
    [
        (
            lambda d: setattr(d.sessions[0], "train_image_ids", d.sessions[0].train_image_ids + 1),
            "train_image_ids",
        ),
        (
            lambda d: setattr(d.sessions[1], "train_responses", np.zeros((0, 4), np.float32)),
            "train_responses",
        ),
        (lambda d: setattr(d, "sessions", []), "sessions"),
        (lambda d: setattr(d, "image_ids", np.zeros(len(d.image_ids), np.int64)), "image_ids"),
        (lambda d: setattr(d, "images", np.full((20, 8, 8), np.inf, np.float32)), "images"),
        (
            lambda d: setattr(d.sessions[0], "test_responses", np.zeros((4, 2, 9), np.float32)),
            "test_responses",
        ),
        (lambda d: d.sessions[0].train_responses.__setitem__((0, 0), np.inf), "train_responses"),
        (lambda d: setattr(d.sessions[1], "session_id", "s0"), r"sessions\[s0\]"),
        (
            lambda d: d.sessions[1].train_responses.__setitem__((0, 1), -1.0),
            r"sessions\[s1\]\.train_responses",
        ),
        (
            lambda d: setattr(d.sessions[0], "test_responses", d.sessions[0].test_responses + 0j),
            "test_responses",
        ),
        (  # a view of image_ids in the fixture: replace it, do not write into it
            lambda d: setattr(
                d.sessions[0], "test_image_ids", np.repeat(d.sessions[0].test_image_ids[:1], 4)
            ),
            "test_image_ids",
        ),
        (lambda d: setattr(d.sessions[0], "session_id", "a\nb"), r"sessions\[0\]\.session_id"),
        (lambda d: setattr(d, "pixels_per_degree", float("nan")), "pixels_per_degree"),
    ],
)
def test_validate_names_the_field(break_it, field):
    d = toy_dataset()
    break_it(d)
    with pytest.raises(InputError, match=rf"data.bin: field '[^']*{field}[^']*'"):
        d.validate("data.bin")
