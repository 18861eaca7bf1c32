"""Fuzzing the V1 readers (native, Cadena 2019, nnvision) with malformed variants of small valid datasets.

Every case writes a mutated copy of a valid fixture and reads it through ``fuzz_check`` (tests/conftest.py):
the outcome must be a dataset or an ``InputError`` of one line naming the file. Each case also says what
it expects:

- ``REJECT``: the input is invalid (a wrong type, NaN/inf/negative/complex values, duplicate ids, a size
  past the limit, a path out of the folder, ...): accepting it would be silent garbage;
- ``SAME``: a harmless variant (another integer width, lists instead of an array, a deleted optional
  key): it must be accepted and read as the unmutated fixture;
- ``VALID``: a valid variant that changes the data: it must be accepted;
- ``EITHER``: a random corruption (a flipped byte): either outcome, but what is accepted must be valid.

Accepted datasets are checked with ``assert_valid``, independently of the readers' own validation. The
cases are seeded (``derandomize``), so every run tests the same inputs.
"""

from __future__ import annotations

import codecs
import copy
import json
import os
import pickle
import shutil
import struct
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from neural_fixtures import (
    NNVISION_SESSIONS,
    assert_same,
    assert_valid,
    cadena_content,
    nnvision_layout,
    nnvision_sessions,
    toy_dataset,
)

from v1mtl.data.neural.cadena import read_cadena
from v1mtl.data.neural.limits import MAX_MANIFEST_BYTES
from v1mtl.data.neural.native import read_native, write_native
from v1mtl.data.neural.nnvision import read_nnvision

pytestmark = pytest.mark.fuzz

REJECT, SAME, VALID, EITHER = "reject", "same", "valid", "either"
Variant = tuple[str, Callable[[Any], Any], str]  # (name, make the value from a hypothesis draw, expectation)


def judge(fuzz_check, fmt: str, read: Callable[[], Any], named: Path, expect: str, baseline=None) -> None:
    """Run one case through ``fuzz_check`` (errors must name ``named``) and hold it to ``expect``."""
    outcome, value = fuzz_check(fmt, read, named)
    if expect == REJECT:
        assert outcome == "input_error", "accepted an invalid input"
    elif expect in (SAME, VALID):
        assert outcome == "accepted", value
    if outcome == "accepted":
        assert_valid(value)
        if expect == SAME:
            assert_same(baseline, value)


def fresh_dir(tmp_path: Path) -> Path:
    """One folder per generated case (hypothesis reuses the test's ``tmp_path``)."""
    return Path(tempfile.mkdtemp(dir=tmp_path))


def flip(data: bytes, position: int, byte: int) -> bytes:
    out = bytearray(data)
    out[position % len(out)] ^= byte or 1
    return bytes(out)


def npy_with_header(shape: tuple[int, ...], dtype: str, data: bytes) -> bytes:
    """A version 1.0 ``.npy`` file whose header declares ``shape``, whatever ``data`` holds."""
    header = repr({"descr": dtype, "fortran_order": False, "shape": shape}).encode("latin1")
    header += b" " * (63 - (len(header) + 10) % 64) + b"\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header + data


def with_entry(arr: np.ndarray, index: int, value: Any, dtype: Any = None) -> np.ndarray:
    """A copy of ``arr`` (cast to ``dtype``) with flat entry ``index`` set to ``value``."""
    out = np.array(arr, dtype=dtype)
    out.reshape(-1)[index % out.size] = value
    return out


def deep_list(depth: int) -> list:
    value: list = []
    for _ in range(depth):
        value = [value]
    return value


def memo_bomb(rows: int, side: int) -> list:
    """A nested list of ``rows x side x side`` zeros in which every row is one list object: its pickle
    is a few bytes per row, its array ``rows * side**2`` elements."""
    row = [[0.0] * side] * side
    return [row] * rows


# Values of the wrong type for any field (JSON for manifests, Python objects for pickles).
JUNK = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.lists(st.integers(-5, 5), max_size=4),
    st.dictionaries(st.text(max_size=4), st.integers(), max_size=3),
)


def is_int(v: object) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def is_label(v: object) -> bool:
    return isinstance(v, str) and 0 < len(v) <= 200 and v.isprintable()


def label_ok(v: Any) -> bool:
    """Would a reader take ``v`` as a subject or session label (a name or a finite number)?"""
    while isinstance(v, (list, tuple, np.ndarray)) and np.size(v) == 1:
        v = np.asarray(v, dtype=object).reshape(-1)[0]
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, bool) or not isinstance(v, (str, int, float)):
        return False
    if isinstance(v, float) and not np.isfinite(v):
        return False
    return not (isinstance(v, int) and abs(v) > 2**63 - 1) and is_label(str(v))


def write_pickle(path: Path, content: Any, protocol: int = 4) -> Path:
    path.write_bytes(pickle.dumps(content, protocol=protocol))
    return path


def swap(file: Path, tmp_path: Path, how: str) -> str:
    """Replace ``file`` by something other than its own regular file; returns the expectation."""
    if how == "symlink inside":  # the same data under another name in the same folder
        target = file.with_name(f".moved-{file.name}.data")
        file.rename(target)
        file.symlink_to(target)
        return SAME
    if how == "symlink outside":
        outside = fresh_dir(tmp_path) / file.name
        shutil.copy(file, outside)
        file.unlink()
        file.symlink_to(outside)
        return REJECT
    file.unlink()
    if how == "symlink loop":
        file.symlink_to(file)
    elif how == "folder":
        file.mkdir()
    elif how == "fifo":  # opening one for reading would block forever
        os.mkfifo(file)
    return REJECT


SWAPS = ["symlink inside", "symlink outside", "symlink loop", "folder", "fifo", "missing"]


# ---------------------------------------------------------------------------------------------------- native


