"""V1 recordings stored as NWB (Neurodata Without Borders, the format of DANDI archives), read with ``pynwb``.

One ``.nwb`` file is one session. The layout read (docs/neural-data.md, "NWB"):

- ``units``: the units table with a ``spike_times`` column (seconds); every unit is one neuron;
- ``intervals/<table>`` (default ``trials``): one row per stimulus presentation with ``start_time``
  (the onset, seconds) and ``stop_time``, and a column (default ``image_id``) holding the index of the
  image shown;
- ``stimulus/templates/<images>``: an ``Images`` container of ``GrayscaleImage`` / ``RGBImage`` /
  ``RGBAImage``; image index k is the k-th entry of its ``order_of_images``, or, without one, the image
  whose name is the number k.

A trial's response is each unit's spike count in ``[onset + window[0], onset + window[1])``. Images shown
once are training trials; images shown more than once form the repeated test set (test images x repeats,
NaN-padded where an image has fewer repeats), as ``nnvision`` groups its test trials.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import numpy as np

from v1mtl.common.errors import InputError
from v1mtl.common.ranges import Range
from v1mtl.data.images.gray import rgb_to_gray_np
from v1mtl.data.neural.limits import MAX_ARRAY_ELEMENTS, ElementBudget, one_line, shown
from v1mtl.data.neural.recordings import Session, V1Dataset, check_label

SUFFIX = ".nwb"
DEFAULT_TABLE = "trials"
DEFAULT_IMAGE_COLUMN = "image_id"
DEFAULT_WINDOW = (0.040, 0.140)
"""Seconds after onset whose spikes are counted: a default to override, not a value taken from a dataset."""
# seconds after onset a window may reach: V1 answers within a few hundred ms, a minute is already no response
WindowSeconds = Annotated[float, Range(0, 60)]

_HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"


@dataclass(frozen=True)
class NwbOptions:
    """Where the stimulus table, its image column and the images are, and which spikes count.

    Attributes:
        table: name of the intervals table of presentations (``trials`` is the NWB trials table).
        image_column: the table's column holding each presentation's image index.
        images: name of the ``Images`` container in the stimulus templates; None takes the only one.
        window: ``(start, stop)`` seconds after onset, ``0 <= start < stop``; spikes in ``[start, stop)``.
    """

    table: str = DEFAULT_TABLE
    image_column: str = DEFAULT_IMAGE_COLUMN
    images: str | None = None
    window: tuple[WindowSeconds, WindowSeconds] = DEFAULT_WINDOW


def is_nwb(path: str | Path) -> bool:
    """True if ``path`` is a file named ``*.nwb`` (its content is checked by ``read_nwb``)."""
    path = Path(path)
    return path.is_file() and path.suffix.lower() == SUFFIX


def read_nwb(
    path: str | Path, max_elements: int = MAX_ARRAY_ELEMENTS, options: NwbOptions | None = None
) -> V1Dataset:
    """Read one NWB file into a one-session ``V1Dataset`` (see the module docstring for the layout).

    ``max_elements`` bounds the array elements read in all (spike times, table columns, pixels, counts).
    """
    from pynwb import NWBHDF5IO  # lazily: importing pynwb takes a second the other formats need not pay

    path = Path(path)
    options = options or NwbOptions()
    window = _check_window(options.window, path)
    budget = ElementBudget(max_elements)
    _check_hdf5(path)
    try:
        io = NWBHDF5IO(str(path), mode="r")
    except Exception as err:  # noqa: BLE001  pynwb/hdmf raise many types (OSError, KeyError, ...) on bad files
        raise InputError(f"cannot open as NWB: {_why(err)}", path=path, field="file") from err
    with io:
        nwb = _read_file(io, path)
        images = _images(nwb, options.images, path, budget)
        onsets, shown_rows = _presentations(nwb, options, len(images), path, budget)
        spikes = _spike_trains(nwb, path, budget)
        budget.take((len(onsets), len(spikes)), path, "units")
        counts = spike_counts(spikes, onsets, window)
        session = _session(nwb, counts, shown_rows, options, path)
        identifier = str(nwb.identifier)
    dataset = V1Dataset(
        images=images,
        image_ids=np.arange(len(images), dtype=np.int64),
        sessions=[session],
        metadata={
            "source_format": "nwb",
            "identifier": identifier,
            "table": options.table,
            "image_column": options.image_column,
            "window_s": list(window),
        },
    )
    return dataset.validate(path)


def spike_counts(spikes: Sequence[np.ndarray], onsets: np.ndarray, window: tuple[float, float]) -> np.ndarray:
    """``(trials, units)`` float32: per unit, the spikes in ``[onset + window[0], onset + window[1])``."""
    lo, hi = onsets + window[0], onsets + window[1]
    counts = np.empty((len(onsets), len(spikes)), dtype=np.float32)
    for u, times in enumerate(spikes):
        counts[:, u] = np.searchsorted(times, hi, side="left") - np.searchsorted(times, lo, side="left")
    return counts


def _why(err: BaseException) -> str:
    return one_line(f"{type(err).__name__}: {err}")


def _check_window(window: object, path: Path) -> tuple[float, float]:
    """Two finite numbers of seconds, ``0 <= start < stop``."""
    ok = isinstance(window, (tuple, list)) and len(window) == 2
    if ok:
        ok = all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in window)
    if ok:
        start, stop = float(window[0]), float(window[1])
        if math.isfinite(start) and math.isfinite(stop) and 0 <= start < stop:
            return start, stop
    raise InputError(
        f"expected (start, stop) seconds after onset with 0 <= start < stop, got {shown(window)}",
        path=path,
        field="window",
    )


def _check_hdf5(path: Path) -> None:
    """The file is readable HDF5 without external links (which could read files outside the dataset)."""
    import h5py

    try:
        with path.open("rb") as fh:
            head = fh.read(len(_HDF5_SIGNATURE))
    except OSError as err:
        raise InputError(f"cannot read: {err.strerror}", path=path, field="file") from err
    if head != _HDF5_SIGNATURE:
        raise InputError("not an HDF5 file (NWB files are HDF5)", path=path, field="file")
    outside: list[str] = []

    def visit(name: str, link: object) -> None:
        if isinstance(link, h5py.ExternalLink):
            outside.append(name)

    try:
        with h5py.File(path, "r") as f:
            f.visititems_links(visit)
    except Exception as err:  # noqa: BLE001  h5py raises OSError, KeyError, RuntimeError on corrupt files
        raise InputError(f"cannot read as HDF5: {_why(err)}", path=path, field="file") from err
    if outside:
        raise InputError(
            f"an external link to another file is refused (paths stay inside the dataset): {shown(outside[0])}",
            path=path,
            field=outside[0],
        )


def _read_file(io: Any, path: Path) -> Any:
    """The ``NWBFile``; pynwb's warnings about cached namespaces are not the user's concern."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return io.read()
    except Exception as err:  # noqa: BLE001  see read_nwb: no single exception type for a malformed file
        raise InputError(f"not a readable NWB file: {_why(err)}", path=path, field="file") from err


