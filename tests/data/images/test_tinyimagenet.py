import os

import numpy as np
import pytest
from image_fixtures import WNIDS, assert_levels_match, make_tinyimagenet, write_image

from v1mtl.common.errors import InputError
from v1mtl.data.images import decode as image_decode
from v1mtl.data.images import load_classification, split_seeded


def test_tinyimagenet_protocol_and_labels(tmp_path):
    root = make_tinyimagenet(tmp_path / "tin", n_train=10, n_val=2)
    data = load_classification(root, cache_dir=tmp_path / "cache")
    assert data.source == "tinyimagenet"
    assert data.class_ids == sorted(WNIDS)
    # Class names are the first synonym in words.txt of each (sorted) wnid.
    assert data.class_names == [f"name{w[-7]}" for w in sorted(WNIDS)]
    # 30 training files: floor(10%) = 3 held out for validation; official val (6) is the test set.
    assert (len(data.train), len(data.val), len(data.test)) == (27, 3, 6)
    assert data.train.images.shape == (27, 64, 64) and data.train.images.dtype == np.uint8
    for split in (data.train, data.val, data.test):
        assert split.labels.dtype == np.int64
        assert_levels_match(split.images, split.labels)
    assert np.bincount(data.test.labels).tolist() == [2, 2, 2]


def test_split_matches_reference_draw_and_is_disjoint():
    n = 1000
    keep, held = split_seeded(n, 0.1, 1000)
    # The reference: np.random.seed(1000); np.random.shuffle(indices); validation = first 10%.
    np.random.seed(1000)  # noqa: NPY002 (the reference's legacy draw)
    indices = list(range(n))
    np.random.shuffle(indices)  # noqa: NPY002
    assert set(held.tolist()) == set(indices[:100])
    assert len(held) == 100 and len(keep) == 900
    assert not set(keep.tolist()) & set(held.tolist())
    assert sorted(keep.tolist() + held.tolist()) == list(range(n))
    _, other = split_seeded(n, 0.1, 1001)
    assert set(other.tolist()) != set(held.tolist())


def test_cache_is_hit_then_invalidated_by_mtime(tmp_path, monkeypatch):
    root = make_tinyimagenet(tmp_path / "tin", n_train=4, n_val=1)
    first = load_classification(root, cache_dir=tmp_path / "cache")
    assert isinstance(first.train.images, np.memmap)

    calls = []
    real = image_decode.Image.open
    monkeypatch.setattr(image_decode.Image, "open", lambda *a, **k: calls.append(a) or real(*a, **k))
    again = load_classification(root, cache_dir=tmp_path / "cache")
    assert calls == []
    np.testing.assert_array_equal(again.train.images, first.train.images)

    path = root / "train" / WNIDS[0] / "images" / f"{WNIDS[0]}_0.JPEG"
    st = os.stat(path)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 5_000_000_000))
    load_classification(root, cache_dir=tmp_path / "cache")
    assert len(calls) == 15  # every file decoded again


def test_color_and_smaller_size(tmp_path):
    root = make_tinyimagenet(tmp_path / "tin", n_train=4, n_val=1)
    rgb = load_classification(root, cache_dir=tmp_path / "cache", color=True)
    assert rgb.test.images.shape == (3, 64, 64, 3)
    small = load_classification(root, cache_dir=tmp_path / "cache", size=32)
    assert small.train.images.shape[1:] == (32, 32)
    assert_levels_match(small.train.images, small.train.labels)


def test_missing_annotation_file(tmp_path):
    root = make_tinyimagenet(tmp_path / "tin", n_train=2, n_val=1)
    (root / "val" / "val_annotations.txt").unlink()
    with pytest.raises(InputError, match="val_annotations.txt"):
        load_classification(root, cache_dir=tmp_path / "cache")


def test_val_class_not_in_train(tmp_path):
    root = make_tinyimagenet(tmp_path / "tin", n_train=2, n_val=1)
    ann = root / "val" / "val_annotations.txt"
    write_image(root / "val" / "images" / "val_99.JPEG", 10)
    ann.write_text(ann.read_text() + "val_99.JPEG\tn07777777\t0\t0\t1\t1\n")
    with pytest.raises(InputError, match=r"val_annotations.txt.*n07777777.*not in train"):
        load_classification(root, cache_dir=tmp_path / "cache")


