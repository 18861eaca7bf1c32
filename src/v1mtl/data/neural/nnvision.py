"""The nnvision / neural_cotraining session format: one pickle per session plus one ``.npy`` per image.

Layout read and written here (sinzlab/nnvision ``nnvision/datasets/monkey_loaders.py`` ``monkey_static_loader``
and ``utility.py`` ``ImageCache``, branch ``neural_cotrain_NeurIPS``; see docs/reference-implementation.md)::

    <root>/neuronal_data/<name>.pickle    one dict per session:
        subject_id, session_id            scalars (the loader keys sessions by ``str(session_id)``)
        training_responses                (neurons, time_bins, trials) spike counts
        testing_responses                 (neurons, time_bins, test_trials); repeats are separate trials
        training_image_ids                (trials,) image id of every training trial
        testing_image_ids                 (test_trials,) image id of every test trial (repeated per repeat)
    <root>/images/individual/<id>.npy     one 2-D grayscale image per id, id zero-padded to 6 digits

Reading follows the reference: responses are transposed to (trials, neurons, time_bins) and the first
``time_bins_sum`` bins are summed (default 12, as in ``NeuralDatasetConfig``); NaN stays NaN. Test trials
are grouped by image id into (test_images, repeats, neurons), as the reference's ``RepeatsBatchSampler``
groups them; images with fewer repeats are padded with NaN. A 3-channel image (H, W, 3) is converted to
grayscale with the BT.601 luma weights (``v1mtl.data.images.gray``).

Writing puts each response in the FIRST time bin and zeros in the others. The sum of the first ``k`` bins
then equals the response exactly for every ``k >= 1`` (splitting a count evenly over bins would not be
exact in floating point, and would break readers that sum fewer bins).
"""

from __future__ import annotations

import pickle
import re
from pathlib import Path

import numpy as np
from tqdm import tqdm

from v1mtl.common.atomic import save_npy, write_bytes
from v1mtl.common.errors import InputError
from v1mtl.data.images.gray import rgb_to_gray_np
from v1mtl.data.neural.files import inside, read_npy, resolved_root
from v1mtl.data.neural.limits import MAX_ARRAY_ELEMENTS, ElementBudget, check_max_elements, shown
from v1mtl.data.neural.recordings import (
    INT64_MAX,
    Session,
    V1Dataset,
    check_counts,
    session_field,
)
from v1mtl.data.neural.safe_pickle import label_text, numeric_array, require_key, safe_load, whole_numbers

SESSION_FOLDER = "neuronal_data"
IMAGE_FOLDER = Path("images") / "individual"
ID_DIGITS = 6
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]")
_IMAGE_NAME = re.compile(r"([0-9]+)\.npy")  # ASCII digits only: str.isdigit() also accepts '²'
_SESSION_ARRAYS = ("train_image_ids", "train_responses", "test_image_ids", "test_responses")


def is_nnvision(path: str | Path) -> bool:
    """True if ``path`` is a folder with a ``neuronal_data`` subfolder."""
    return (Path(path) / SESSION_FOLDER).is_dir()


def read_nnvision(
    path: str | Path, time_bins_sum: int = 12, max_elements: int = MAX_ARRAY_ELEMENTS
) -> V1Dataset:
    """Read an nnvision dataset folder (``neuronal_data/*.pickle`` + ``images/individual/*.npy``).

    ``max_elements`` bounds the array elements each session file may declare, and the stacked images.
    """
    root = Path(path)
    if isinstance(time_bins_sum, bool) or not isinstance(time_bins_sum, int) or time_bins_sum < 1:
        raise InputError(
            f"must be an integer of at least 1, got {shown(time_bins_sum)}", path=root, field="time_bins_sum"
        )
    check_max_elements(max_elements)
    session_dir = root / SESSION_FOLDER
    if not session_dir.is_dir():
        raise InputError(f"missing the '{SESSION_FOLDER}' folder", path=root, field=SESSION_FOLDER)
    real_root = resolved_root(root)
    files = sorted(session_dir.glob("*.pickle")) + sorted(session_dir.glob("*.pkl"))
    if not files:
        raise InputError("no session pickles (*.pickle)", path=session_dir, field=SESSION_FOLDER)
    images, image_ids = _read_images(root / IMAGE_FOLDER, real_root, max_elements)
    sessions = [_read_session(f, real_root, time_bins_sum, max_elements) for f in files]
    _check_distinct_ids(files, sessions)
    known = set(image_ids.tolist())
    for f, s in zip(files, sessions, strict=True):
        for name, ids in (("training_image_ids", s.train_image_ids), ("testing_image_ids", s.test_image_ids)):
            missing = sorted(set(np.unique(ids).tolist()) - known)
            if missing:
                raise InputError(
                    f"image ids without images in {IMAGE_FOLDER}: {missing[:5]}", path=f, field=name
                )
    dataset = V1Dataset(
        images=images,
        image_ids=image_ids,
        sessions=sessions,
        pixels_per_degree=None,
        metadata={"source_format": "nnvision", "time_bins_sum": time_bins_sum},
    )
    held_in = {"images": root / IMAGE_FOLDER, "image_ids": root / IMAGE_FOLDER}
    for f, s in zip(files, sessions, strict=True):
        held_in |= {session_field(s.session_id, name): f for name in _SESSION_ARRAYS}
    return dataset.validate(root, files=held_in)