def _array(data: Any, path: Path, field: str, budget: ElementBudget, ndim: int | None) -> np.ndarray:
    """An HDF5 dataset (or list) as an array of ``ndim`` dimensions (any if None), counted before it is read."""
    shape = tuple(int(n) for n in getattr(data, "shape", np.shape(data)))
    if ndim is not None and len(shape) != ndim:
        raise InputError(f"expected {ndim} dimension(s), got shape {shape}", path=path, field=field)
    budget.take(shape, path, field)
    try:
        arr = np.asarray(data[()] if hasattr(data, "shape") else data)
    except Exception as err:  # noqa: BLE001  h5py read errors of a damaged dataset
        raise InputError(f"cannot read: {_why(err)}", path=path, field=field) from err
    if arr.dtype.kind not in "iuf":
        raise InputError(f"expected real numbers, got dtype {arr.dtype}", path=path, field=field)
    return arr


def _finite(arr: np.ndarray, path: Path, field: str) -> np.ndarray:
    if arr.dtype.kind == "f" and not np.isfinite(arr).all():
        raise InputError("contains NaN or inf", path=path, field=field)
    return arr


def _images(nwb: Any, name: str | None, path: Path, budget: ElementBudget) -> np.ndarray:
    """The ``Images`` container's images, in index order, as ``(n, height, width)`` grayscale."""
    from pynwb.base import Images

    containers = {k: v for k, v in nwb.stimulus_template.items() if isinstance(v, Images)}
    if not containers:
        raise InputError(
            "no Images container in the stimulus templates", path=path, field="stimulus_template"
        )
    if name is None:
        if len(containers) > 1:
            raise InputError(
                f"several Images containers ({shown(sorted(containers))}); name one with images=",
                path=path,
                field="stimulus_template",
            )
        name = next(iter(containers))
    if name not in containers:
        raise InputError(
            f"no Images container {shown(name)} (there are {shown(sorted(containers))})",
            path=path,
            field="stimulus_template",
        )
    field = f"stimulus_template/{name}"
    ordered = _ordered_images(containers[name], path, field)
    if not ordered:
        raise InputError("the Images container holds no images", path=path, field=field)
    arrays = [_gray(img, path, f"{field}/{img.name}", budget) for img in ordered]
    shapes = {a.shape for a in arrays}
    if len(shapes) > 1:
        raise InputError(f"images of different sizes: {shown(sorted(shapes))}", path=path, field=field)
    stack = np.stack(arrays)
    return stack if stack.dtype == np.uint8 else stack.astype(np.float32)


