import pickle

import numpy as np
import pytest
from neural_fixtures import assert_same, toy_dataset

from v1mtl.common.errors import InputError
from v1mtl.data.neural.cadena import read_cadena, write_cadena

N_IMG = 15  # 3 base images x 5 types; int(0.8 * 15) = 12 training images, the last 3 are the test set
TYPES = ["original", "conv1", "conv2", "conv3", "conv4"]


def _real_layout(path, rng):
    """The layout of cadena_ploscb_data.pkl: (repeats=4, images, neurons) with NaN for missing trials.

    Neurons 0-2: session A (subject 1), 4 repeats. Neurons 3-4: session B (subject 2), 2 repeats (slots 3-4
    NaN). Neuron 1 also missed repeat 0 of image 0.
    """
    responses = rng.poisson(3.0, size=(4, N_IMG, 5)).astype(np.float64)
    responses[2:, :, 3:] = np.nan
    responses[0, 0, 1] = np.nan
    content = {
        "images": rng.uniform(0, 255, size=(N_IMG, 10, 10)),
        "responses": responses,
        "repetitions": np.array([4, 4, 4, 2, 2]),
        "image_ids": np.arange(1, N_IMG + 1)[:, None],
        "image_numbers": np.repeat(np.arange(1, 4), 5)[:, None],
        "image_types": np.array([[np.array([TYPES[i % 5]])] for i in range(N_IMG)], dtype=object),
        "subject_id": np.array([1, 1, 1, 2, 2]),
        "session_id": np.array([10, 10, 10, 20, 20]),
    }
    path.write_bytes(pickle.dumps(content, protocol=2))
    return content


def test_reader_follows_the_published_convention(tmp_path):
    raw = _real_layout(tmp_path / "cadena_ploscb_data.pkl", np.random.default_rng(0))
    d = read_cadena(tmp_path)  # a folder holding the file works too
    assert d.images.shape == (N_IMG, 10, 10) and d.images.dtype == np.float32
    # the format's 0-255 floats arrive in [0, 1], the units of a uint8 image after ToTensor
    np.testing.assert_allclose(d.images, raw["images"] / 255, rtol=1e-6)
    assert [(s.session_id, s.subject_id, s.n_neurons) for s in d.sessions] == [("10", "1", 3), ("20", "2", 2)]
    a, b = d.sessions
    # test set = last 20% of images, with the session's own number of repeats
    assert list(a.test_image_ids) == [13, 14, 15] and a.n_repeats == 4
    assert list(b.test_image_ids) == [13, 14, 15] and b.n_repeats == 2
    np.testing.assert_array_equal(b.test_responses, raw["responses"][:2, 12:, 3:].transpose(1, 0, 2))
    # training trials: every recorded (repeat, image) of the first 80%, repeat-major; NaN kept, not zeroed
    assert a.n_train_trials == 4 * 12 and b.n_train_trials == 2 * 12
    np.testing.assert_array_equal(a.train_image_ids, np.tile(np.arange(1, 13), 4))
    np.testing.assert_array_equal(a.train_responses, raw["responses"][:, :12, :3].reshape(48, 3))
    assert np.isnan(a.train_responses[0, 1]) and np.isnan(a.train_responses).sum() == 1
    assert d.metadata["image_types"][:6] == TYPES + ["original"]


def test_two_repeat_sessions_are_not_duplicated(tmp_path):
    raw = _real_layout(tmp_path / "c.pkl", np.random.default_rng(1))
    b = read_cadena(tmp_path / "c.pkl").sessions[1]
    assert not np.isnan(b.test_responses).any()
    assert b.test_responses.shape == (3, 2, 2)  # not 4 repeats copied from 2
    np.testing.assert_array_equal(b.test_responses[:, 1], raw["responses"][1, 12:, 3:])


def test_without_session_ids_neurons_group_by_subject(tmp_path):
    path = tmp_path / "c.pkl"
    content = _real_layout(path, np.random.default_rng(2))
    del content["session_id"]
    path.write_bytes(pickle.dumps(content))
    d = read_cadena(path)
    assert [(s.session_id, s.n_neurons) for s in d.sessions] == [("1", 3), ("2", 2)]


