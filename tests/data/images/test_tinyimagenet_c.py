import pytest
from image_fixtures import WNIDS, assert_levels_match, make_tinyimagenet, make_tinyimagenet_c, write_image

from v1mtl.common.errors import InputError
from v1mtl.data.images import TinyImageNetC, load_classification


def test_labels_follow_tinyimagenet_class_indices(tmp_path):
    tin = load_classification(
        make_tinyimagenet(tmp_path / "tin", n_train=2, n_val=1), cache_dir=tmp_path / "c"
    )
    # Build the corrupted set with only two of the three classes: indices must still be TinyImageNet's.
    root = make_tinyimagenet_c(tmp_path / "tinc", wnids=[WNIDS[0], WNIDS[2]])
    sets = TinyImageNetC(root, tin.class_ids, cache_dir=tmp_path / "c")
    assert sorted(sets) == [("fog", 1), ("fog", 2), ("gaussian_noise", 1), ("gaussian_noise", 2)]
    s = sets[("fog", 2)]
    assert s.images.shape == (4, 64, 64)
    expected = sorted([tin.class_ids.index(WNIDS[0])] * 2 + [tin.class_ids.index(WNIDS[2])] * 2)
    assert sorted(s.labels.tolist()) == expected
    assert_levels_match(s.images, s.labels)


def test_default_wnids_are_sorted_folders(tmp_path):
    root = make_tinyimagenet_c(tmp_path / "tinc", corruptions=("snow",), severities=(5,))
    sets = TinyImageNetC(root, cache_dir=tmp_path / "c")
    assert sets.wnids == sorted(WNIDS)
    assert_levels_match(sets[("snow", 5)].images, sets[("snow", 5)].labels)


def test_unknown_class_and_bad_file(tmp_path):
    root = make_tinyimagenet_c(tmp_path / "tinc", corruptions=("fog",), severities=(1,))
    write_image(root / "fog" / "1" / "n05555555" / "x.JPEG", 10)
    sets = TinyImageNetC(root, WNIDS, cache_dir=tmp_path / "c")
    with pytest.raises(InputError, match="n05555555.*not a TinyImageNet class"):
        sets[("fog", 1)]
    (root / "fog" / "1" / "n05555555" / "x.JPEG").write_bytes(b"garbage")
    sets = TinyImageNetC(root, cache_dir=tmp_path / "c")
    with pytest.raises(InputError, match="x.JPEG.*cannot read image"):
        sets[("fog", 1)]


def test_load_classification_refuses_tinyimagenet_c(tmp_path):
    root = make_tinyimagenet_c(tmp_path / "tinc", corruptions=("fog",), severities=(1,))
    with pytest.raises(InputError, match="TinyImageNetC"):
        load_classification(root, cache_dir=tmp_path / "c")


@pytest.mark.parametrize("name", ["²", "0", "99", "6", "01", "1 "])
def test_severity_folders_other_than_1_to_5_are_refused(tmp_path, name):
    root = make_tinyimagenet_c(tmp_path / "tinc", corruptions=("fog",), severities=(1, 2), n=1)
    (root / "fog" / "2").rename(root / "fog" / name)
    with pytest.raises(
        InputError, match=r"fog: field 'severity': '.*' is not a severity \(expected a folder named 1 to 5\)"
    ):
        TinyImageNetC(root, WNIDS, cache_dir=tmp_path / "c")


def test_class_folder_linked_outside_the_root_is_refused(tmp_path):
    root = make_tinyimagenet_c(tmp_path / "tinc", corruptions=("fog",), severities=(1,), n=1)
    elsewhere = make_tinyimagenet_c(tmp_path / "other", corruptions=("fog",), severities=(1,), n=1)
    (root / "fog" / "1" / "n09999999").symlink_to(elsewhere / "fog" / "1" / WNIDS[0])
    sets = TinyImageNetC(root, [*WNIDS, "n09999999"], cache_dir=tmp_path / "c")
    with pytest.raises(InputError, match=r"n09999999: lies outside the dataset root"):
        sets[("fog", 1)]