@pytest.fixture(scope="module")
def native_template(tmp_path_factory):
    root = tmp_path_factory.mktemp("native") / "ds"
    d = toy_dataset(n_images=10, size=4, neurons=(2, 3), repeats=(2, 1), seed=0)
    d.pixels_per_degree = 20.0
    d.metadata = {"source": "fuzz"}
    write_native(d, root)
    return root, read_native(root, mmap=False)


def native_copy(template: Path, tmp_path: Path) -> Path:
    root = fresh_dir(tmp_path) / "ds"
    shutil.copytree(template, root)
    return root


def read_native_case(root: Path, mmap: bool = True) -> Callable[[], Any]:
    return lambda: read_native(root, mmap=mmap)


def _same_entries(v: Any, o: list) -> bool:
    """The same session entries, in any order (sessions are matched by id)."""
    return isinstance(v, list) and sorted(map(json.dumps, v)) == sorted(map(json.dumps, o))


def _same_folder(v: Any, o: str) -> bool:
    return isinstance(v, str) and "\x00" not in v and os.path.normpath(v) == os.path.normpath(o)


def _exactly(v: Any, o: Any) -> str:
    return SAME if type(v) is type(o) and v == o else REJECT


def _positive(v: Any) -> bool:
    return (is_int(v) or isinstance(v, float)) and np.isfinite(float(v)) and float(v) > 0


# field -> (its keys in the manifest, expectation for a new value v (o: the original), if deleted)
NATIVE_FIELDS: dict[str, tuple[tuple, Callable[[Any, Any], str], str]] = {
    "format": (("format",), _exactly, REJECT),
    "format_version": (("format_version",), _exactly, REJECT),
    "n_images": (("n_images",), _exactly, REJECT),
    "image_shape": (
        ("image_shape",),
        lambda v, o: SAME if isinstance(v, list) and all(map(is_int, v)) and v == o else REJECT,
        REJECT,
    ),
    "image_dtype": (("image_dtype",), lambda v, o: SAME if v is None or v == o else REJECT, SAME),
    "pixels_per_degree": (
        ("pixels_per_degree",),
        lambda v, o: VALID if v is None or _positive(v) else REJECT,
        VALID,
    ),
    "metadata": (("metadata",), lambda v, o: VALID if v is None or isinstance(v, dict) else REJECT, VALID),
    "sessions": (("sessions",), lambda v, o: SAME if _same_entries(v, o) else REJECT, REJECT),
    "sessions[0]": (("sessions", 0), _exactly, VALID),  # deleting it leaves a one-session dataset
    "sessions[0].id": (
        ("sessions", 0, "id"),
        lambda v, o: VALID if is_label(v) and v != "s1" else REJECT,
        REJECT,
    ),
    "sessions[1].subject": (
        ("sessions", 1, "subject"),
        lambda v, o: VALID if is_label(v) else REJECT,
        REJECT,
    ),
    "sessions[0].dir": (("sessions", 0, "dir"), lambda v, o: SAME if _same_folder(v, o) else REJECT, REJECT),
    "sessions[1].n_neurons": (("sessions", 1, "n_neurons"), _exactly, REJECT),
    "sessions[0].n_train_trials": (("sessions", 0, "n_train_trials"), _exactly, REJECT),
    "sessions[1].n_test_images": (("sessions", 1, "n_test_images"), _exactly, REJECT),
    "sessions[0].n_repeats": (("sessions", 0, "n_repeats"), _exactly, REJECT),
}


def _near(original: Any) -> st.SearchStrategy:
    """Values close to the valid one: itself, as text, off by one, as a float, negated, shuffled."""
    options = [st.just(original), st.just(str(original))]
    if is_int(original):
        options.append(st.sampled_from([original + 1, original - 1, -original, float(original), True, 2**63]))
    elif isinstance(original, float):
        options.append(st.sampled_from([-original, 0.0, float("nan"), float("inf"), 63.5, 1, "abc"]))
    elif isinstance(original, list):
        options.append(st.sampled_from([original[::-1], original + original[:1], []]))
    elif isinstance(original, str):
        options.append(
            st.sampled_from([original + "/", "./" + original, original.upper(), "", "../" + original])
        )
    return st.one_of(*options)


def _parent_and_key(manifest: dict, keys: tuple) -> tuple[Any, Any]:
    parent = manifest
    for k in keys[:-1]:
        parent = parent[k]
    return parent, keys[-1]


@pytest.mark.parametrize("field", sorted(NATIVE_FIELDS))
@settings(max_examples=10)
@given(data=st.data())
def test_native_manifest_fields(fuzz_check, native_template, tmp_path, field, data):
    template, baseline = native_template
    keys, rule, if_deleted = NATIVE_FIELDS[field]
    root = native_copy(template, tmp_path)
    manifest = json.loads((root / "manifest.json").read_text())
    parent, key = _parent_and_key(manifest, keys)
    original = parent[key]
    if data.draw(st.booleans(), label="delete"):
        del parent[key]
        expect = if_deleted
    else:
        parent[key] = value = data.draw(st.one_of(_near(original), JUNK), label="value")
        expect = rule(value, original)
    (root / "manifest.json").write_text(json.dumps(manifest))
    judge(fuzz_check, "native", read_native_case(root), root, expect, baseline)


@settings(max_examples=40)
@given(truncate=st.booleans(), position=st.integers(0, 10**6), byte=st.integers(0, 255))
def test_native_manifest_bytes(fuzz_check, native_template, tmp_path, truncate, position, byte):
    template, baseline = native_template
    root = native_copy(template, tmp_path)
    path = root / "manifest.json"
    text = path.read_bytes()
    mutated = text[: position % len(text)] if truncate else flip(text, position, byte)
    path.write_bytes(mutated)
    try:
        same = json.loads(mutated) == json.loads(text)
    except ValueError:
        same = False
    # A cut that keeps the whole object (only the final newline lost) reads the same; no other can.
    expect = SAME if same else (REJECT if truncate else EITHER)
    judge(fuzz_check, "native", read_native_case(root), root, expect, baseline)