def _ordered_images(container: Any, path: Path, field: str) -> list[Any]:
    """Images by index: ``order_of_images`` if present, else by their names read as numbers 0..n-1."""
    by_name = dict(container.images)
    if container.order_of_images is not None:
        ordered = list(container.order_of_images.data)
        strays = [img.name for img in ordered if by_name.get(img.name) is not img]
        if strays:
            raise InputError(
                f"names images not in the container: {shown(strays[:5])}",
                path=path,
                field=f"{field}/order_of_images",
            )
        return ordered
    names = sorted(by_name)
    numbered = all(n.isascii() and n.isdigit() for n in names)
    if not numbered or sorted(int(n) for n in names) != list(range(len(names))):
        raise InputError(
            "without order_of_images the images must be named 0..n-1 (the image index); got "
            f"{shown(names[:5])}",
            path=path,
            field=f"{field}/order_of_images",
        )
    return [by_name[n] for n in sorted(names, key=int)]


def _gray(image: Any, path: Path, field: str, budget: ElementBudget) -> np.ndarray:
    """One image as ``(height, width)``: grayscale as stored, RGB(A) made BT.601 luma."""
    arr = _finite(_array(image.data, path, field, budget, None), path, field)
    if arr.ndim == 3 and arr.shape[2] in (3, 4):
        rgb = arr[..., :3]
        gray = rgb_to_gray_np(rgb)
        return np.clip(np.round(gray), 0, 255).astype(np.uint8) if arr.dtype == np.uint8 else gray
    if arr.ndim != 2:
        raise InputError(
            f"expected (height, width) or (height, width, 3|4), got shape {arr.shape}", path=path, field=field
        )
    return arr