def test_round_trip_through_the_writer(tmp_path):
    d = toy_dataset(n_images=20)
    d.metadata["image_types"] = [TYPES[i % 5] for i in range(20)]
    write_cadena(d, tmp_path / "c.pkl")
    raw = pickle.loads((tmp_path / "c.pkl").read_bytes())
    assert raw["responses"].shape == (4, 20, 7) and raw["image_ids"].shape == (20, 1)
    assert list(raw["repetitions"]) == [4] * 3 + [2] * 4
    back = read_cadena(tmp_path / "c.pkl")
    assert_same(d, back)
    assert back.metadata["image_types"] == d.metadata["image_types"]


def test_writer_refuses_what_the_format_cannot_hold(tmp_path):
    d = toy_dataset(n_images=20)
    s = d.sessions[0]
    s.test_image_ids, s.test_responses = s.test_image_ids[:2], s.test_responses[:2]
    d.sessions[1].test_image_ids, d.sessions[1].test_responses = (
        s.test_image_ids,
        d.sessions[1].test_responses[:2],
    )
    with pytest.raises(
        InputError, match="field 'test_image_ids': cadena2019 stores the test set as the last 20%"
    ):
        write_cadena(d, tmp_path / "c.pkl")
    assert not (tmp_path / "c.pkl").exists()


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"responses": None}, "responses", "missing key"),
        ({"image_ids": None}, "image_ids", "missing key"),
        ({"responses": np.zeros((4, 14, 5))}, "responses", "expected \\(repeats, 15 images"),
        ({"responses": np.zeros((60, 5))}, "responses", "expected 3 dimensions"),
        ({"images": np.full((N_IMG, 10, 10), np.inf)}, "images", "NaN or inf"),
        ({"images": np.full((N_IMG, 10, 10), 256.0)}, "images", "expected grayscale values in \\[0, 255\\]"),
        ({"images": np.full((N_IMG, 10, 10), -1.0)}, "images", "expected grayscale values in \\[0, 255\\]"),
        ({"image_ids": np.arange(14)}, "image_ids", "expected 15 ids"),
        ({"image_ids": np.ones(15)}, "image_ids", "not unique"),
        ({"repetitions": np.array([4, 2])}, "repetitions", "one value per neuron"),
        ({"responses": np.full((4, 15, 5), "a")}, "responses", "expected real numbers"),
    ],
)
def test_bad_input_names_file_and_field(tmp_path, change, field, message):
    path = tmp_path / "c.pkl"
    content = _real_layout(path, np.random.default_rng(3))
    for key, value in change.items():
        if value is None:
            del content[key]
        else:
            content[key] = value
    path.write_bytes(pickle.dumps(content))
    with pytest.raises(InputError, match=message) as err:
        read_cadena(path)
    assert str(path) in str(err.value) and f"field '{field}'" in str(err.value)


def test_a_session_without_training_trials_is_an_error(tmp_path):
    path = tmp_path / "c.pkl"
    content = _real_layout(path, np.random.default_rng(4))
    content["responses"][:, :12, 3:] = np.nan
    path.write_bytes(pickle.dumps(content))
    with pytest.raises(InputError, match="session '20' has no training trials"):
        read_cadena(path)


def test_session_ids_repeated_across_subjects_are_qualified(tmp_path):
    path = tmp_path / "c.pkl"
    content = _real_layout(path, np.random.default_rng(5))
    content["session_id"] = np.array([1, 1, 1, 1, 1])
    path.write_bytes(pickle.dumps(content))
    assert [s.session_id for s in read_cadena(path).sessions] == ["1-1", "2-1"]


def test_writer_declares_the_repeat_slots_it_fills(tmp_path):
    # One test repeat in session s0, but its training images are shown up to twice: two slots hold values.
    d = toy_dataset(n_images=20, repeats=(1, 2))
    write_cadena(d, tmp_path / "c.pkl")
    raw = pickle.loads((tmp_path / "c.pkl").read_bytes())
    assert list(raw["repetitions"]) == [2] * 7
    back = read_cadena(tmp_path / "c.pkl")
    assert_same(d, back)
    assert [s.n_repeats for s in back.sessions] == [1, 2]


def test_float_images_round_trip_through_the_writer(tmp_path):
    d = toy_dataset(n_images=20)
    d.images = (d.images / 255).astype(np.float32)
    write_cadena(d, tmp_path / "c.pkl")
    stored = pickle.loads((tmp_path / "c.pkl").read_bytes())["images"]
    assert stored.max() > 1  # the format holds 0-255 values
    back = read_cadena(tmp_path / "c.pkl")
    np.testing.assert_allclose(np.sort(back.images.ravel()), np.sort(d.images.ravel()), rtol=1e-6)