def _manifest_with(extra: str) -> bytes:
    """The fixture's manifest text with ``extra`` (raw JSON text) as one more field."""
    return f'{{"format": "v1mtl-neural", "format_version": 1, "extra": {extra}}}'.encode()


UNREADABLE_MANIFESTS = {
    "empty": b"",
    "not utf-8": b'{"format": "v1mtl-neural\xff"}',
    "utf-16": '{"format": "v1mtl-neural"}'.encode("utf-16"),
    "a list": b"[1, 2, 3]",
    "a number": b"42",
    "a string": b'"v1mtl-neural"',
    "nested 2000 deep": _manifest_with("[" * 2000 + "]" * 2000),
    "an integer of 5000 digits": _manifest_with("9" * 5000),
    "NaN count": b'{"format": "v1mtl-neural", "format_version": 1, "n_images": NaN, "image_shape": [4, 4], "sessions": []}',
}


@pytest.mark.parametrize("name", sorted(UNREADABLE_MANIFESTS))
def test_native_unreadable_manifests(fuzz_check, native_template, tmp_path, name):
    root = native_copy(native_template[0], tmp_path)
    (root / "manifest.json").write_bytes(UNREADABLE_MANIFESTS[name])
    judge(fuzz_check, "native", read_native_case(root), root / "manifest.json", REJECT)


def test_native_oversized_manifest_is_not_read(fuzz_check, native_template, tmp_path):
    root = native_copy(native_template[0], tmp_path)
    with (root / "manifest.json").open("a") as fh:  # still valid JSON: whitespace may follow
        fh.write(" " * MAX_MANIFEST_BYTES)
    judge(fuzz_check, "native", read_native_case(root), root / "manifest.json", REJECT)


NATIVE_ARRAYS = [
    "images.npy",
    "image_ids.npy",
    "sessions/s0/train_image_ids.npy",
    "sessions/s0/train_responses.npy",
    "sessions/s1/test_image_ids.npy",
    "sessions/s1/test_responses.npy",
]


def _native_array_variants(name: str, arr: np.ndarray) -> list[Variant]:
    """Replacements for one native array file (an array to save, or the bytes of a file)."""
    variants: list[Variant] = [
        ("complex", lambda d: arr.astype(np.complex64), REJECT),
        ("bool", lambda d: arr.astype(bool), REJECT),
        ("text", lambda d: arr.astype(str), REJECT),
        ("extra axis", lambda d: arr[..., None], REJECT),
        ("one row less", lambda d: arr[1:], REJECT),
        (
            "huge header",
            lambda d: npy_with_header((2**40, *arr.shape[1:]), arr.dtype.str, arr.tobytes()),
            REJECT,
        ),
        (
            "trailing bytes",
            lambda d: npy_with_header(arr.shape, arr.dtype.str, arr.tobytes() + b"\0" * 8),
            REJECT,
        ),
        ("short data", lambda d: npy_with_header(arr.shape, arr.dtype.str, arr.tobytes()[:-1]), REJECT),
        ("big-endian", lambda d: arr.astype(arr.dtype.newbyteorder(">")), SAME),
        ("fortran order", lambda d: np.asfortranarray(arr), SAME),
    ]
    index = st.integers(0, arr.size - 1)
    if name.endswith("image_ids.npy"):
        # repeated training images are more trials; repeated image or test ids are errors
        duplicate = VALID if "train_image_ids" in name else REJECT
        variants += [
            ("int32", lambda d: arr.astype(np.int32), SAME),
            ("whole floats", lambda d: arr.astype(np.float64), REJECT),
            ("2**63", lambda d: with_entry(arr, d.draw(index), 2**63, np.uint64), REJECT),
            ("duplicate", lambda d: with_entry(arr, 1, arr[0]), duplicate),
            ("unknown id", lambda d: with_entry(arr, d.draw(index), 123456), REJECT),
        ]
    elif name == "images.npy":
        variants.append(("int16", lambda d: arr.astype(np.int16), REJECT))  # the manifest says uint8
    else:
        variants += [
            ("float64", lambda d: arr.astype(np.float64), SAME),
            ("nan", lambda d: with_entry(arr, d.draw(index), np.nan), VALID),
            ("inf", lambda d: with_entry(arr, d.draw(index), np.inf), REJECT),
            ("negative", lambda d: with_entry(arr, d.draw(index), -d.draw(st.floats(1e-6, 1e30))), REJECT),
            ("integer counts", lambda d: np.nan_to_num(arr).astype(np.int64), VALID),
        ]
    return variants


def _native_array_cases() -> list[tuple[str, str, str]]:
    shapes = {"images.npy": (10, 4, 4), "image_ids.npy": (10,)}
    cases = []
    for name in NATIVE_ARRAYS:
        example = np.zeros(shapes.get(name, (2, 2)), dtype=np.int64 if "ids" in name else np.float32)
        cases += [(name, variant, expect) for variant, _, expect in _native_array_variants(name, example)]
    return cases


NATIVE_ARRAY_CASES = _native_array_cases()


@pytest.mark.parametrize(
    ("name", "variant", "expect"), NATIVE_ARRAY_CASES, ids=[f"{n}-{v}" for n, v, _ in NATIVE_ARRAY_CASES]
)
@settings(max_examples=3)
@given(data=st.data())
def test_native_array_contents(fuzz_check, native_template, tmp_path, name, variant, expect, data):
    template, baseline = native_template
    root = native_copy(template, tmp_path)
    file = root / name
    make = {v: m for v, m, _ in _native_array_variants(name, np.load(file))}[variant]
    replacement = make(data)
    if isinstance(replacement, bytes):
        file.write_bytes(replacement)
    else:
        np.save(file, replacement, allow_pickle=False)
    named = root if name == "image_ids.npy" else file  # a changed image id breaks the sessions' references
    mmap = data.draw(st.booleans(), label="mmap")
    judge(fuzz_check, "native", read_native_case(root, mmap), named, expect, baseline)


