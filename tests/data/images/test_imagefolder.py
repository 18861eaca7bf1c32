import numpy as np
import pytest
from image_fixtures import assert_levels_match, make_image_folder, write_image

from v1mtl.common.errors import InputError
from v1mtl.data.images import load_classification


def test_flat_folder_carves_val_and_test(tmp_path):
    root = make_image_folder(tmp_path / "f", n=10)
    data = load_classification(root, cache_dir=tmp_path / "cache")
    assert data.source == "imagefolder"
    assert data.class_names == ["cat", "dog", "emu"]
    # 30 images: 3 (10%) held out for val, then 10% of the remaining 27 (2) for test.
    assert (len(data.train), len(data.val), len(data.test)) == (25, 3, 2)
    for split in (data.train, data.val, data.test):
        assert_levels_match(split.images, split.labels)


def test_split_subfolders_are_used(tmp_path):
    root = make_image_folder(tmp_path / "f", n=4, splits=("train", "valid", "test"), fmt="JPEG")
    data = load_classification(root, cache_dir=tmp_path / "cache")
    assert (len(data.train), len(data.val), len(data.test)) == (12, 12, 12)
    assert np.bincount(data.test.labels).tolist() == [4, 4, 4]
    for split in (data.train, data.val, data.test):
        assert_levels_match(split.images, split.labels)


def test_class_in_val_not_in_train(tmp_path):
    root = make_image_folder(tmp_path / "f", n=3, splits=("train", "val"))
    write_image(root / "val" / "yak" / "0.png", 10, fmt="PNG")
    with pytest.raises(InputError, match=r"val/yak.*not a class of the training split"):
        load_classification(root, cache_dir=tmp_path / "cache")


def test_empty_class_folder(tmp_path):
    root = make_image_folder(tmp_path / "f", n=3)
    (root / "fox").mkdir()
    (root / "fox" / "notes.txt").write_text("no images here")
    with pytest.raises(InputError, match=r"fox.*empty class folder"):
        load_classification(root, cache_dir=tmp_path / "cache")


def test_unreadable_png_and_skip_bad(tmp_path):
    root = make_image_folder(tmp_path / "f", n=10)
    bad = root / "dog" / "3.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n truncated")
    with pytest.raises(InputError, match=r"dog/3.png.*cannot read image"):
        load_classification(root, cache_dir=tmp_path / "cache")
    with pytest.warns(UserWarning, match="skipped 1 unreadable image file"):
        data = load_classification(root, cache_dir=tmp_path / "cache", skip_bad=True)
    assert len(data.skipped) == 1
    assert len(data.train) + len(data.val) + len(data.test) == 29


def test_not_a_dataset(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="not a classification dataset"):
        load_classification(tmp_path / "empty", cache_dir=tmp_path / "cache")
    with pytest.raises(InputError, match="no such file"):
        load_classification(tmp_path / "missing", cache_dir=tmp_path / "cache")
