"""Cadena et al. 2019 (PLoS Comput Biol 15(4):e1006897) V1 data: the single pickle ``cadena_ploscb_data.pkl``.

Layout (sacadena/Cadena2019PlosCB ``cnn_sys_ident/data.py``, ``Dataset`` and ``MonkeyDataset``; data on GIN,
doi Cadena_PlosCB19_data, CC BY-NC-ND 4.0; shapes of the released file, 7250 images of 140 x 140 px and
166 neurons with 4 repeat slots, as asserted by third-party loaders of the same file):

- ``images``: ``(images, height, width)`` grayscale stimuli in [0, 255].
- ``responses``: ``(repeats, images, neurons)`` spike counts; NaN where a neuron has no trial (neurons of
  sessions with only 2 repeats are NaN in repeat slots 3-4; neurons not shown an image are NaN throughout).
- ``repetitions``: ``(neurons,)`` repeats of each neuron's session (2 or 4); the reference indexes
  ``responses[:, :, repetitions == 2]`` with it.
- ``image_ids`` and ``image_types`` (original, conv1..conv4): one entry per image, possibly as an
  ``(images, 1)`` column (the reference flattens both).
- ``subject_id`` and, when present, ``session_id``: the reference keeps ``subject_id`` as is; both are read
  here as one value per neuron (or one scalar for all neurons).

Conventions, as in ``MonkeyDataset``: the first ``int(0.8 * images)`` images are the training set and the
last 20% the test set; every (repeat, image) of a training image is one training trial (repeat-major order).
Neurons are grouped into sessions by (subject_id, session_id); a session is named by its session_id, or
"<subject>-<session>" when the same session_id occurs for two subjects. Unlike ``Dataset.manage_repeats``, 2-repeat
sessions are NOT duplicated into 4 repeats (that would fake repeat-to-repeat agreement); each session keeps
the repeats it has, and NaN stays NaN (``Dataset.preprocess_nans`` zero-fills; here masks do that job).
"""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import numpy as np

from v1mtl.common.atomic import write_bytes
from v1mtl.common.errors import InputError
from v1mtl.data.neural.recordings import Session, V1Dataset
from v1mtl.data.neural.safe_pickle import integer_ids, numeric_array, require_key, safe_load

TRAIN_FRACTION = 0.8
DEFAULT_FILE = "cadena_ploscb_data.pkl"


def n_train_images(n_images: int) -> int:
    """Number of leading images that form the training set (Cadena et al. 2019: ``int(n * 0.8)``)."""
    return int(n_images * TRAIN_FRACTION)


def read_cadena(path: str | Path) -> V1Dataset:
    """Read ``cadena_ploscb_data.pkl`` (or a folder containing it) into a ``V1Dataset``."""
    path = Path(path)
    if path.is_dir():
        path = path / DEFAULT_FILE
    content = safe_load(path)
    images = numeric_array(require_key(content, "images", path), path, "images", ndim=3, finite=True)
    responses = numeric_array(require_key(content, "responses", path), path, "responses", ndim=3)
    n_rep, n_img, n_neurons = responses.shape
    if n_img != images.shape[0]:
        raise InputError(
            f"expected (repeats, {images.shape[0]} images, neurons), got shape {responses.shape}",
            path=path,
            field="responses",
        )
    if n_rep == 0 or n_neurons == 0:
        raise InputError(f"no trials or no neurons: shape {responses.shape}", path=path, field="responses")
    if np.isinf(responses).any():
        raise InputError("contains inf", path=path, field="responses")
    image_ids = integer_ids(require_key(content, "image_ids", path), path, "image_ids")
    if image_ids.shape != (n_img,):
        raise InputError(f"expected {n_img} ids, got {image_ids.shape[0]}", path=path, field="image_ids")
    if "repetitions" in content:
        reps = numeric_array(content["repetitions"], path, "repetitions").reshape(-1)
        if reps.shape != (n_neurons,):
            raise InputError(
                f"expected one value per neuron ({n_neurons}), got {reps.shape}",
                path=path,
                field="repetitions",
            )
    subjects = _per_neuron(content.get("subject_id", "unknown"), n_neurons, path, "subject_id")
    session_keys = _per_neuron(content.get("session_id", None), n_neurons, path, "session_id")

    responses = responses.astype(np.float32)
    n_train = n_train_images(n_img)
    pairs = list(dict.fromkeys(zip(subjects, session_keys, strict=True)))
    names = [subject if key == "None" else key for subject, key in pairs]
    if len(set(names)) < len(names):  # session numbers restart per subject: qualify them
        names = [f"{subject}-{key}" for subject, key in pairs]
    sessions = []
    for (subject, session_key), name in zip(pairs, names, strict=True):
        neurons = np.flatnonzero((subjects == subject) & (session_keys == session_key))
        sessions.append(_session(responses[:, :, neurons], image_ids, n_train, name, subject, path))

    metadata: dict[str, Any] = {
        "source_format": "cadena2019",
        "test_images": f"last {n_img - n_train} of {n_img} (Cadena et al. 2019: last 20%)",
    }
    if "image_types" in content:
        metadata["image_types"] = _texts(content["image_types"], path, "image_types", n_img)
    ppd = content.get("pixels_per_degree")
    dataset = V1Dataset(
        images=images if images.dtype == np.uint8 else images.astype(np.float32),
        image_ids=image_ids,
        sessions=sessions,
        pixels_per_degree=None if ppd is None else float(ppd),
        metadata=metadata,
    )
    return dataset.validate(path)