@pytest.mark.parametrize("name", NATIVE_ARRAYS)
@settings(max_examples=12)
@given(
    how=st.sampled_from(["header byte", "any byte", "truncate"]),
    position=st.integers(0, 10**6),
    byte=st.integers(0, 255),
)
def test_native_array_bytes(fuzz_check, native_template, tmp_path, name, how, position, byte):
    template, baseline = native_template
    root = native_copy(template, tmp_path)
    file = root / name
    raw = file.read_bytes()
    if how == "truncate":
        mutated, expect = raw[: position % len(raw)], REJECT
    else:  # the header is the first 128 bytes of these small files
        mutated, expect = flip(raw, position % 128 if how == "header byte" else position, byte), EITHER
    file.write_bytes(mutated)
    named = root if name == "image_ids.npy" else file
    judge(fuzz_check, "native", read_native_case(root), named, expect, baseline)


@pytest.mark.parametrize("how", SWAPS)
@pytest.mark.parametrize("name", [*NATIVE_ARRAYS, "manifest.json"])
def test_native_files_swapped(fuzz_check, native_template, tmp_path, name, how):
    template, baseline = native_template
    root = native_copy(template, tmp_path)
    expect = swap(root / name, tmp_path, how)
    judge(fuzz_check, "native", read_native_case(root), root / name, expect, baseline)


def test_native_limit_is_an_option(fuzz_check, native_template, tmp_path):
    template, baseline = native_template
    root = native_copy(template, tmp_path)
    largest = np.load(root / "images.npy").size  # 10 x 4 x 4
    judge(
        fuzz_check, "native", lambda: read_native(root, max_elements=largest - 1), root / "images.npy", REJECT
    )
    judge(fuzz_check, "native", lambda: read_native(root, max_elements=largest), root, SAME, baseline)


def _session_dir_variant(root: Path, tmp_path: Path, how: str) -> tuple[str, str]:
    """Point ``sessions[0].dir`` somewhere else; returns (the manifest's new ``dir``, expectation)."""
    folder = root / "sessions" / "s0"
    outside = fresh_dir(tmp_path) / "s0"
    if how == "equivalent path":
        return "./sessions/../sessions/s0/", SAME
    if how == "symlink inside":
        (root / "sessions" / "alias").symlink_to(folder, target_is_directory=True)
        return "sessions/alias", SAME
    if how in ("dotdot outside", "absolute outside", "symlink outside"):
        shutil.copytree(folder, outside)
        if how == "symlink outside":
            shutil.rmtree(folder)
            folder.symlink_to(outside, target_is_directory=True)
            return "sessions/s0", REJECT
        return (os.path.relpath(outside, root) if how == "dotdot outside" else str(outside)), REJECT
    if how == "symlink loop":
        shutil.rmtree(folder)
        folder.symlink_to(folder, target_is_directory=True)
        return "sessions/s0", REJECT
    if how == "a file":
        return "sessions/s0/train_responses.npy", REJECT
    if how == "the root":
        return ".", REJECT  # exists and is inside, but holds no session arrays
    assert how == "nul"
    return "sessions/s0\x00", REJECT


SESSION_DIRS = [
    "equivalent path",
    "symlink inside",
    "dotdot outside",
    "absolute outside",
    "symlink outside",
    "symlink loop",
    "a file",
    "the root",
    "nul",
]


@pytest.mark.parametrize("how", SESSION_DIRS)
def test_native_session_folders(fuzz_check, native_template, tmp_path, how):
    template, baseline = native_template
    root = native_copy(template, tmp_path)
    new_dir, expect = _session_dir_variant(root, tmp_path, how)
    manifest = json.loads((root / "manifest.json").read_text())
    manifest["sessions"][0]["dir"] = new_dir
    (root / "manifest.json").write_text(json.dumps(manifest))
    judge(fuzz_check, "native", read_native_case(root), root, expect, baseline)


# ---------------------------------------------------------------------------------------------------- Cadena

CADENA = cadena_content(np.random.default_rng(0))
CADENA_KEYS = ["images", "responses", "image_ids", "repetitions", "subject_id", "session_id", "image_types"]
# Past the default element limit (2**28) from a 3 KB pickle; the issue's own bomb is in HOSTILE_PICKLES.
BOMB = memo_bomb(300, 1024)


@pytest.fixture(scope="module")
def cadena_baseline(tmp_path_factory):
    return read_cadena(write_pickle(tmp_path_factory.mktemp("cadena") / "c.pkl", CADENA))