def _read_images(folder: Path, root: Path, max_elements: int) -> tuple[np.ndarray, np.ndarray]:
    """The images named ``<id>.npy`` in ``folder`` (other files are ignored), stacked in id order."""
    if not folder.is_dir():
        raise InputError("missing image folder", path=folder, field="images")
    by_id = _image_files(folder)
    if not by_id:
        raise InputError("no images (<id>.npy)", path=folder, field="images")
    budget = ElementBudget(max_elements)  # for the stack of all images
    images = []
    shape = None
    ids = sorted(by_id)
    for image_id in tqdm(
        ids, desc="images", unit="img", leave=False, disable=True if len(ids) < 500 else None
    ):
        f = by_id[image_id]
        img = read_npy(f, root, "image", budget)
        if img.dtype.kind == "f" and not np.isfinite(img).all():
            raise InputError("contains NaN or inf", path=f, field="image")
        if img.ndim == 3 and img.shape[2] in (3, 4):
            img = _to_gray(img)
        if img.ndim != 2 or 0 in img.shape:
            raise InputError(
                f"expected (height, width) or (height, width, 3), got {img.shape}", path=f, field="image"
            )
        if shape is None:
            shape = img.shape
        elif img.shape != shape:
            raise InputError(
                f"image shape {img.shape} differs from the others' {shape}", path=f, field="image"
            )
        images.append(img)
    stacked = np.stack(images)
    if stacked.dtype != np.uint8:
        stacked = stacked.astype(np.float32)
    return stacked, np.array(ids, dtype=np.int64)


def _image_files(folder: Path) -> dict[int, Path]:
    """``{id: file}`` for the files named by an id in ASCII digits (``000005.npy``); two names of one id
    (``5.npy`` and ``000005.npy``) are an error."""
    try:
        names = list(folder.iterdir())
    except OSError as err:
        raise InputError(f"cannot list: {err.strerror}", path=folder, field="images") from err
    by_id: dict[int, Path] = {}
    for f in names:
        match = _IMAGE_NAME.fullmatch(f.name)
        if match is None:
            continue
        image_id = int(match.group(1))
        if image_id > INT64_MAX:
            raise InputError(f"image id {image_id} is beyond int64", path=f, field="image")
        if image_id in by_id:
            raise InputError(f"names image {image_id}, as {by_id[image_id].name} does", path=f, field="image")
        by_id[image_id] = f
    return by_id


def _to_gray(img: np.ndarray) -> np.ndarray:
    rgb = img[..., :3]
    if np.array_equal(rgb[..., 0], rgb[..., 1]) and np.array_equal(rgb[..., 0], rgb[..., 2]):
        return rgb[..., 0]
    gray = rgb_to_gray_np(rgb)
    return np.clip(np.round(gray), 0, 255).astype(np.uint8) if img.dtype == np.uint8 else gray


def _summed_responses(
    raw: object, f: Path, field: str, time_bins_sum: int, budget: ElementBudget
) -> np.ndarray:
    """``(neurons, time_bins, trials)`` -> ``(trials, neurons)`` float32, summing the first bins."""
    arr = numeric_array(raw, f, field, budget, ndim=3)
    check_counts(arr, f, field)  # before summing: a negative bin could hide in a positive sum
    if arr.shape[1] < time_bins_sum:
        raise InputError(
            f"has {arr.shape[1]} time bins, fewer than time_bins_sum={time_bins_sum}", path=f, field=field
        )
    # A plain sum (not nansum): a trial a neuron missed stays NaN and is masked later.
    return arr.transpose(2, 0, 1)[:, :, :time_bins_sum].astype(np.float64).sum(axis=2).astype(np.float32)


