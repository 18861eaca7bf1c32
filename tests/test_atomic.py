import os
import stat
import tempfile
from pathlib import Path

import numpy as np
import pytest

from v1mtl.common import atomic


def test_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    target = tmp_path / "a.txt"
    atomic.write_text(target, "old")
    with pytest.raises(RuntimeError), atomic.atomic_open(target, "w") as fh:
        fh.write("half of the new")
        raise RuntimeError("crash")
    assert target.read_text() == "old"
    assert os.listdir(tmp_path) == ["a.txt"]


def test_written_files_are_readable_by_others_like_a_plain_open(tmp_path):
    atomic.write_text(tmp_path / "a.txt", "x")
    with open(tmp_path / "b.txt", "w") as fh:
        fh.write("x")
    mode = stat.S_IMODE(os.stat(tmp_path / "a.txt").st_mode)
    assert mode == stat.S_IMODE(os.stat(tmp_path / "b.txt").st_mode)


def test_npy_and_json_round_trip(tmp_path):
    arr = np.arange(6, dtype=np.float32).reshape(2, 3)
    atomic.save_npy(tmp_path / "a.npy", arr)
    np.testing.assert_array_equal(np.load(tmp_path / "a.npy", mmap_mode="r"), arr)
    atomic.write_json(tmp_path / "a.json", {"x": np.float32(1.5), "y": arr[0]})
    assert (tmp_path / "a.json").read_text().count("1.5") == 1


def test_atomic_folder_appears_whole_or_not_at_all(tmp_path):
    target = tmp_path / "dataset"
    with pytest.raises(RuntimeError), atomic.atomic_folder(target) as tmp:
        (tmp / "a.npy").write_bytes(b"x")
        raise RuntimeError("crash")
    assert os.listdir(tmp_path) == []
    with atomic.atomic_folder(target) as tmp:
        (tmp / "a.npy").write_bytes(b"x")
        assert not target.exists()
    assert os.listdir(target) == ["a.npy"] and os.listdir(tmp_path) == ["dataset"]
    assert stat.S_IMODE(os.stat(target).st_mode) & 0o055  # not left private like mkdtemp's 0700


def test_stale_temporaries_of_killed_writers_are_removed_and_nothing_else(tmp_path):
    # what a kill -9 leaves: the temporary of atomic_open (a file) and of atomic_folder (a folder)
    fd, tmp_file = tempfile.mkstemp(prefix=".last.pt.", suffix=".tmp", dir=tmp_path)
    os.close(fd)
    tmp_folder = tempfile.mkdtemp(prefix=".targets.", suffix=".partial", dir=tmp_path)
    (Path(tmp_folder) / "a.npy").write_bytes(b"x")
    kept = [".hidden.tmp", "last.pt", "notes.tmp", ".a.TOOLONG12.tmp", ".a.short.partial"]
    for name in kept:
        (tmp_path / name).write_bytes(b"x")
    (tmp_path / ".b.abcdefgh.partial").write_bytes(b"a file, not a folder")
    (tmp_path / ".c.abcdefgh.tmp").symlink_to(tmp_path / "last.pt")

    removed = atomic.remove_stale_temporaries(tmp_path)

    assert sorted(removed) == sorted([Path(tmp_file), Path(tmp_folder)])
    assert sorted(os.listdir(tmp_path)) == sorted([*kept, ".b.abcdefgh.partial", ".c.abcdefgh.tmp"])
    assert atomic.remove_stale_temporaries(tmp_path / "missing") == []
