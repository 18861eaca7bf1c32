import numpy as np
import pytest
from neural_fixtures import assert_same, toy_dataset

from v1mtl.common.errors import InputError
from v1mtl.data.neural import detect_v1_format, read_v1, write_native
from v1mtl.data.neural.cadena import write_cadena
from v1mtl.data.neural.nnvision import write_nnvision


def test_detects_each_format(tmp_path):
    d = toy_dataset()
    write_native(d, tmp_path / "native")
    write_nnvision(d, tmp_path / "nnvision")
    write_cadena(d, tmp_path / "cadena.pkl")
    assert detect_v1_format(tmp_path / "native") == "native"
    assert detect_v1_format(tmp_path / "nnvision") == "nnvision"
    assert detect_v1_format(tmp_path / "cadena.pkl") == "cadena2019"
    (tmp_path / "text.pkl").write_text("hello")
    (tmp_path / "empty").mkdir()
    assert detect_v1_format(tmp_path / "text.pkl") is None
    assert detect_v1_format(tmp_path / "empty") is None
    assert detect_v1_format(tmp_path / "absent") is None


def test_round_trips_through_every_format(tmp_path):
    d = toy_dataset(neurons=(2, 3, 4), repeats=(4, 2, 3))
    write_native(d, tmp_path / "a")
    write_nnvision(read_v1(tmp_path / "a"), tmp_path / "b")
    write_cadena(read_v1(tmp_path / "b"), tmp_path / "c.pkl")
    write_native(read_v1(tmp_path / "c.pkl"), tmp_path / "d")
    final = read_v1(tmp_path / "d", "native")
    assert_same(d, final)
    assert sum(np.isnan(s.train_responses).sum() for s in final.sessions) > 0


def test_unknown_format_and_missing_path(tmp_path):
    (tmp_path / "x.txt").write_text("?")
    with pytest.raises(InputError, match="x.txt: field 'format': unknown V1 data format"):
        read_v1(tmp_path / "x.txt")
    with pytest.raises(InputError, match="field 'format': unknown format 'hdf5'"):
        read_v1(tmp_path / "x.txt", "hdf5")
    with pytest.raises(InputError, match="no such file or folder"):
        read_v1(tmp_path / "nothing")


def test_explicit_format_overrides_detection(tmp_path):
    write_native(toy_dataset(), tmp_path / "a")
    with pytest.raises(InputError, match="missing the 'neuronal_data' folder"):
        read_v1(tmp_path / "a", "nnvision")
