"""The NWB reader: small files written with pynwb itself, a valid one and malformed ones."""

from __future__ import annotations

import datetime
import json
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import pytest

pytest.importorskip("pynwb")

from pynwb import NWBHDF5IO, NWBFile  # noqa: E402
from pynwb.base import ImageReferences, Images  # noqa: E402
from pynwb.file import Subject  # noqa: E402
from pynwb.image import GrayscaleImage, RGBImage  # noqa: E402

from v1mtl.common.errors import InputError  # noqa: E402
from v1mtl.data.neural.inspect import inspect_neural  # noqa: E402
from v1mtl.data.neural.io import detect_v1_format, read_v1  # noqa: E402
from v1mtl.data.neural.nwb import NwbOptions, read_nwb  # noqa: E402

N_IMAGES = 4
# image shown per trial: 0 and 3 once (training), 1 three times and 2 twice (repeated test set)
SHOWN = [0, 1, 2, 1, 3, 2, 1]
ONSETS = [1.0 * t for t in range(len(SHOWN))]
# spikes of unit 0: at the window's edges and inside; window [0.04, 0.14) after each onset
UNIT0 = [0.039, 0.04, 0.1, 0.139, 1.05, 2.14, 3.06, 3.07, 3.08, 6.13999]
UNIT1 = [0.5, 4.1, 4.12, 5.041]
# expected counts per trial (unit 0, unit 1): 0.039 and 2.14 fall outside [onset+0.04, onset+0.14)
EXPECTED = np.array([[3, 0], [1, 0], [0, 0], [3, 0], [0, 2], [0, 1], [1, 0]], dtype=np.float32)


def _image(i: int, name: str | None = None) -> GrayscaleImage:
    return GrayscaleImage(name=name or f"img{i}", data=np.full((6, 5), 10 * i, dtype=np.uint8))


def write_nwb(path: Path, **change: Any) -> Path:
    """A valid NWB file; each keyword changes one part of it (None drops the part)."""
    nwb = NWBFile(
        session_description="test",
        identifier="nwb-test",
        session_start_time=datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC),
        session_id="s1",
        subject=Subject(subject_id="m1"),
    )
    images = change.get("images", [_image(i) for i in range(N_IMAGES)])
    if images is not None:
        order = ImageReferences(name="order_of_images", data=images) if change.get("order", True) else None
        nwb.add_stimulus_template(Images(name="stimuli", images=images, order_of_images=order))
    if change.get("trials", True):
        column = change.get("column", "image_id")
        nwb.add_trial_column(column, "index of the image shown")
        for onset, image in zip(ONSETS, change.get("shown", SHOWN), strict=True):
            nwb.add_trial(start_time=onset, stop_time=onset + 0.5, **{column: image})
    for spikes in change.get("units", [UNIT0, UNIT1]):
        nwb.add_unit(spike_times=spikes)
    with NWBHDF5IO(str(path), "w") as io:
        io.write(nwb)
    return path


@pytest.fixture
def nwb_file(tmp_path: Path) -> Path:
    return write_nwb(tmp_path / "rec.nwb")


def test_counts_match_the_spikes_placed(nwb_file: Path) -> None:
    ds = read_nwb(nwb_file)
    s = ds.sessions[0]
    assert (s.session_id, s.subject_id) == ("s1", "m1")
    assert ds.images.shape == (N_IMAGES, 6, 5) and ds.images.dtype == np.uint8
    np.testing.assert_array_equal(ds.images[:, 0, 0], [0, 10, 20, 30])
    np.testing.assert_array_equal(ds.image_ids, np.arange(N_IMAGES))
    np.testing.assert_array_equal(s.train_image_ids, [0, 3])
    np.testing.assert_array_equal(s.train_responses, EXPECTED[[0, 4]])
    np.testing.assert_array_equal(s.test_image_ids, [1, 2])  # first-seen order
    assert s.test_responses.shape == (2, 3, 2)
    np.testing.assert_array_equal(s.test_responses[0], EXPECTED[[1, 3, 6]])
    np.testing.assert_array_equal(s.test_responses[1, :2], EXPECTED[[2, 5]])
    assert np.isnan(s.test_responses[1, 2]).all()  # image 2 was shown twice: third repeat is NaN
    assert ds.metadata["window_s"] == [0.04, 0.14]


def test_window_and_column_options(tmp_path: Path) -> None:
    path = write_nwb(tmp_path / "rec.nwb", column="frame")
    ds = read_nwb(path, options=NwbOptions(image_column="frame", window=(0.0, 0.5)))
    # unit 1's spike at 0.5 s is the window's end, which is excluded
    np.testing.assert_array_equal(ds.sessions[0].train_responses, [[4, 0], [0, 2]])


def test_images_named_by_index_without_order(tmp_path: Path) -> None:
    images = [_image(i, name=str(i)) for i in (2, 0, 3, 1)]
    ds = read_nwb(write_nwb(tmp_path / "rec.nwb", images=images, order=False))
    np.testing.assert_array_equal(ds.images[:, 0, 0], [0, 10, 20, 30])