def _cadena_variants(key: str, original: Any) -> list[Variant]:
    """Variants of one key of the Cadena pickle."""
    arr = np.asarray(original)
    index = st.integers(0, max(arr.size - 1, 0))
    as_lists = ("as nested lists", lambda d: arr.tolist(), SAME)
    as_objects = ("as an object array", lambda d: arr.astype(object), SAME)
    complex_, text = (
        ("complex", lambda d: arr.astype(np.complex128), REJECT),
        ("text", lambda d: arr.astype(str), REJECT),
    )
    bomb, deep = ("memo bomb", lambda d: BOMB, REJECT), ("nested 200 deep", lambda d: deep_list(200), REJECT)
    if key == "images":
        return [
            as_lists,
            as_objects,
            complex_,
            text,
            bomb,
            deep,
            ("transposed", lambda d: arr.T, REJECT),
            ("nan", lambda d: with_entry(arr, d.draw(index), np.nan), REJECT),
            ("inf", lambda d: with_entry(arr, d.draw(index), -np.inf), REJECT),
            ("uint8", lambda d: arr.astype(np.uint8), VALID),
            (
                "above 255",
                lambda d: with_entry(arr, d.draw(index), 255 + d.draw(st.floats(1e-3, 1e30))),
                REJECT,
            ),
            ("negative", lambda d: with_entry(arr, d.draw(index), -d.draw(st.floats(1e-6, 1e30))), REJECT),
            ("one image less", lambda d: arr[1:], REJECT),
        ]
    if key == "responses":
        repeat0 = st.integers(0, arr[0].size - 1)  # slot 0 holds a value for every neuron
        return [
            as_lists,
            as_objects,
            complex_,
            text,
            bomb,
            deep,
            ("transposed", lambda d: arr.T, REJECT),
            ("nan", lambda d: with_entry(arr, d.draw(repeat0), np.nan), VALID),
            ("inf", lambda d: with_entry(arr, d.draw(index), np.inf), REJECT),
            ("negative", lambda d: with_entry(arr, d.draw(index), -d.draw(st.floats(1e-6, 1e30))), REJECT),
            ("bool", lambda d: arr > 2, REJECT),
            ("no neurons", lambda d: arr[:, :, :0], REJECT),
        ]
    if key == "image_ids":
        return [
            as_lists,
            complex_,
            text,
            bomb,
            ("flat", lambda d: arr.reshape(-1), SAME),
            ("whole floats", lambda d: arr.astype(np.float64), SAME),
            ("int32", lambda d: arr.astype(np.int32), SAME),
            ("fractions", lambda d: arr + 0.5, REJECT),
            ("duplicate", lambda d: with_entry(arr, 1 + d.draw(index) % (arr.size - 1), arr.flat[0]), REJECT),
            ("2**63", lambda d: with_entry(arr, d.draw(index), 2**63, np.uint64), REJECT),
            ("2**64 as a Python int", lambda d: [[2**64]] + arr.tolist()[1:], REJECT),
            ("2**63 as a float", lambda d: with_entry(arr, d.draw(index), 2.0**63, np.float64), REJECT),
            ("2**62", lambda d: with_entry(arr, d.draw(index), 2**62), VALID),
            ("negative", lambda d: -arr, VALID),
            ("bool", lambda d: arr > 3, REJECT),
            ("one id less", lambda d: arr[1:], REJECT),
        ]
    if key == "repetitions":
        return [
            as_lists,
            complex_,
            text,
            ("whole floats", lambda d: arr.astype(np.float64), SAME),
            ("all 4", lambda d: np.full(5, 4), REJECT),  # session 20 has values in 2 slots only
            ("all 2", lambda d: np.full(5, 2), REJECT),  # session 10 has values in all 4
            (
                "one off",
                lambda d: with_entry(arr, d.draw(index), d.draw(st.sampled_from([0, 1, 3, 5]))),
                REJECT,
            ),
            ("one value less", lambda d: arr[1:], REJECT),
            ("fractions", lambda d: arr + 0.5, REJECT),
        ]
    if key in ("subject_id", "session_id"):
        rest = arr.tolist()[1:]
        return [
            as_lists,
            bomb,
            ("list of 0-d arrays", lambda d: [np.array(x) for x in arr], SAME),
            ("column", lambda d: arr[:, None], SAME),
            ("as text", lambda d: arr.astype(str), SAME),
            (
                "one for all",
                lambda d: d.draw(st.sampled_from(["m1", 7, np.int64(3), np.array(["m2"])])),
                VALID,
            ),
            ("a None", lambda d: [None, *rest], REJECT),
            ("a newline", lambda d: ["a\nb", *rest], REJECT),
            ("300 characters", lambda d: ["x" * 300, *rest], REJECT),
            ("a bool", lambda d: [True, *rest], REJECT),
            ("a NaN", lambda d: [float("nan"), *rest], REJECT),
            ("one label less", lambda d: rest, REJECT),
        ]
    if key == "image_types":
        names = [str(x[0][0]) for x in original]
        return [
            bomb,
            ("flat text", lambda d: names, SAME),
            ("one entry less", lambda d: names[1:], REJECT),
            ("a None", lambda d: [None, *names[1:]], REJECT),
        ]
    assert key == "pixels_per_degree"
    return [
        (
            "a positive number",
            lambda d: d.draw(st.sampled_from([63.5, 1, np.float32(10.0), np.array([2.5])])),
            VALID,
        ),
        ("'abc'", lambda d: "abc", REJECT),
        ("-1", lambda d: -1, REJECT),
        ("zero", lambda d: 0.0, REJECT),
        ("nan", lambda d: float("nan"), REJECT),
        ("inf", lambda d: float("inf"), REJECT),
        ("True", lambda d: True, REJECT),
        ("a list", lambda d: [1.0, 2.0], REJECT),
        ("10**400", lambda d: 10**400, REJECT),
    ]


CADENA_CASES = [
    (key, name, expect)
    for key in [*CADENA_KEYS, "pixels_per_degree"]
    for name, _, expect in _cadena_variants(key, CADENA.get(key))
]


@pytest.mark.parametrize(
    ("key", "name", "expect"), CADENA_CASES, ids=[f"{k}-{n}" for k, n, _ in CADENA_CASES]
)
@settings(max_examples=3)
@given(data=st.data(), protocol=st.sampled_from([2, 4, 5]))
def test_cadena_field_values(fuzz_check, cadena_baseline, tmp_path, key, name, expect, data, protocol):
    content = copy.copy(CADENA)
    content[key] = {n: make for n, make, _ in _cadena_variants(key, CADENA.get(key))}[name](data)
    path = write_pickle(fresh_dir(tmp_path) / "c.pkl", content, protocol)
    judge(fuzz_check, "cadena", lambda: read_cadena(path), path, expect, cadena_baseline)


@pytest.mark.parametrize("key", [*CADENA_KEYS, "image_numbers", "unknown_key"])
@settings(max_examples=6)
@given(value=JUNK, delete=st.booleans())
def test_cadena_wrong_types(fuzz_check, cadena_baseline, tmp_path, key, value, delete):
    content = copy.copy(CADENA)
    unused = key in ("image_numbers", "unknown_key")  # keys the reader ignores
    if delete:
        content.pop(key, None)
        expect = REJECT if key in ("images", "responses", "image_ids") else VALID
    else:
        content[key] = value
        if unused or (key in ("subject_id", "session_id") and label_ok(value)):
            expect = VALID  # one label for all neurons
        else:
            expect = REJECT  # no scalar, short list or dict fits the other keys
    path = write_pickle(fresh_dir(tmp_path) / "c.pkl", content)
    judge(fuzz_check, "cadena", lambda: read_cadena(path), path, expect, cadena_baseline)


