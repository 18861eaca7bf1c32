import os
import pickle

import numpy as np
import pytest

from v1mtl.common.errors import InputError
from v1mtl.data.neural.limits import ElementBudget
from v1mtl.data.neural.safe_pickle import numeric_array, require_key, safe_load, whole_numbers


class _RunsCode:
    """Unpickling this object would run a shell command that creates a marker file."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


@pytest.mark.parametrize("protocol", [0, 2, 4, 5])
def test_numpy_content_loads_at_every_protocol(tmp_path, protocol):
    content = {
        "f32": np.arange(6, dtype=np.float32).reshape(2, 3),
        "nan": np.array([1.0, np.nan]),
        "u8": np.arange(4, dtype=np.uint8),
        "text": np.array(["original", "conv1"]),
        "objects": np.array([np.array(["conv2"]), np.array(["conv3"])], dtype=object),
        "scalar": np.float64(2.5),
        "int": np.int64(7),
        "plain": [1, 2.0, "a", (3, None), {"k": b"bytes"}],
    }
    path = tmp_path / "ok.pkl"
    path.write_bytes(pickle.dumps(content, protocol=protocol))
    loaded = safe_load(path)
    for key in ("f32", "nan", "u8", "text"):
        np.testing.assert_array_equal(loaded[key], content[key])
        assert loaded[key].dtype == content[key].dtype
    assert loaded["objects"][1][0] == "conv3"
    assert loaded["scalar"] == 2.5 and loaded["int"] == 7
    assert loaded["plain"] == content["plain"]


def test_python2_style_pickle_with_byte_strings_loads(tmp_path):
    # Protocol-2 opcodes as Python 2 writes them: SHORT_BINSTRING keys (bytes in Python 3) -> latin-1 text.
    data = b"\x80\x02}q\x00(U\x06imagesq\x01K\x01U\x01\xe9q\x02K\x02u."
    path = tmp_path / "py2.pkl"
    path.write_bytes(data)
    assert safe_load(path) == {"images": 1, "\xe9": 2}


def test_malicious_pickle_is_refused_and_never_runs(tmp_path):
    # Control: the payload really runs under the plain unpickler (it only touches a file in tmp_path).
    control = tmp_path / "control"
    pickle.loads(pickle.dumps(_RunsCode(control), protocol=2))
    assert control.exists()

    marker = tmp_path / "pwned"
    path = tmp_path / "evil.pkl"
    path.write_bytes(pickle.dumps({"images": np.zeros(2), "x": _RunsCode(marker)}, protocol=2))
    with pytest.raises(InputError, match=r"refused to load '(posix|os)\.system'") as err:
        safe_load(path)
    assert str(path) in str(err.value)
    assert not marker.exists()


@pytest.mark.parametrize("payload", [b"cbuiltins\neval\n(S'1+1'\ntR.", b"csubprocess\ncall\n(S'true'\ntR."])
def test_other_globals_are_refused(tmp_path, payload):
    path = tmp_path / "bad.pkl"
    path.write_bytes(payload)
    with pytest.raises(InputError, match="refused"):
        safe_load(path)


def test_not_a_pickle_and_missing_file(tmp_path):
    junk = tmp_path / "junk.pkl"
    junk.write_bytes(b"this is text, not a pickle")
    with pytest.raises(InputError, match="not a readable pickle"):
        safe_load(junk)
    with pytest.raises(InputError, match="cannot read"):
        safe_load(tmp_path / "absent.pkl")


def test_field_helpers_name_file_and_field():
    with pytest.raises(InputError, match="f.pkl: field 'responses': missing key"):
        require_key({"images": 1}, "responses", "f.pkl")
    with pytest.raises(InputError, match="field 'images': expected a dict"):
        require_key([1, 2], "images", "f.pkl")
    with pytest.raises(InputError, match="field 'responses': expected real numbers"):
        numeric_array(np.array(["a", "b"]), "f.pkl", "responses")
    with pytest.raises(InputError, match="expected real numbers, got dtype <U"):
        numeric_array(np.array([1, "x"], dtype=object), "f.pkl", "responses")
    with pytest.raises(InputError, match="expected 3 dimensions"):
        numeric_array(np.zeros((2, 2)), "f.pkl", "responses", ndim=3)
    with pytest.raises(InputError, match="NaN or inf"):
        numeric_array(np.array([1.0, np.inf]), "f.pkl", "images", finite=True)
    with pytest.raises(InputError, match="expected whole numbers"):
        whole_numbers(np.array([1.5]), "f.pkl", "image_ids")
    np.testing.assert_array_equal(whole_numbers(np.array([[3.0], [4.0]]), "f.pkl", "image_ids"), [3, 4])


def test_python2_numpy_array_pickle_loads(tmp_path):
    # What Python 2 NumPy writes for np.array([1.5, 2.0, 3.25]) at protocol 2: dtype('f8', 0, 1) with
    # integer flags, the data as a byte string (decoded as latin-1 text here) and NEWFALSE for fortran.
    data = np.array([1.5, 2.0, 3.25]).tobytes()
    raw = (
        b"\x80\x02cnumpy.core.multiarray\n_reconstruct\nq\x00cnumpy\nndarray\nq\x01K\x00\x85q\x02U\x01bq\x03"
        b"\x87q\x04Rq\x05(K\x01K\x03\x85q\x06cnumpy\ndtype\nq\x07U\x02f8q\x08K\x00K\x01\x87q\tRq\n"
        b"(K\x03U\x01<q\x0bNNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00tq\x0cb\x89U\x18" + data + b"q\rtq\x0eb."
    )
    path = tmp_path / "py2_array.pkl"
    path.write_bytes(raw)
    np.testing.assert_array_equal(safe_load(path), [1.5, 2.0, 3.25])


def test_declared_sizes_are_checked_before_anything_is_built(tmp_path):
    row = [[0.0] * 64] * 64
    path = tmp_path / "bomb.pkl"
    path.write_bytes(pickle.dumps({"images": [row] * 1000}))
    content = safe_load(path)  # the memo keeps it small until it is converted
    with pytest.raises(InputError, match=r"declares 4,096,000 array elements .* limit of 1,000,000"):
        numeric_array(content["images"], path, "images", ElementBudget(10**6))
    with pytest.raises(InputError, match="field 'image_ids': beyond int64"):
        whole_numbers(np.array([2**63], dtype=np.uint64), path, "image_ids")
    with pytest.raises(InputError, match="below 2\\*\\*53"):
        whole_numbers(np.array([2.0**63]), path, "image_ids")
