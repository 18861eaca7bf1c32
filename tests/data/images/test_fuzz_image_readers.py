"""Fuzzing the classification-image readers (issue 16): seeded hypothesis mutations of small valid datasets.

Each case copies a valid fixture (TinyImageNet, an image folder, Tiny-ImageNet-C, one image file), applies
one generated mutation and hands the read to ``fuzz_check``: the only allowed outcomes are a valid result
or an ``InputError`` whose message is one line naming the broken file. Every mutation states what it must
give: ``REJECT`` (the reader must refuse it: "0 silent garbage"), ``ACCEPT`` (harmless: the result must be
valid and complete), or ``EITHER`` (say a flipped byte in compressed pixels, which no reader can tell from
a different picture: an accepted result must still be valid).
"""

from __future__ import annotations

import io
import itertools
import os
import shutil
import struct
import zlib
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from image_fixtures import WNIDS, make_image_folder, make_tinyimagenet, make_tinyimagenet_c
from PIL import Image

from v1mtl.data.images import TinyImageNetC, limits, load_classification
from v1mtl.data.images.decode import decode_image

pytestmark = pytest.mark.fuzz

SIZE = 16  # fixture images and the decoded size: small, so a case costs milliseconds
REJECT, ACCEPT, EITHER = "reject", "accept", "either"
_case = itertools.count()


def fresh_copy(template: Path, tmp_path: Path) -> Path:
    """A private copy of ``template`` for one case (hypothesis reuses ``tmp_path`` across cases)."""
    root = tmp_path / f"case{next(_case)}"
    shutil.copytree(template, root / "data", symlinks=True)
    return root / "data"


def check_outcome(outcome: str, value, expect: str, valid: Callable[[object], None]) -> None:
    if expect == REJECT:
        assert outcome == "input_error", f"silently accepted: {value!r}"
    if expect == ACCEPT:
        assert outcome == "accepted", value
    if outcome == "accepted":
        valid(value)


def bad_byte_name(folder: Path, stem: bytes) -> Path:
    """A path in ``folder`` whose name holds ``stem``, which may be bytes that are not UTF-8."""
    return Path(os.fsdecode(os.fsencode(folder) + b"/" + stem))


# ---------------------------------------------------------------------------------------------------------
# image bytes