@settings(max_examples=60)
@given(
    protocol=st.sampled_from([0, 2, 4, 5]),
    truncate=st.booleans(),
    position=st.integers(0, 10**6),
    byte=st.integers(0, 255),
)
def test_cadena_bytes(fuzz_check, tmp_path, protocol, truncate, position, byte):
    raw = pickle.dumps(CADENA, protocol=protocol)
    path = fresh_dir(tmp_path) / "c.pkl"
    path.write_bytes(raw[: position % len(raw)] if truncate else flip(raw, position, byte))
    judge(fuzz_check, "cadena", lambda: read_cadena(path), path, REJECT if truncate else EITHER)


class Reduce:
    """Pickles as ``func(*args)``, then ``__setstate__(state)`` if a state is given."""

    def __init__(self, func: Any, args: tuple, state: Any = None):
        self.func, self.args, self.state = func, args, state

    def __reduce__(self):
        return (self.func, self.args) if self.state is None else (self.func, self.args, self.state)


def _array_from_state(shape: tuple, dtype: str, data: Any) -> Reduce:
    """An ndarray pickled with a hand-made ``(version, shape, dtype, fortran, data)`` state."""
    return Reduce(
        np._core.multiarray._reconstruct, (np.ndarray, (0,), b"b"), (1, shape, np.dtype(dtype), False, data)
    )


def _hash_bomb() -> bytes:
    """A dict whose key nests 8 levels of 32 references to the level below: hashing it visits 32**8
    floats. Written opcode by opcode, since building it here would hash it."""
    out = b"\x80\x02}G" + struct.pack(">d", 0.0) + b"q\x000"  # {} and 0.0 -> memo 0
    for level in range(1, 9):
        out += b"(" + (b"h" + bytes([level - 1])) * 32 + b"tq" + bytes([level]) + b"0"
    return out + b"h\x08K\x01s."  # dict[level 8] = 1


def _deep_value(depth: int) -> bytes:
    """``{'images': [[[...]]]}`` nested ``depth`` deep, written opcode by opcode (pickle recurses)."""
    return b"\x80\x02}X\x06\x00\x00\x00images" + b"]" * depth + b"a" * (depth - 1) + b"s."


HOSTILE_PICKLES: dict[str, Callable[[], bytes]] = {
    "memo bomb of the issue: 300000 x 64 x 64 in 600 KB": lambda: pickle.dumps(
        {**CADENA, "images": memo_bomb(300_000, 64)}
    ),
    "hash bomb as a dict key": _hash_bomb,
    "huge memo index": lambda: b"\x80\x02Nr\xff\xff\xff\x7f.",
    "bytearray of 2**40 bytes": lambda: b"\x80\x05\x96" + struct.pack("<Q", 2**40) + b".",
    "bytes(10**10)": lambda: pickle.dumps({"images": Reduce(bytes, (10**10,))}, protocol=2),
    "str() of a nested list": lambda: pickle.dumps(
        {"images": Reduce(str, (memo_bomb(100, 100),))}, protocol=4
    ),
    "ndarray declaring 2**40 elements": lambda: pickle.dumps(
        {"images": Reduce(np._core.multiarray._reconstruct, (np.ndarray, (2**40,), b"b"))}, protocol=2
    ),
    "object array state with a short list": lambda: pickle.dumps(
        {"images": _array_from_state((10**6,), "O", [1])}
    ),
    "float array state with short data": lambda: pickle.dumps(
        {"images": _array_from_state((10,), "<f8", b"\0" * 8)}
    ),
    "record dtype": lambda: pickle.dumps(
        {"images": np.zeros(2, dtype=[("a", "f8"), ("b", "O")])}, protocol=2
    ),
    # NumPy raises SystemError on this state; and warns (a second line on stderr) on a text flag
    "dtype state NumPy cannot take": lambda: pickle.dumps(
        {"images": Reduce(np.dtype, ("u1", False, True), (3, "|", None, None, None, None, -1, -1, 0))}
    ),
    "numpy.dtype with a text flag": lambda: pickle.dumps({"images": Reduce(np.dtype, ("f8", "7", True))}),
    # a record of objects: NumPy's scalar() refuses to rebuild one from bytes with a RuntimeError
    "scalar of a record dtype": lambda: pickle.dumps(
        {
            "images": Reduce(
                np._core.multiarray.scalar, (Reduce(np.dtype, ([("a", "O")], False, True)), b"A" * 8)
            )
        }
    ),
    "numpy.ndarray called directly": lambda: pickle.dumps({"images": Reduce(np.ndarray, ((2**40,),))}),
    # Python writes bytes as _codecs.encode(text, 'latin1'); another codec name is looked up (LookupError)
    "_codecs.encode with another codec": lambda: pickle.dumps(
        {"images": Reduce(codecs.encode, ("a", "no-such-codec"))}
    ),
    "os.system": lambda: pickle.dumps(Reduce(os.system, ("true",)), protocol=2),
    "not a dict": lambda: pickle.dumps([1, 2, 3]),
    "nested 100000 deep": lambda: _deep_value(100_000),
    "empty file": lambda: b"",
}


@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize("name", sorted(HOSTILE_PICKLES))
def test_cadena_hostile_pickles(fuzz_check, tmp_path, name):
    path = fresh_dir(tmp_path) / "c.pkl"
    path.write_bytes(HOSTILE_PICKLES[name]())
    start = time.perf_counter()
    judge(fuzz_check, "cadena", lambda: read_cadena(path), path, REJECT)
    assert time.perf_counter() - start < 10, "refused before expanding or allocating anything"


