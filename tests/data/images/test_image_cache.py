import json
import os

import numpy as np

from v1mtl.data.images.cache import cache_root, load_or_build


def _builder(calls):
    def build():
        calls.append(1)
        return {"a": np.arange(12, dtype=np.uint8).reshape(3, 4), "empty": np.zeros((0, 4), np.int64)}, {
            "n": 3
        }

    return build


def test_hit_miss_and_invalidation(tmp_path):
    src = tmp_path / "src.bin"
    src.write_bytes(b"abc")
    calls = []
    arrays, meta = load_or_build("kind", {"p": 1}, [src], _builder(calls), tmp_path / "cache")
    assert calls == [1] and meta == {"n": 3}
    assert isinstance(arrays["a"], np.memmap) and not arrays["a"].flags.writeable
    np.testing.assert_array_equal(arrays["a"], np.arange(12).reshape(3, 4))
    assert arrays["empty"].shape == (0, 4)

    load_or_build("kind", {"p": 1}, [src], _builder(calls), tmp_path / "cache")
    assert calls == [1]  # hit
    load_or_build("kind", {"p": 2}, [src], _builder(calls), tmp_path / "cache")
    assert calls == [1, 1]  # other parameters
    st = os.stat(src)
    os.utime(src, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    load_or_build("kind", {"p": 1}, [src], _builder(calls), tmp_path / "cache")
    assert calls == [1, 1, 1]  # changed mtime
    src.write_bytes(b"abcd")
    os.utime(src, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    load_or_build("kind", {"p": 1}, [src], _builder(calls), tmp_path / "cache")
    assert calls == [1, 1, 1, 1]  # same mtime, changed size


def test_entry_without_manifest_or_with_bad_array_is_rebuilt(tmp_path):
    calls = []
    load_or_build("kind", {}, [], _builder(calls), tmp_path)
    (entry,) = (tmp_path / "kind").iterdir()
    (entry / "manifest.json").unlink()
    load_or_build("kind", {}, [], _builder(calls), tmp_path)
    assert calls == [1, 1]
    manifest = json.loads((entry / "manifest.json").read_text())
    manifest["arrays"]["a"]["shape"] = [5, 4]
    (entry / "manifest.json").write_text(json.dumps(manifest))
    load_or_build("kind", {}, [], _builder(calls), tmp_path)
    assert calls == [1, 1, 1]


def test_cache_root_env(tmp_path, monkeypatch):
    monkeypatch.setenv("V1MTL_CACHE", str(tmp_path / "env"))
    assert cache_root() == tmp_path / "env"
    assert cache_root(tmp_path / "x") == tmp_path / "x"
    monkeypatch.delenv("V1MTL_CACHE")
    assert cache_root().name == "v1mtl"