def _presentations(
    nwb: Any, options: NwbOptions, n_images: int, path: Path, budget: ElementBudget
) -> tuple[np.ndarray, np.ndarray]:
    """Onsets (seconds) and image indices of the stimulus table's rows, checked."""
    table = nwb.intervals.get(options.table) if nwb.intervals is not None else None
    if table is None:
        known = sorted(nwb.intervals) if nwb.intervals is not None else []
        raise InputError(
            f"no stimulus table {shown(options.table)} in intervals (there are {shown(known)}); "
            "name one with table=",
            path=path,
            field=f"intervals/{options.table}",
        )
    where = f"intervals/{options.table}"
    for column in ("start_time", "stop_time", options.image_column):
        if column not in table.colnames:
            raise InputError(
                f"missing column {shown(column)} (columns: {shown(list(table.colnames))})",
                path=path,
                field=f"{where}.{column}",
            )
    start, stop = (
        _finite(_array(table[c].data, path, f"{where}.{c}", budget, 1), path, f"{where}.{c}")
        for c in ("start_time", "stop_time")
    )
    image_field = f"{where}.{options.image_column}"
    image = _array(table[options.image_column].data, path, image_field, budget, 1)
    if len(start) == 0:
        raise InputError("the stimulus table has no rows", path=path, field=where)
    if (stop < start).any():
        row = int(np.flatnonzero(stop < start)[0])
        raise InputError(f"row {row} stops before it starts", path=path, field=f"{where}.stop_time")
    if image.dtype.kind not in "iu":
        raise InputError(
            f"expected integer image indices, got dtype {image.dtype}", path=path, field=image_field
        )
    bad = np.flatnonzero((image < 0) | (image >= n_images))
    if len(bad):
        raise InputError(
            f"row {int(bad[0])}: image index {int(image[bad[0]])} outside 0..{n_images - 1}",
            path=path,
            field=image_field,
        )
    return start.astype(np.float64), image.astype(np.int64)


def _spike_trains(nwb: Any, path: Path, budget: ElementBudget) -> list[np.ndarray]:
    """Each unit's sorted spike times; every unit must have at least one spike."""
    units = nwb.units
    if units is None or len(units) == 0:
        raise InputError("no units table (or no units)", path=path, field="units")
    if "spike_times" not in units.colnames:
        raise InputError("the units table has no spike_times column", path=path, field="units.spike_times")
    column = units["spike_times"]
    if not hasattr(column, "target"):  # a plain column would be one time per unit, not a spike train
        raise InputError("expected a ragged column of spike times", path=path, field="units.spike_times")
    times = _finite(
        _array(column.target.data, path, "units.spike_times", budget, 1), path, "units.spike_times"
    )
    ends = _array(column.data, path, "units.spike_times_index", budget, 1).astype(np.int64)
    if (np.diff(ends, prepend=0) < 0).any() or (len(ends) and ends[-1] != len(times)):
        raise InputError("index does not split the spike times", path=path, field="units.spike_times_index")
    trains = np.split(times.astype(np.float64), ends[:-1])
    empty = [u for u, t in enumerate(trains) if len(t) == 0]
    if empty:
        raise InputError(
            f"unit {empty[0]} has no spikes ({len(empty)} unit(s) without spikes)",
            path=path,
            field="units.spike_times",
        )
    return [np.sort(t) for t in trains]


def _session(nwb: Any, counts: np.ndarray, image: np.ndarray, options: NwbOptions, path: Path) -> Session:
    """Split trials: images shown once train, images shown more than once are the repeated test set."""
    ids, first, n_shown = np.unique(image, return_index=True, return_counts=True)
    repeated = ids[n_shown > 1][np.argsort(first[n_shown > 1], kind="stable")]  # first-seen order
    is_test = np.isin(image, repeated)
    if is_test.all():
        raise InputError(
            "every image is shown more than once: no training trials (images shown once train)",
            path=path,
            field=f"intervals/{options.table}.{options.image_column}",
        )
    n_repeats = int(n_shown.max()) if len(repeated) else 0
    test = np.full((len(repeated), n_repeats, counts.shape[1]), np.nan, dtype=np.float32)
    for k, image_id in enumerate(repeated):
        rows = np.flatnonzero(image == image_id)
        test[k, : len(rows)] = counts[rows]
    session_id = nwb.session_id or nwb.identifier
    subject = nwb.subject.subject_id if nwb.subject is not None and nwb.subject.subject_id else "unknown"
    return Session(
        session_id=check_label(str(session_id), path, "session_id"),
        subject_id=check_label(str(subject), path, "subject.subject_id"),
        train_image_ids=image[~is_test],
        train_responses=counts[~is_test],
        test_image_ids=repeated.astype(np.int64),
        test_responses=test,
    )