@pytest.mark.parametrize("how", ["symlink loop", "folder", "fifo", "missing"])
def test_cadena_file_swapped(fuzz_check, tmp_path, how):
    path = write_pickle(fresh_dir(tmp_path) / "c.pkl", CADENA)
    judge(fuzz_check, "cadena", lambda: read_cadena(path), path, swap(path, tmp_path, how))


def test_cadena_limit_is_an_option(fuzz_check, cadena_baseline, tmp_path):
    path = write_pickle(fresh_dir(tmp_path) / "c.pkl", CADENA)
    n = sum(np.size(v) for k, v in CADENA.items() if k != "image_numbers")  # what the reader converts
    judge(fuzz_check, "cadena", lambda: read_cadena(path, max_elements=n - 1), path, REJECT)
    judge(fuzz_check, "cadena", lambda: read_cadena(path, max_elements=n), path, SAME, cadena_baseline)
    # a file bigger than any within the limit could be is refused before it is read
    with path.open("ab") as fh:  # sparse; the bytes after the pickle's end would be ignored
        fh.truncate(2**21)
    judge(fuzz_check, "cadena", lambda: read_cadena(path, max_elements=n), path, REJECT)
    judge(fuzz_check, "cadena", lambda: read_cadena(path), path, SAME, cadena_baseline)


# -------------------------------------------------------------------------------------------------- nnvision

NNVISION = nnvision_sessions()  # what nnvision_layout writes
FIRST_ID, SECOND_ID = NNVISION_SESSIONS
FIRST, SECOND = f"CSRF19_V1_{FIRST_ID}.pickle", f"CSRF19_V1_{SECOND_ID}.pickle"
IMAGE = "images/individual/000009.npy"  # a test image of both sessions


@pytest.fixture(scope="module")
def nnvision_template(tmp_path_factory):
    root = tmp_path_factory.mktemp("nnvision") / "nv"
    nnvision_layout(root)
    return root, read_nnvision(root)


def nnvision_copy(template: Path, tmp_path: Path) -> Path:
    root = fresh_dir(tmp_path) / "nv"
    shutil.copytree(template, root)
    return root


def _nnvision_variants(key: str, original: Any) -> list[Variant]:
    """Variants of one key of a session pickle."""
    arr = np.asarray(original)
    index = st.integers(0, arr.size - 1)
    if key in ("subject_id", "session_id"):
        variants: list[Variant] = [
            ("None", lambda d: None, REJECT),
            ("numpy int", lambda d: np.int64(original), SAME),
            ("one-element array", lambda d: np.array([original]), SAME),
            ("as text", lambda d: str(original), SAME),
            ("two values", lambda d: [original, original], REJECT),
            ("NaN", lambda d: float("nan"), REJECT),
            ("a bool", lambda d: True, REJECT),
            ("a newline", lambda d: "a\nb", REJECT),
            ("2**64", lambda d: 2**64, REJECT),
            ("a dict", lambda d: {"id": original}, REJECT),
        ]
        if key == "session_id":
            variants += [
                ("the other session's id", lambda d: int(SECOND_ID), REJECT),
                ("a name", lambda d: "s-x", VALID),
            ]
        return variants
    if key.endswith("responses"):
        return [
            ("as nested lists", lambda d: arr.tolist(), SAME),
            ("integer counts", lambda d: arr.astype(np.int16), SAME),
            ("nan", lambda d: with_entry(arr, d.draw(index), np.nan), VALID),
            ("inf", lambda d: with_entry(arr, d.draw(index), np.inf), REJECT),
            ("negative", lambda d: with_entry(arr, d.draw(index), -1.0), REJECT),
            ("complex", lambda d: arr.astype(np.complex64), REJECT),
            ("11 time bins", lambda d: arr[:, :11], REJECT),
            ("transposed", lambda d: arr.transpose(2, 1, 0), REJECT),
            ("2-D", lambda d: arr[:, 0], REJECT),
            ("memo bomb", lambda d: BOMB, REJECT),
        ]
    return [
        ("as a list", lambda d: arr.tolist(), SAME),
        ("whole floats", lambda d: arr.astype(np.float32), SAME),
        ("fractions", lambda d: arr + 0.25, REJECT),
        ("an id without image", lambda d: with_entry(arr, d.draw(index), 11), REJECT),
        ("2**63", lambda d: with_entry(arr, d.draw(index), 2**63, np.uint64), REJECT),
        ("bool", lambda d: arr > 4, REJECT),
        ("one id less", lambda d: arr[1:], REJECT),
        ("text", lambda d: arr.astype(str), REJECT),
    ]


NNVISION_KEYS = list(NNVISION[FIRST_ID])
NNVISION_CASES = [
    (key, name, expect)
    for key in NNVISION_KEYS
    for name, _, expect in _nnvision_variants(key, NNVISION[FIRST_ID][key])
]


@pytest.mark.parametrize(
    ("key", "name", "expect"), NNVISION_CASES, ids=[f"{k}-{n}" for k, n, _ in NNVISION_CASES]
)
@settings(max_examples=3)
@given(data=st.data(), protocol=st.sampled_from([2, 4, 5]))
def test_nnvision_session_values(fuzz_check, nnvision_template, tmp_path, key, name, expect, data, protocol):
    template, baseline = nnvision_template
    root = nnvision_copy(template, tmp_path)
    content = dict(NNVISION[FIRST_ID])
    content[key] = {n: make for n, make, _ in _nnvision_variants(key, content[key])}[name](data)
    path = write_pickle(root / "neuronal_data" / FIRST, content, protocol)
    # a repeated session id is reported on the second file, which names the first
    named = path.with_name(SECOND) if name == "the other session's id" else path
    judge(fuzz_check, "nnvision", lambda: read_nnvision(root), named, expect, baseline)