def test_rgb_images_become_gray(tmp_path: Path) -> None:
    rgb = [RGBImage(name=f"img{i}", data=np.full((6, 5, 3), 10 * i, dtype=np.uint8)) for i in range(N_IMAGES)]
    ds = read_nwb(write_nwb(tmp_path / "rec.nwb", images=rgb))
    assert ds.images.shape == (N_IMAGES, 6, 5)
    np.testing.assert_array_equal(ds.images[:, 0, 0], [0, 10, 20, 30])


def test_dispatch_and_inspect(nwb_file: Path) -> None:
    assert detect_v1_format(nwb_file) == "nwb"
    assert read_v1(nwb_file).sessions[0].n_neurons == 2
    summary = inspect_neural(nwb_file, None)
    assert summary["format"] == "nwb"
    assert summary["sessions"][0]["n_train_trials"] == 2 and summary["sessions"][0]["n_repeats"] == 3


def _one_line_error(call: Any, file: Path, field: str) -> str:
    with pytest.raises(InputError) as err:
        call()
    message = str(err.value)
    assert "\n" not in message and str(file) in message and f"field '{field}'" in message, message
    return message


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"trials": False}, "intervals/trials"),
        ({"column": "frame"}, "intervals/trials.image_id"),
        ({"units": []}, "units"),
        ({"units": [UNIT0, []]}, "units.spike_times"),
        ({"shown": [0, 1, 2, 1, 4, 2, 1]}, "intervals/trials.image_id"),
        ({"shown": [0, 1, 2, 1, -1, 2, 1]}, "intervals/trials.image_id"),
        ({"shown": [1, 1, 2, 1, 2, 2, 1]}, "intervals/trials.image_id"),
        ({"images": None}, "stimulus_template"),
        ({"images": [_image(i, name=f"x{i}") for i in range(N_IMAGES)], "order": False},
         "stimulus_template/stimuli/order_of_images"),
    ],
    ids=[
        "no-trials", "no-image-column", "no-units", "unit-without-spikes", "index-too-large",
        "index-negative", "no-training-trials", "no-images", "images-unordered",
    ],
)  # fmt: skip
def test_malformed_file_is_one_line_naming_the_field(tmp_path: Path, change: dict, field: str) -> None:
    path = write_nwb(tmp_path / "bad.nwb", **change)
    _one_line_error(lambda: read_v1(path), path, field)


@pytest.mark.parametrize("window", [(0.1, 0.1), (-0.01, 0.1), (0.0, float("nan")), (0.1,), "0.1", (True, 1)])
def test_invalid_window(nwb_file: Path, window: Any) -> None:
    _one_line_error(lambda: read_nwb(nwb_file, options=NwbOptions(window=window)), nwb_file, "window")


def test_not_hdf5_and_truncated(tmp_path: Path, nwb_file: Path) -> None:
    text = tmp_path / "text.nwb"
    text.write_text("hello")
    _one_line_error(lambda: read_v1(text), text, "file")
    cut = tmp_path / "cut.nwb"
    cut.write_bytes(nwb_file.read_bytes()[:2000])
    _one_line_error(lambda: read_v1(cut), cut, "file")


def test_external_link_refused(nwb_file: Path, tmp_path: Path) -> None:
    with h5py.File(nwb_file, "a") as f:
        f["acquisition/elsewhere"] = h5py.ExternalLink(str(tmp_path / "other.h5"), "/")
    _one_line_error(lambda: read_v1(nwb_file), nwb_file, "acquisition/elsewhere")


def test_size_limit(nwb_file: Path) -> None:
    message = _one_line_error(
        lambda: read_nwb(nwb_file, max_elements=50), nwb_file, "stimulus_template/stimuli/img1"
    )
    assert "over the limit of 50" in message


def test_cli_inspect_with_options(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from v1mtl.cli import main

    path = write_nwb(tmp_path / "rec.nwb", column="frame")
    args = ["data", "inspect", str(path), "--nwb-image-column", "frame", "--nwb-window", "0", "0.5"]
    assert main(args) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["format"] == "nwb" and summary["n_images"] == N_IMAGES
    assert main(["data", "inspect", str(path)]) == 2  # the default column image_id is missing
    assert "field 'intervals/trials.image_id'" in capsys.readouterr().err


@pytest.mark.fuzz
def test_fuzz_corrupted_bytes(fuzz_check: Any, tmp_path: Path) -> None:
    """Flipped bytes and truncations of a valid file: a valid dataset or one line naming the file."""
    from hypothesis import given, settings
    from hypothesis import strategies as st
    from neural_fixtures import assert_valid

    raw = write_nwb(tmp_path / "template.nwb").read_bytes()

    @settings(max_examples=80)
    @given(truncate=st.booleans(), position=st.integers(0, 10**6), byte=st.integers(1, 255))
    def case(truncate: bool, position: int, byte: int) -> None:
        mutated = bytearray(raw)
        if truncate:
            mutated = mutated[: position % len(raw)]
        else:
            mutated[position % len(raw)] ^= byte
        path = tmp_path / "case.nwb"
        path.write_bytes(bytes(mutated))
        outcome, value = fuzz_check("nwb", lambda: read_v1(path), path)
        if truncate:
            assert outcome == "input_error", "accepted a truncated file"
        if outcome == "accepted":
            assert_valid(value)

    case()