def test_empty_class_folder(tmp_path):
    root = make_tinyimagenet(tmp_path / "tin", n_train=2, n_val=1)
    for f in (root / "train" / WNIDS[1] / "images").iterdir():
        f.unlink()
    with pytest.raises(InputError, match=rf"{WNIDS[1]}/images.*empty class folder"):
        load_classification(root, cache_dir=tmp_path / "cache")


def test_corrupt_image_names_file_and_skip_bad_counts(tmp_path):
    root = make_tinyimagenet(tmp_path / "tin", n_train=4, n_val=1)
    bad = root / "train" / WNIDS[2] / "images" / f"{WNIDS[2]}_1.JPEG"
    bad.write_bytes(b"\xff\xd8 not really a jpeg")
    with pytest.raises(InputError, match=f"{bad.name}.*cannot read image"):
        load_classification(root, cache_dir=tmp_path / "cache")
    with pytest.warns(UserWarning, match="skipped 1 unreadable"):
        data = load_classification(root, cache_dir=tmp_path / "cache", skip_bad=True)
    assert data.skipped == [str(bad.resolve())]
    assert len(data.train) + len(data.val) == 11
    assert_levels_match(data.train.images, data.train.labels)
    # The count survives a cache hit.
    with pytest.warns(UserWarning, match="skipped 1 unreadable"):
        load_classification(root, cache_dir=tmp_path / "cache", skip_bad=True)


def test_images_too_small(tmp_path):
    root = make_tinyimagenet(tmp_path / "tin", n_train=2, n_val=1, size=32)
    with pytest.raises(InputError, match=r"\.JPEG.*32x32 px, smaller than the requested size 64"):
        load_classification(root, cache_dir=tmp_path / "cache", size=64)


def test_val_annotation_outside_val_images_is_refused(tmp_path):
    # the case: a training image annotated as a test image through '..'
    root = make_tinyimagenet(tmp_path / "tin", n_train=2, n_val=1)
    ann = root / "val" / "val_annotations.txt"
    wnid = WNIDS[0]
    ann.write_text(ann.read_text() + f"../../train/{wnid}/images/{wnid}_0.JPEG\t{wnid}\t0\t0\t1\t1\n")
    with pytest.raises(InputError, match=r"val_annotations.txt.*line 4.*not a relative path inside"):
        load_classification(root, cache_dir=tmp_path / "cache")


def test_val_image_linked_to_a_training_image_is_refused(tmp_path):
    root = make_tinyimagenet(tmp_path / "tin", n_train=2, n_val=1)
    val = root / "val" / "images" / "val_0.JPEG"
    val.unlink()
    val.symlink_to(root / "train" / WNIDS[0] / "images" / f"{WNIDS[0]}_1.JPEG")
    with pytest.raises(InputError, match=rf"{WNIDS[0]}_1.JPEG: listed twice"):
        load_classification(root, cache_dir=tmp_path / "cache")


def test_non_utf8_wnids_and_file_names_are_refused(tmp_path):
    root = make_tinyimagenet(tmp_path / "tin", n_train=2, n_val=1)
    (root / "wnids.txt").write_bytes(b"n03000000\nn01\xff000000\nn02000000\n")
    with pytest.raises(InputError, match=r"wnids.txt: line 2: byte 0xff is not UTF-8"):
        load_classification(root, cache_dir=tmp_path / "cache")
    root = make_tinyimagenet(tmp_path / "tin2", n_train=2, n_val=1)
    images = root / "train" / WNIDS[1] / "images"
    (images / f"{WNIDS[1]}_0.JPEG").rename(os.fsdecode(os.fsencode(images) + b"/x\xe9.JPEG"))
    with pytest.raises(InputError, match=r"images: the name 'x\\udce9.JPEG' is not printable UTF-8"):
        load_classification(root, cache_dir=tmp_path / "cache")