def _read_session(f: Path, root: Path, time_bins_sum: int, max_elements: int) -> Session:
    inside(root, f, "pickle")
    content = safe_load(f, max_elements)
    budget = ElementBudget(max_elements)
    subject = label_text(require_key(content, "subject_id", f), f, "subject_id")
    session_id = label_text(require_key(content, "session_id", f), f, "session_id")
    train = _summed_responses(
        require_key(content, "training_responses", f), f, "training_responses", time_bins_sum, budget
    )
    test = _summed_responses(
        require_key(content, "testing_responses", f), f, "testing_responses", time_bins_sum, budget
    )
    train_ids = whole_numbers(require_key(content, "training_image_ids", f), f, "training_image_ids", budget)
    test_ids = whole_numbers(require_key(content, "testing_image_ids", f), f, "testing_image_ids", budget)
    if train.shape[0] == 0 or train.shape[1] == 0:
        raise InputError(
            f"empty session: {train.shape[0]} trials x {train.shape[1]} neurons",
            path=f,
            field="training_responses",
        )
    if train_ids.shape[0] != train.shape[0]:
        raise InputError(
            f"{train_ids.shape[0]} ids for {train.shape[0]} training trials",
            path=f,
            field="training_image_ids",
        )
    if test_ids.shape[0] != test.shape[0]:
        raise InputError(
            f"{test_ids.shape[0]} ids for {test.shape[0]} test trials", path=f, field="testing_image_ids"
        )
    if test.shape[1] != train.shape[1]:
        raise InputError(
            f"{test.shape[1]} neurons, but training_responses has {train.shape[1]}",
            path=f,
            field="testing_responses",
        )
    unique_ids, repeats = _group_repeats(test, test_ids)
    return Session(
        session_id=session_id,
        subject_id=subject,
        train_image_ids=train_ids,
        train_responses=train,
        test_image_ids=unique_ids,
        test_responses=repeats,
    )


def _check_distinct_ids(files: list[Path], sessions: list[Session]) -> None:
    """Two files of one session id would be merged by the reference's ``str(session_id)`` keys."""
    first: dict[str, Path] = {}
    for f, s in zip(files, sessions, strict=True):
        if s.session_id in first:
            raise InputError(
                f"{s.session_id!r} is also the session_id of {first[s.session_id].name}",
                path=f,
                field="session_id",
            )
        first[s.session_id] = f


def _group_repeats(trials: np.ndarray, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(test_trials, neurons)`` + ``(test_trials,)`` ids -> unique ids (first-seen order) and
    ``(test_images, max_repeats, neurons)`` with NaN padding."""
    _, first, inverse, counts = np.unique(ids, return_index=True, return_inverse=True, return_counts=True)
    order = np.argsort(first, kind="stable")  # unique position -> rank by first appearance
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    n_rep = int(counts.max()) if len(counts) else 0
    out = np.full((len(order), n_rep, trials.shape[1]), np.nan, dtype=np.float32)
    seen = np.zeros(len(order), dtype=np.int64)
    for t, u in enumerate(inverse):
        r = rank[u]
        out[r, seen[r]] = trials[t]
        seen[r] += 1
    return ids[np.sort(first)], out


def write_nnvision(dataset: V1Dataset, out_dir: str | Path, n_time_bins: int = 12) -> None:
    """Export ``dataset`` in the nnvision layout (see the module docstring for the time-bin convention)."""
    out = Path(out_dir)
    if n_time_bins < 1:
        raise InputError(f"must be at least 1, got {n_time_bins}", path=out, field="n_time_bins")
    dataset.validate()
    if (np.asarray(dataset.image_ids) < 0).any():
        raise InputError("the nnvision format names images by non-negative ids", path=out, field="image_ids")
    for img, image_id in zip(dataset.images, dataset.image_ids, strict=True):
        save_npy(out / IMAGE_FOLDER / f"{int(image_id):0{ID_DIGITS}d}.npy", np.asarray(img))
    names: set[str] = set()
    for i, s in enumerate(dataset.sessions):
        name = _SAFE_NAME.sub("_", s.session_id) or f"{i:04d}"
        if name in names:
            name = f"{name}_{i:04d}"
        names.add(name)
        n_test, n_rep, n_neurons = s.test_responses.shape
        content = {
            "subject_id": s.subject_id,
            "session_id": s.session_id,
            "training_responses": _binned(np.asarray(s.train_responses), n_time_bins),
            "testing_responses": _binned(
                np.asarray(s.test_responses).reshape(n_test * n_rep, n_neurons), n_time_bins
            ),
            "training_image_ids": np.asarray(s.train_image_ids, dtype=np.int64),
            "testing_image_ids": np.repeat(np.asarray(s.test_image_ids, dtype=np.int64), n_rep),
        }
        write_bytes(out / SESSION_FOLDER / f"{name}.pickle", pickle.dumps(content, protocol=4))


def _binned(trials: np.ndarray, n_time_bins: int) -> np.ndarray:
    """``(trials, neurons)`` -> ``(neurons, n_time_bins, trials)`` with everything in bin 0 (NaN in all bins)."""
    binned = np.zeros((trials.shape[1], n_time_bins, trials.shape[0]), dtype=np.float32)
    binned[:, 0, :] = trials.T
    binned[np.broadcast_to(np.isnan(trials.T)[:, None, :], binned.shape)] = np.nan
    return binned