def _texts(value: Any, path: Path, field: str, n: int) -> list[str]:
    """Flatten a per-item label array (possibly ``(n, 1)`` or nested 1-element arrays) to ``n`` strings."""
    flat = np.asarray(value, dtype=object).reshape(-1)
    out = []
    for x in flat:
        while isinstance(x, (np.ndarray, list, tuple)) and len(x) == 1:
            x = x[0]
        out.append(str(x.item() if isinstance(x, np.generic) else x))
    if len(out) != n:
        raise InputError(f"expected {n} entries, got {len(out)}", path=path, field=field)
    return out


def _per_neuron(value: Any, n_neurons: int, path: Path, field: str) -> np.ndarray:
    """One text label per neuron from a scalar or a ``(neurons,)`` / ``(neurons, 1)`` array."""
    arr = np.asarray(value, dtype=object)
    if arr.size == 1:
        return np.array([_texts(arr, path, field, 1)[0]] * n_neurons, dtype=object)
    return np.array(_texts(arr, path, field, n_neurons), dtype=object)


def _session(
    resp: np.ndarray, image_ids: np.ndarray, n_train: int, name: str, subject: str, path: Path
) -> Session:
    """Cut one session's ``(repeats, images, neurons)`` block into training trials and test repeats."""
    recorded = ~np.isnan(resp).all(axis=2)  # (repeats, images): a trial exists if any neuron has a value
    train_rep, train_img = np.nonzero(recorded[:, :n_train])
    if len(train_rep) == 0:
        raise InputError(f"session '{name}' has no training trials", path=path, field="responses")
    test_block = resp[:, n_train:]
    test_seen = np.flatnonzero(recorded[:, n_train:].any(axis=0))
    used_repeats = np.flatnonzero(recorded[:, n_train:].any(axis=1))
    n_rep = int(used_repeats.max()) + 1 if len(used_repeats) else 0
    return Session(
        session_id=name,
        subject_id=subject,
        train_image_ids=image_ids[train_img],
        train_responses=resp[train_rep, train_img],
        test_image_ids=image_ids[n_train + test_seen],
        test_responses=np.ascontiguousarray(test_block[:n_rep, test_seen].transpose(1, 0, 2)),
    )


def write_cadena(dataset: V1Dataset, path: str | Path) -> None:
    """Write ``dataset`` as a Cadena-style pickle (for round trips and fixtures).

    The format has one image set with the test images last, so the union of the sessions' test images
    must be exactly the last ``n - int(0.8 n)`` images after reordering, and no test image may also be a
    training image. Training trials of an image fill repeat slots in order; unused slots are NaN.
    """
    path = Path(path)
    dataset.validate()
    test_ids = np.unique(np.concatenate([s.test_image_ids for s in dataset.sessions]))
    train_ids = np.unique(np.concatenate([s.train_image_ids for s in dataset.sessions]))
    n_img = len(dataset.image_ids)
    if len(test_ids) != n_img - n_train_images(n_img):
        raise InputError(
            f"cadena2019 stores the test set as the last 20% of images: need {n_img - n_train_images(n_img)} "
            f"test images, the dataset has {len(test_ids)}",
            path=path,
            field="test_image_ids",
        )
    both = np.intersect1d(test_ids, train_ids)
    if len(both):
        raise InputError(
            f"images used for both training and test: {both[:5].tolist()}", path=path, field="test_image_ids"
        )
    is_test = np.isin(dataset.image_ids, test_ids)
    order = np.concatenate([np.flatnonzero(~is_test), np.flatnonzero(is_test)])
    ids = np.asarray(dataset.image_ids, dtype=np.int64)[order]
    position = {int(i): p for p, i in enumerate(ids)}

    n_rep = max(max(_max_trials_per_image(s.train_image_ids), s.n_repeats) for s in dataset.sessions)
    blocks, subjects, sessions, repetitions = [], [], [], []
    for s in dataset.sessions:
        block = np.full((n_rep, n_img, s.n_neurons), np.nan, dtype=np.float32)
        slot: dict[int, int] = {}
        for image_id, trial in zip(s.train_image_ids.tolist(), np.asarray(s.train_responses), strict=True):
            r = slot.get(image_id, 0)
            block[r, position[image_id]] = trial
            slot[image_id] = r + 1
        cols = [position[int(i)] for i in s.test_image_ids]
        block[: s.n_repeats, cols] = np.asarray(s.test_responses).transpose(1, 0, 2)
        blocks.append(block)
        subjects += [s.subject_id] * s.n_neurons
        sessions += [s.session_id] * s.n_neurons
        repetitions += [s.n_repeats] * s.n_neurons
    content = {
        "images": np.asarray(dataset.images)[order],
        "responses": np.concatenate(blocks, axis=2),
        "repetitions": np.asarray(repetitions, dtype=np.int64),
        "image_ids": ids[:, None],
        "subject_id": np.asarray(subjects),
        "session_id": np.asarray(sessions),
    }
    if "image_types" in dataset.metadata:
        content["image_types"] = np.asarray(dataset.metadata["image_types"])[order][:, None]
    if dataset.pixels_per_degree is not None:
        content["pixels_per_degree"] = float(dataset.pixels_per_degree)
    write_bytes(path, pickle.dumps(content, protocol=4))


def _max_trials_per_image(ids: np.ndarray) -> int:
    return int(np.unique(ids, return_counts=True)[1].max()) if len(ids) else 0