@pytest.mark.parametrize("key", [*NNVISION_KEYS, "unknown_key"])
@settings(max_examples=6)
@given(value=JUNK, delete=st.booleans())
def test_nnvision_wrong_types(fuzz_check, nnvision_template, tmp_path, key, value, delete):
    template, baseline = nnvision_template
    root = nnvision_copy(template, tmp_path)
    content = dict(NNVISION[FIRST_ID])
    if delete:
        content.pop(key, None)
        expect = VALID if key == "unknown_key" else REJECT
    else:
        content[key] = value
        if key == "unknown_key":
            expect = VALID
        elif key == "subject_id":
            expect = VALID if label_ok(value) else REJECT
        elif key == "session_id":  # the other session's id would be a repeated id
            expect = VALID if label_ok(value) and str(value) != SECOND_ID else REJECT
        else:
            expect = REJECT
    path = write_pickle(root / "neuronal_data" / FIRST, content)
    judge(fuzz_check, "nnvision", lambda: read_nnvision(root), path.parent, expect, baseline)


def _image_variants(file: Path, img: np.ndarray) -> dict[str, Callable[[Any], tuple[Any, str]]]:
    """New contents for one image file: an array to save or bytes to write, and the expectation."""
    return {
        "nan": lambda d: (with_entry(img, d.draw(st.integers(0, 41)), np.nan, np.float32), REJECT),
        "inf": lambda d: (np.full(img.shape, np.inf, np.float32), REJECT),
        "complex": lambda d: (img.astype(np.complex64), REJECT),
        "other shape": lambda d: (img[1:], REJECT),
        "3-D": lambda d: (img[None], REJECT),
        "rgb of one gray": lambda d: (np.repeat(img[..., None], 3, axis=2), SAME),
        "float": lambda d: (img.astype(np.float64), VALID),
        "bool": lambda d: (img > 100, REJECT),
        "huge header": lambda d: (npy_with_header((2**20, 2**20), "|u1", img.tobytes()), REJECT),
        "truncated": lambda d: (file.read_bytes()[: d.draw(st.integers(0, 169))], REJECT),
        "flipped byte": lambda d: (
            flip(file.read_bytes(), d.draw(st.integers(0, 169)), d.draw(st.integers(0, 255))),
            EITHER,
        ),
    }


IMAGE_CONTENTS = sorted(_image_variants(Path(), np.zeros((6, 7), np.uint8)))


@pytest.mark.parametrize("how", IMAGE_CONTENTS)
@settings(max_examples=4)
@given(data=st.data())
def test_nnvision_image_contents(fuzz_check, nnvision_template, tmp_path, how, data):
    template, baseline = nnvision_template
    root = nnvision_copy(template, tmp_path)
    file = root / IMAGE
    replacement, expect = _image_variants(file, np.load(file))[how](data)
    if isinstance(replacement, bytes):
        file.write_bytes(replacement)
    else:
        np.save(file, replacement)
    judge(fuzz_check, "nnvision", lambda: read_nnvision(root), file, expect, baseline)


# extra file name in images/individual -> (expectation, whether the error names that file or the folder)
IMAGE_NAMES = {
    "².npy": SAME,  # not an id in ASCII digits: ignored, like any other file
    "abc.npy": SAME,
    "9.txt": SAME,
    "000077.npy": VALID,  # an image no session uses
    "99999999999999999999.npy": REJECT,  # beyond int64
    "9.npy": REJECT,  # a second file for image 9
    "0000000000000000000009.npy": REJECT,
}


@pytest.mark.parametrize("extra", sorted(IMAGE_NAMES))
def test_nnvision_image_names(fuzz_check, nnvision_template, tmp_path, extra):
    template, baseline = nnvision_template
    root = nnvision_copy(template, tmp_path)
    shutil.copy(root / IMAGE, root / "images" / "individual" / extra)
    named = root / "images" / "individual"  # a duplicate is reported on whichever file comes second
    judge(fuzz_check, "nnvision", lambda: read_nnvision(root), named, IMAGE_NAMES[extra], baseline)


@pytest.mark.parametrize("how", SWAPS)
@pytest.mark.parametrize("name", [IMAGE, f"neuronal_data/{FIRST}"])
def test_nnvision_files_swapped(fuzz_check, nnvision_template, tmp_path, name, how):
    template, baseline = nnvision_template
    root = nnvision_copy(template, tmp_path)
    expect = swap(root / name, tmp_path, how)
    named = root / name
    if how == "missing":  # no file for image 9 breaks the sessions' ids; no session file, one session less
        named = root / "neuronal_data"
        expect = VALID if name.startswith("neuronal_data") else REJECT
    judge(fuzz_check, "nnvision", lambda: read_nnvision(root), named, expect, baseline)


def test_nnvision_limit_is_an_option(fuzz_check, nnvision_template, tmp_path):
    template, baseline = nnvision_template
    root = nnvision_copy(template, tmp_path)
    stacked = 10 * 6 * 7  # the images are read first, into one stack
    per_file = max(
        sum(np.size(v) for k, v in c.items() if k.endswith(("responses", "ids"))) for c in NNVISION.values()
    )
    named = root / "images" / "individual"
    judge(fuzz_check, "nnvision", lambda: read_nnvision(root, max_elements=stacked - 1), named, REJECT)
    enough = max(stacked, per_file)
    judge(fuzz_check, "nnvision", lambda: read_nnvision(root, max_elements=enough), root, SAME, baseline)


@settings(max_examples=30)
@given(truncate=st.booleans(), position=st.integers(0, 10**6), byte=st.integers(0, 255))
def test_nnvision_session_bytes(fuzz_check, nnvision_template, tmp_path, truncate, position, byte):
    root = nnvision_copy(nnvision_template[0], tmp_path)
    path = root / "neuronal_data" / FIRST
    raw = path.read_bytes()
    path.write_bytes(raw[: position % len(raw)] if truncate else flip(raw, position, byte))
    judge(fuzz_check, "nnvision", lambda: read_nnvision(root), path.parent, REJECT if truncate else EITHER)