def image_bytes(fmt: str, side: int = SIZE) -> bytes:
    """A gradient RGB image (so that lost or shifted rows change the pixels) encoded as ``fmt``."""
    ramp = (np.add.outer(np.arange(side), np.arange(side)) * (255 // (2 * side))).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(np.stack([ramp, ramp[::-1], ramp.T], -1)).save(buf, format=fmt, quality=95)
    return buf.getvalue()


def png_chunks(data: bytes) -> list[tuple[bytes, int, int]]:
    """``(type, data start, data end)`` of each chunk."""
    out, i = [], 8
    while i + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[i : i + 8])
        out.append((kind, i + 8, i + 8 + length))
        i += 12 + length
    return out


def with_png_size(data: bytes, width: int, height: int) -> bytes:
    """``data`` with the IHDR width and height replaced and its CRC fixed (so only the size is wrong)."""
    out = bytearray(data)
    out[16:24] = struct.pack(">II", width, height)
    out[29:33] = struct.pack(">I", zlib.crc32(bytes(out[12:29])))
    return bytes(out)


def with_jpeg_size(data: bytes, width: int, height: int) -> bytes:
    i = data.index(b"\xff\xc0")
    return data[: i + 5] + struct.pack(">HH", height, width) + data[i + 9 :]


def pixels_end(data: bytes, fmt: str) -> int:
    """The length a cut file needs to keep every pixel: PNG up to its deflate stream's 4-byte checksum
    (after that only checksums and the end chunk are lost), JPEG all of it (its end marker)."""
    if fmt == "PNG":
        return max(end for kind, _, end in png_chunks(data) if kind == b"IDAT") - 4
    return len(data)


@st.composite
def image_mutations(draw, fmt: str, side: int = SIZE) -> tuple[str, bytes, str]:
    """``(description, mutated bytes, expectation)`` of an encoded ``side`` px image."""
    data = image_bytes(fmt, side)
    kind = draw(st.sampled_from(["truncate", "flip", "junk", "resize", "other-format"]))
    if kind == "truncate":
        cut = draw(st.integers(0, len(data) - 1))
        return f"cut at {cut}", data[:cut], REJECT if cut < pixels_end(data, fmt) else EITHER
    if kind == "flip":
        flips = draw(
            st.lists(st.tuples(st.integers(0, len(data) - 1), st.integers(1, 255)), min_size=1, max_size=3)
        )
        out = bytearray(data)
        for pos, xor in flips:
            out[pos] ^= xor
        return f"flips {flips}", bytes(out), EITHER
    if kind == "junk":
        junk = draw(st.binary(max_size=64))
        return f"junk {junk!r}", junk, REJECT
    if kind == "resize":
        width = draw(st.integers(1, 20000))
        height = draw(st.integers(1, 20000))
        if (width, height) == (side, side):
            width += 1
        resized = with_png_size(data, width, height) if fmt == "PNG" else with_jpeg_size(data, width, height)
        # A PNG's inflated data must match its header exactly. A JPEG's data bounds its size from below only:
        # a small enlargement or a shrink decodes as filled-in or garbled blocks that no reader can tell
        # from a real picture, but a thousandfold one cannot fit.
        smaller = min(width, height) < SIZE
        huge = max(width, height) > limits.MAX_IMAGE_SIDE or width * height >= 1000 * side * side
        expect = REJECT if fmt == "PNG" or smaller or huge else EITHER
        return f"declares {width}x{height}", resized, expect
    other = "PNG" if fmt == "JPEG" else "JPEG"
    return f"{other} bytes", image_bytes(other, side), ACCEPT  # PIL reads the content, not the extension


def valid_image(value) -> None:
    assert isinstance(value, np.ndarray) and value.dtype == np.uint8 and value.shape == (SIZE, SIZE)


@given(fmt=st.sampled_from(["PNG", "JPEG"]), data=st.data())
@settings(max_examples=140)
def test_fuzz_image_file(fmt, data, tmp_path, fuzz_check):
    # 24 px sources decoded at 16 px, so a declared size just below or above the real one is in play
    what, content, expect = data.draw(image_mutations(fmt, side=24))
    path = tmp_path / f"case{next(_case)}.{fmt.lower()}"
    path.write_bytes(content)
    outcome, value = fuzz_check("image-file", lambda: decode_image(path, SIZE), path)
    check_outcome(outcome, value, expect, valid_image)


# ---------------------------------------------------------------------------------------------------------
# TinyImageNet


@pytest.fixture(scope="module")
def tin_template(tmp_path_factory):
    return make_tinyimagenet(tmp_path_factory.mktemp("tin") / "tin", n_train=2, n_val=1, size=SIZE)


TIN_COUNTS = {"images": 3 * 2 + 3 * 1, "test": 3}


def load_tin(root: Path):
    return load_classification(root, size=SIZE, cache_dir=root.parent / "cache")


def valid_tin(
    n_images: int = TIN_COUNTS["images"], n_test: int = TIN_COUNTS["test"], fewer_ok: bool = False
) -> Callable:
    """A check of a loaded TinyImageNet: ``n_images`` in all, ``n_test`` of them test images (with
    ``fewer_ok``: at least one and at most that many test images, the training images all there)."""

    def check(data) -> None:
        splits = (data.train, data.val, data.test)
        n_train = n_images - n_test
        if fewer_ok:
            assert len(data.train) + len(data.val) == n_train and 1 <= len(data.test) <= n_test
        else:
            assert sum(len(s) for s in splits) == n_images and len(data.test) == n_test
        for s in splits:
            assert s.images.dtype == np.uint8 and s.images.shape[1:] == (SIZE, SIZE)
            assert set(np.asarray(s.labels).tolist()) <= set(range(data.n_classes))
        assert data.class_ids == sorted(WNIDS) and all(n.isprintable() and n for n in data.class_names)

    return check


def _lines(path: Path) -> list[str]:
    return path.read_text().splitlines()


@st.composite
def tin_text_mutations(draw, root: Path) -> tuple[Path, bytes, str, Callable]:
    """``(file, new content, expectation, validity check)`` of one of TinyImageNet's three text files."""
    name = draw(st.sampled_from(["wnids.txt", "words.txt", "val/val_annotations.txt"]))
    path = root / name
    raw = path.read_bytes()
    lines = _lines(path)
    kind = draw(
        st.sampled_from(
            [
                "bad-byte",
                "empty",
                "delete-line",
                "duplicate-line",
                "crlf",
                "bom",
                "blank-lines",
                "reorder",
                "truncate",
            ]
            + {
                "wnids.txt": ["control-char", "traversal"],
                "words.txt": ["control-char", "empty-name", "junk-line"],
            }.get(
                name, ["traversal", "absolute", "unknown-class", "missing-file", "one-field", "extra-fields"]
            )
        )
    )
    i = draw(st.integers(0, len(lines) - 1))
    if kind == "bad-byte":
        pos = draw(st.integers(0, len(raw)))
        return path, raw[:pos] + bytes([draw(st.integers(0x80, 0xFF))]) + raw[pos:], REJECT, valid_tin()
    if kind == "empty":
        return path, b"", REJECT, valid_tin()
    if kind == "truncate":
        cut = draw(st.integers(0, len(raw)))
        # cutting only the final newline changes nothing; any other cut loses part of a line
        return path, raw[:cut], ACCEPT if cut >= len(raw) - 1 else EITHER, valid_tin(fewer_ok=True)
    if kind in ("crlf", "bom", "blank-lines", "reorder"):
        new = {
            "crlf": "\r\n".join(lines) + "\r\n",
            "bom": "\ufeff" + "\n".join(lines),
            "blank-lines": "\n\n"
            + "\n  \n".join(f"  {line}  " if name == "wnids.txt" else line for line in lines)
            + "\n\n",
            "reorder": "\n".join(draw(st.permutations(lines))),
        }[kind]
        return path, new.encode(), ACCEPT, valid_tin()
    if kind == "delete-line":
        new = "\n".join(lines[:i] + lines[i + 1 :])
        if name == "words.txt":
            used = lines[i].split("\t")[0] in WNIDS
            return path, new.encode(), REJECT if used else ACCEPT, valid_tin()
        if name == "wnids.txt":
            return path, new.encode(), REJECT, valid_tin()  # its val images now have an unknown class
        return path, new.encode(), ACCEPT, valid_tin(TIN_COUNTS["images"] - 1, TIN_COUNTS["test"] - 1)
    if kind == "duplicate-line":
        new = "\n".join(lines[: i + 1] + lines[i:])
        return path, new.encode(), ACCEPT if name == "words.txt" else REJECT, valid_tin()
    if kind == "control-char":
        # inside a wnid, or inside the first synonym of words.txt (the class name)
        target = lines[i] if name == "wnids.txt" else lines[i].split("\t")[1].split(",")[0]
        ch = draw(
            st.sampled_from(
                ["\x00", "\x07", "\x1b", "\x7f"] + (["\n", "\t", " "] if name == "wnids.txt" else [])
            )
        )
        at = draw(st.integers(1, len(target) - 1))
        lines[i] = lines[i].replace(target, target[:at] + ch + target[at:], 1)
        used = name == "wnids.txt" or lines[i].split("\t")[0] in WNIDS
        return path, "\n".join(lines).encode(), REJECT if used else ACCEPT, valid_tin()
    if kind == "empty-name":
        wnid = lines[i].split("\t")[0]
        lines[i] = f"{wnid}\t" + draw(st.sampled_from(["", " ", ", synonym"]))
        return path, "\n".join(lines).encode(), REJECT if wnid in WNIDS else ACCEPT, valid_tin()
    if kind == "junk-line":
        lines.insert(i, draw(st.sampled_from(["hello", "", "\tno id", "n0\t"])))
        return path, "\n".join(lines).encode(), ACCEPT, valid_tin()
    fields = lines[i].split("\t")
    if kind == "traversal" and name == "wnids.txt":
        lines[i] = draw(
            st.sampled_from(["..", ".", f"../{lines[i]}", f"/tmp/{lines[i]}", f"{lines[i]}/images"])
        )
        return path, "\n".join(lines).encode(), REJECT, valid_tin()
    if kind == "traversal":  # a training image smuggled into the test set
        wnid = draw(st.sampled_from(WNIDS))
        fields[0] = draw(
            st.sampled_from([f"../../train/{wnid}/images/{wnid}_0.JPEG", f"../images/{fields[0]}"])
        )
    if kind == "absolute":
        fields[0] = str(root / "val" / "images" / fields[0])
    if kind == "unknown-class":
        fields[1] = draw(st.sampled_from(["n09999999", "", "n0300000", WNIDS[0] + "x"]))
    if kind == "missing-file":
        fields[0] = draw(st.sampled_from(["nope.JPEG", "val_0.txt", "", "images"]))
    if kind == "one-field":
        fields = fields[:1]
    if kind == "extra-fields":
        lines[i] = "\t".join(fields + ["extra", "more"])
        return path, "\n".join(lines).encode(), ACCEPT, valid_tin()
    lines[i] = "\t".join(fields)
    return path, "\n".join(lines).encode(), REJECT, valid_tin()


@given(data=st.data())
@settings(max_examples=70)
def test_fuzz_tinyimagenet_text_files(data, tin_template, tmp_path, fuzz_check):
    root = fresh_copy(tin_template, tmp_path)
    path, content, expect, valid = data.draw(tin_text_mutations(root))
    path.write_bytes(content)
    outcome, value = fuzz_check("tinyimagenet", lambda: load_tin(root), path)
    check_outcome(outcome, value, expect, valid)


def tin_images(root: Path) -> list[Path]:
    return sorted(root.rglob("*.JPEG"))


@given(data=st.data())
@settings(max_examples=40)
def test_fuzz_tinyimagenet_images(data, tin_template, tmp_path, fuzz_check):
    root = fresh_copy(tin_template, tmp_path)
    path = data.draw(st.sampled_from(tin_images(root)))
    _, content, expect = data.draw(image_mutations("JPEG"))
    path.write_bytes(content)
    outcome, value = fuzz_check("tinyimagenet", lambda: load_tin(root), path)
    check_outcome(outcome, value, expect, valid_tin())


@given(
    kind=st.sampled_from(
        [
            "val-link-to-train",
            "link-outside",
            "link-to-other-class",
            "bad-byte-name",
            "newline-name",
            "class-folder-link",
            "missing-class-folder",
            "empty-class-folder",
            "stray-file",
            "nested-image",
            "hidden-file",
        ]
    ),
    pick=st.integers(0, 2),
)
@settings(max_examples=40)
def test_fuzz_tinyimagenet_layout(kind, pick, tin_template, tmp_path, fuzz_check):
    root = fresh_copy(tin_template, tmp_path)
    wnid, other = WNIDS[pick], WNIDS[(pick + 1) % 3]
    images = root / "train" / wnid / "images"
    first = images / f"{wnid}_0.JPEG"
    expect, broken, valid = REJECT, first, valid_tin()
    if kind == "val-link-to-train":  # the training image is then listed twice: in train and in test
        link = root / "val" / "images" / f"val_{pick}.JPEG"
        link.unlink()
        link.symlink_to(first)
    elif kind == "link-outside":
        outside = root.parent / "outside.JPEG"
        shutil.copy(first, outside)
        first.unlink()
        first.symlink_to(outside)
    elif kind == "link-to-other-class":
        broken = root / "train" / other / "images" / f"{other}_0.JPEG"  # the file then listed twice
        first.unlink()
        first.symlink_to(broken)
    elif kind in ("bad-byte-name", "newline-name"):
        stem = b"x\xff.JPEG" if kind == "bad-byte-name" else b"x\ny.JPEG"
        shutil.copy(first, bad_byte_name(images, stem))
        broken = images
    elif kind == "class-folder-link":
        shutil.rmtree(images)
        images.symlink_to(root / "train" / other / "images")
        broken = root / "train" / other / "images" / f"{other}_0.JPEG"  # the first file then listed twice
    elif kind == "missing-class-folder":
        shutil.rmtree(images)
        broken = images
    elif kind == "empty-class-folder":
        for f in images.iterdir():
            f.unlink()
        broken = images
    elif kind == "stray-file":
        (images / "notes.txt").write_text("not an image")
        expect = ACCEPT
    elif kind == "hidden-file":
        (images / ".DS_Store").write_bytes(b"\0\1junk")
        expect = ACCEPT
    elif kind == "nested-image":
        (images / "more").mkdir()
        shutil.copy(first, images / "more" / "extra.JPEG")
        expect, valid = ACCEPT, valid_tin(TIN_COUNTS["images"] + 1)
    outcome, value = fuzz_check("tinyimagenet", lambda: load_tin(root), broken)
    check_outcome(outcome, value, expect, valid)


# ---------------------------------------------------------------------------------------------------------
# image folders


@pytest.fixture(scope="module")
def folder_template(tmp_path_factory):
    root = tmp_path_factory.mktemp("folder") / "f"
    # 4 images per class: 12 training images, so that a 10% validation split (1 image) can be carved out
    return make_image_folder(root, n=4, splits=("train", "test"), size=SIZE)


FOLDER_CLASSES = ["cat", "dog", "emu"]


def load_folder(root: Path):
    return load_classification(root, size=SIZE, cache_dir=root.parent / "cache")


def valid_folder(n_images: int = 24) -> Callable:
    def check(data) -> None:
        splits = (data.train, data.val, data.test)
        assert sum(len(s) for s in splits) == n_images
        for s in splits:
            assert s.images.dtype == np.uint8 and s.images.shape[1:] == (SIZE, SIZE)
            assert set(np.asarray(s.labels).tolist()) <= set(range(3))
        assert data.class_names == FOLDER_CLASSES

    return check


@given(
    kind=st.sampled_from(
        [
            "bad-byte-class",
            "control-class",
            "unknown-test-class",
            "empty-class",
            "test-link-to-train",
            "image-link-outside",
            "image-link-in-dataset",
            "bad-byte-image",
            "hidden-folder",
            "stray-file",
            "upper-case-extension",
            "nested-image",
        ]
    ),
    split=st.sampled_from(["train", "test"]),
    pick=st.integers(0, 2),
    ch=st.sampled_from(["\n", "\t", "\x1b", "\x7f", "\r"]),
)
@settings(max_examples=50)
def test_fuzz_image_folder_layout(kind, split, pick, ch, folder_template, tmp_path, fuzz_check):
    root = fresh_copy(folder_template, tmp_path)
    cls = FOLDER_CLASSES[pick]
    folder = root / split / cls
    image = folder / "0.png"
    expect, broken, valid = REJECT, image, valid_folder()
    if kind in ("bad-byte-class", "control-class"):
        stem = b"c\xffat" if kind == "bad-byte-class" else f"c{ch}at".encode()
        folder.rename(bad_byte_name(root / split, stem))
        broken = root / split
    elif kind == "unknown-test-class":
        (root / "test" / cls).rename(root / "test" / "yak")
        broken = root / "test" / "yak"
    elif kind == "empty-class":
        broken = root / split / "fox"
        broken.mkdir()
    elif kind == "test-link-to-train":
        shutil.rmtree(root / "test" / cls)
        (root / "test" / cls).symlink_to(root / "train" / cls)
        broken = root / "train" / cls / "0.png"  # the first file listed twice
    elif kind == "image-link-outside":
        outside = root.parent / "outside.png"
        shutil.copy(image, outside)
        image.unlink()
        image.symlink_to(outside)
    elif kind == "image-link-in-dataset":
        image.unlink()
        image.symlink_to(root / split / cls / "1.png")
        broken = root / split / cls / "1.png"
    elif kind == "bad-byte-image":
        shutil.copy(image, bad_byte_name(folder, b"\xfe.png"))
        broken = folder
    elif kind == "hidden-folder":
        shutil.copytree(folder, root / split / ".thumbnails")
        expect = ACCEPT
    elif kind == "stray-file":
        (folder / "notes.txt").write_text("not an image")
        expect = ACCEPT
    elif kind == "upper-case-extension":
        image.rename(folder / "0.PNG")
        expect = ACCEPT
    elif kind == "nested-image":
        (folder / "sub").mkdir()
        shutil.copy(image, folder / "sub" / "extra.png")
        expect, valid = ACCEPT, valid_folder(25)
    outcome, value = fuzz_check("imagefolder", lambda: load_folder(root), broken)
    check_outcome(outcome, value, expect, valid)


@given(data=st.data())
@settings(max_examples=40)
def test_fuzz_image_folder_images(data, folder_template, tmp_path, fuzz_check):
    root = fresh_copy(folder_template, tmp_path)
    path = data.draw(st.sampled_from(sorted(root.rglob("*.png"))))
    _, content, expect = data.draw(image_mutations("PNG"))
    path.write_bytes(content)
    outcome, value = fuzz_check("imagefolder", lambda: load_folder(root), path)
    check_outcome(outcome, value, expect, valid_folder())


# ---------------------------------------------------------------------------------------------------------
# Tiny-ImageNet-C


@pytest.fixture(scope="module")
def tinc_template(tmp_path_factory):
    root = tmp_path_factory.mktemp("tinc") / "c"
    return make_tinyimagenet_c(root, corruptions=("fog", "snow"), severities=(1, 2), n=1, size=SIZE)


def load_tinc(root: Path) -> dict:
    sets = TinyImageNetC(root, sorted(WNIDS), size=SIZE, cache_dir=root.parent / "cache")
    return {key: sets[key] for key in sets}


def valid_tinc(n_sets: int = 4) -> Callable:
    def check(sets) -> None:
        assert len(sets) == n_sets
        for (_, severity), split in sets.items():
            assert 1 <= severity <= 5
            assert split.images.shape == (3, SIZE, SIZE) and split.images.dtype == np.uint8
            assert sorted(np.asarray(split.labels).tolist()) == [0, 1, 2]

    return check


SEVERITY_NAMES = st.one_of(
    st.sampled_from(
        ["0", "6", "99", "²", "٣", "01", " 1", "1 ", "x", "-1", "1.0", "10", "3", "4", "5", ".5"]
    ),
    st.text(min_size=1, max_size=4).filter(
        lambda s: "/" not in s and "\x00" not in s and s not in (".", "..")
    ),
)


@given(corruption=st.sampled_from(["fog", "snow"]), severity=st.sampled_from(["1", "2"]), name=SEVERITY_NAMES)
@settings(max_examples=40)
def test_fuzz_tinyimagenet_c_severity_folders(
    corruption, severity, name, tinc_template, tmp_path, fuzz_check
):
    root = fresh_copy(tinc_template, tmp_path)
    if name in ("1", "2"):
        name = "3"  # a rename onto an existing severity is not a mutation
    (root / corruption / severity).rename(root / corruption / name)
    if name.startswith("."):
        expect, valid = ACCEPT, valid_tinc(3)  # hidden: not a set
    elif name in ("3", "4", "5"):
        expect, valid = ACCEPT, valid_tinc()
    else:
        expect, valid = REJECT, valid_tinc()
    outcome, value = fuzz_check("tinyimagenet-c", lambda: load_tinc(root), root / corruption)
    check_outcome(outcome, value, expect, valid)


@given(
    kind=st.sampled_from(
        ["unknown-class", "bad-byte-class", "bad-byte-corruption", "empty-class", "stray-file", "image"]
    ),
    data=st.data(),
)
@settings(max_examples=40)
def test_fuzz_tinyimagenet_c_sets(kind, data, tinc_template, tmp_path, fuzz_check):
    root = fresh_copy(tinc_template, tmp_path)
    folder = root / data.draw(st.sampled_from(["fog", "snow"])) / data.draw(st.sampled_from(["1", "2"]))
    wnid = data.draw(st.sampled_from(WNIDS))
    expect, broken = REJECT, folder / wnid
    if kind == "unknown-class":
        (folder / wnid).rename(folder / "n05555555")
        broken = folder / "n05555555"
    elif kind == "bad-byte-class":
        (folder / wnid).rename(bad_byte_name(folder, b"n0\xff"))
        broken = folder
    elif kind == "bad-byte-corruption":
        folder.parent.rename(bad_byte_name(root, b"f\xc3og"))
        broken = root
    elif kind == "empty-class":
        for f in (folder / wnid).iterdir():
            f.unlink()
    elif kind == "stray-file":
        (root / "README.txt").write_text("corruptions")
        (folder.parent / "notes.txt").write_text("severities")
        expect = ACCEPT
    elif kind == "image":
        broken = next((folder / wnid).iterdir())
        _, content, expect = data.draw(image_mutations("JPEG"))
        broken.write_bytes(content)
    outcome, value = fuzz_check("tinyimagenet-c", lambda: load_tinc(root), broken)
    check_outcome(outcome, value, expect, valid_tinc())
