import json

import numpy as np
import pytest
from neural_fixtures import assert_same, toy_dataset

from v1mtl.common.errors import InputError
from v1mtl.data.neural.native import FORMAT_NAME, FORMAT_VERSION, is_native, read_native, write_native


def test_round_trip_preserves_everything_including_nan(tmp_path):
    d = toy_dataset()
    d.pixels_per_degree = 63.5
    d.metadata = {"source": "test", "nested": {"a": [1, 2]}}
    write_native(d, tmp_path / "ds")
    back = read_native(tmp_path / "ds")
    assert_same(d, back)
    assert back.pixels_per_degree == 63.5
    assert back.metadata == d.metadata
    assert [s.session_id for s in back.sessions] == ["s0", "s1"]
    assert np.isnan(back.sessions[0].train_responses).any()
    assert back.images.dtype == np.uint8


def test_mmap_reads_memory_maps_and_plain_reads_arrays(tmp_path):
    write_native(toy_dataset(), tmp_path / "ds")
    assert isinstance(read_native(tmp_path / "ds", mmap=True).images, np.memmap)
    plain = read_native(tmp_path / "ds", mmap=False)
    assert not isinstance(plain.images, np.memmap)
    assert not isinstance(plain.sessions[1].test_responses, np.memmap)


def test_manifest_layout_and_no_temp_files(tmp_path):
    d = toy_dataset()
    write_native(d, tmp_path / "ds")
    manifest = json.loads((tmp_path / "ds" / "manifest.json").read_text())
    assert manifest["format"] == FORMAT_NAME and manifest["format_version"] == FORMAT_VERSION
    assert manifest["sessions"][1]["n_repeats"] == 2 and manifest["sessions"][1]["n_neurons"] == 4
    assert (tmp_path / "ds" / "sessions" / "s0" / "train_responses.npy").is_file()
    assert not [p for p in (tmp_path / "ds").rglob("*") if p.name.endswith(".tmp")]


def test_unknown_files_are_ignored_and_unsafe_session_ids_get_folders(tmp_path):
    d = toy_dataset()
    d.sessions[0].session_id = "../escape me"
    write_native(d, tmp_path / "ds")
    (tmp_path / "ds" / "ground_truth.npy").write_bytes(b"anything")
    (tmp_path / "ds" / "notes").mkdir()
    back = read_native(tmp_path / "ds")
    assert back.sessions[0].session_id == "../escape me"
    assert not (tmp_path / "escape me").exists()


def test_missing_manifest_is_an_incomplete_folder(tmp_path):
    write_native(toy_dataset(), tmp_path / "ds")
    (tmp_path / "ds" / "manifest.json").unlink()
    assert is_native(tmp_path / "ds")
    with pytest.raises(InputError, match="manifest.json: field 'manifest': missing manifest.json"):
        read_native(tmp_path / "ds")


def test_rewrite_removes_the_manifest_first(tmp_path, monkeypatch):
    write_native(toy_dataset(), tmp_path / "ds")
    import v1mtl.data.neural.native as native

    def crash(*args, **kwargs):
        raise RuntimeError("killed")

    monkeypatch.setattr(native, "write_json", crash)
    with pytest.raises(RuntimeError):
        write_native(toy_dataset(seed=1), tmp_path / "ds")
    with pytest.raises(InputError, match="missing manifest"):
        read_native(tmp_path / "ds")


@pytest.mark.parametrize(
    ("edit", "field"),
    [
        (lambda m: m.pop("sessions"), "sessions"),
        (lambda m: m.update(format_version=99), "format_version"),
        (lambda m: m.update(format="other"), "format"),
        (lambda m: m["sessions"][0].update(n_neurons=5), r"sessions\[s0\]\.train_responses"),
        (lambda m: m.update(n_images=3), "images"),
    ],
)
def test_bad_manifest_names_the_field(tmp_path, edit, field):
    write_native(toy_dataset(), tmp_path / "ds")
    path = tmp_path / "ds" / "manifest.json"
    manifest = json.loads(path.read_text())
    edit(manifest)
    path.write_text(json.dumps(manifest))
    with pytest.raises(InputError, match=f"field '{field}'"):
        read_native(tmp_path / "ds")


def test_image_ids_without_images_and_nan_images_are_rejected(tmp_path):
    write_native(toy_dataset(), tmp_path / "ds")
    ids = np.load(tmp_path / "ds" / "sessions" / "s0" / "test_image_ids.npy")
    ids[0] = 999999
    np.save(tmp_path / "ds" / "sessions" / "s0" / "test_image_ids.npy", ids)
    with pytest.raises(InputError, match=r"field 'sessions\[s0\].test_image_ids': image ids without images"):
        read_native(tmp_path / "ds")

    d = toy_dataset()
    d.images = d.images.astype(np.float32)
    d.images[0, 0, 0] = np.nan
    with pytest.raises(InputError, match="field 'images': images contain NaN"):
        write_native(d, tmp_path / "other")
    assert not (tmp_path / "other" / "manifest.json").exists()


def test_empty_array_file_is_named_as_such(tmp_path):
    write_native(toy_dataset(), tmp_path / "ds")
    (tmp_path / "ds" / "sessions" / "s1" / "test_responses.npy").write_bytes(b"")
    with pytest.raises(
        InputError, match=r"test_responses.npy: field 'sessions\[s1\]\.test_responses': an empty file"
    ):
        read_native(tmp_path / "ds")
