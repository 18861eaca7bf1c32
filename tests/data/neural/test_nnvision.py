import pickle

import numpy as np
import pytest
from neural_fixtures import assert_same, toy_dataset

from v1mtl.common.errors import InputError
from v1mtl.data.neural.nnvision import read_nnvision, write_nnvision

N_BINS = 15


def _real_layout(root, rng, nan=True):
    """A fixture in the CSRF19_V1 layout: neurons x time bins x trials, test trials repeated per image id."""
    (root / "images" / "individual").mkdir(parents=True)
    for image_id in range(1, 11):
        img = rng.integers(0, 256, size=(6, 7), dtype=np.uint8)
        np.save(root / "images" / "individual" / f"{image_id:06d}.npy", img)
    (root / "neuronal_data").mkdir()
    sessions = {}
    for session_id, n_neurons in ((3631896544452, 3), (3632669014376, 2)):
        train_ids = rng.integers(1, 9, size=12)
        test_ids = np.array([9, 10, 9, 10, 9, 10, 9])  # image 9 has 4 repeats, image 10 has 3
        train = rng.poisson(0.4, size=(n_neurons, N_BINS, 12)).astype(np.float64)
        test = rng.poisson(0.4, size=(n_neurons, N_BINS, 7)).astype(np.float64)
        if nan:
            train[0, :, 2] = np.nan  # neuron 0 missed training trial 2
        content = {
            "subject_id": 31,
            "session_id": session_id,
            "training_responses": train,
            "testing_responses": test,
            "training_image_ids": train_ids,
            "testing_image_ids": test_ids,
        }
        (root / "neuronal_data" / f"CSRF19_V1_{session_id}.pickle").write_bytes(pickle.dumps(content))
        sessions[str(session_id)] = content
    return sessions


def test_reader_sums_the_first_bins_and_groups_repeats(tmp_path):
    raw = _real_layout(tmp_path, np.random.default_rng(0))
    d = read_nnvision(tmp_path)
    assert d.images.shape == (10, 6, 7) and list(d.image_ids) == list(range(1, 11))
    assert [s.session_id for s in d.sessions] == sorted(raw)
    for s in d.sessions:
        content = raw[s.session_id]
        assert s.subject_id == "31"
        for trial in range(12):
            for neuron in range(s.n_neurons):
                expected = sum(content["training_responses"][neuron, b, trial] for b in range(12))
                np.testing.assert_allclose(s.train_responses[trial, neuron], expected)
        np.testing.assert_array_equal(s.train_image_ids, content["training_image_ids"])
        assert list(s.test_image_ids) == [9, 10] and s.test_responses.shape == (2, 4, s.n_neurons)
        test_sums = content["testing_responses"][:, :12, :].sum(axis=1).T  # (trials, neurons)
        np.testing.assert_allclose(s.test_responses[0], test_sums[[0, 2, 4, 6]])
        np.testing.assert_allclose(s.test_responses[1, :3], test_sums[[1, 3, 5]])
        assert np.isnan(s.test_responses[1, 3]).all()  # image 10 has only 3 repeats
    assert np.isnan(d.sessions[0].train_responses[2, 0]) and not np.isnan(d.sessions[0].train_responses[2, 1])


def test_time_bins_sum_is_a_parameter(tmp_path):
    raw = _real_layout(tmp_path, np.random.default_rng(1), nan=False)
    d = read_nnvision(tmp_path, time_bins_sum=3)
    s = d.sessions[0]
    np.testing.assert_allclose(
        s.train_responses, raw[s.session_id]["training_responses"][:, :3].sum(axis=1).T
    )
    with pytest.raises(InputError, match="field 'training_responses': has 15 time bins, fewer than"):
        read_nnvision(tmp_path, time_bins_sum=16)


def test_round_trip_through_the_writer(tmp_path):
    d = toy_dataset()
    write_nnvision(d, tmp_path / "nv")
    assert sorted(p.name for p in (tmp_path / "nv" / "images" / "individual").iterdir())[0] == "000005.npy"
    back = read_nnvision(tmp_path / "nv")
    assert_same(d, back)
    for k in (1, 5, 12):  # every response sits in bin 0, so any number of summed bins recovers it
        assert_same(d, read_nnvision(tmp_path / "nv", time_bins_sum=k))


def test_rgb_images_become_grayscale(tmp_path):
    _real_layout(tmp_path, np.random.default_rng(2))
    rgb = np.zeros((6, 7, 3), dtype=np.uint8)
    rgb[..., 0] = 100
    np.save(tmp_path / "images" / "individual" / "000001.npy", rgb)
    d = read_nnvision(tmp_path)
    assert d.images[0].shape == (6, 7)
    assert int(d.images[0, 0, 0]) == round(0.299 * 100)


def _rewrite(root, session_file, **changes):
    path = root / "neuronal_data" / session_file
    content = pickle.loads(path.read_bytes())
    for key, value in changes.items():
        if value is None:
            del content[key]
        else:
            content[key] = value
    path.write_bytes(pickle.dumps(content))
    return path


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"testing_image_ids": None}, "testing_image_ids", "missing key"),
        ({"training_responses": np.zeros((3, 12))}, "training_responses", "expected 3 dimensions"),
        ({"training_responses": np.zeros((3, 12, 0))}, "training_responses", "empty session"),
        ({"training_image_ids": np.arange(5)}, "training_image_ids", "5 ids for 12 training trials"),
        ({"training_image_ids": np.full(12, 77)}, "training_image_ids", "image ids without images"),
        ({"testing_responses": np.full((3, 15, 7), "x")}, "testing_responses", "expected real numbers"),
    ],
)
def test_bad_session_files_name_file_and_field(tmp_path, change, field, message):
    _real_layout(tmp_path, np.random.default_rng(3))
    path = _rewrite(tmp_path, "CSRF19_V1_3631896544452.pickle", **change)
    with pytest.raises(InputError, match=message) as err:
        read_nnvision(tmp_path)
    assert str(path) in str(err.value) and f"field '{field}'" in str(err.value)


def test_bad_images_and_non_dict_pickles(tmp_path):
    _real_layout(tmp_path, np.random.default_rng(4))
    bad = tmp_path / "images" / "individual" / "000003.npy"
    np.save(bad, np.full((6, 7), np.nan))
    with pytest.raises(InputError, match=r"000003.npy: field 'image': contains NaN or inf"):
        read_nnvision(tmp_path)
    np.save(bad, np.zeros((6, 8)))
    with pytest.raises(InputError, match="000003.npy: field 'image': image shape"):
        read_nnvision(tmp_path)
    np.save(bad, np.zeros((6, 7)))
    (tmp_path / "neuronal_data" / "CSRF19_V1_3631896544452.pickle").write_bytes(pickle.dumps([1, 2, 3]))
    with pytest.raises(InputError, match="expected a dict"):
        read_nnvision(tmp_path)
