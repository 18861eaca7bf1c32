"""Cadena et al. 2019 (PLoS Comput Biol 15(4):e1006897) V1 data: the single pickle ``cadena_ploscb_data.pkl``.

Layout (sacadena/Cadena2019PlosCB ``cnn_sys_ident/data.py``, ``Dataset`` and ``MonkeyDataset``; data on GIN,
doi Cadena_PlosCB19_data, CC BY-NC-ND 4.0; shapes of the released file, 7250 images of 140 x 140 px and
166 neurons with 4 repeat slots, as asserted by third-party loaders of the same file):

- ``images``: ``(images, height, width)`` grayscale stimuli in [0, 255]. Float images are divided by 255
  here, so every reader hands stimuli in the units of a uint8 image after ``ToTensor``: [0, 1]; the network
  input statistics (``mean``, ``std`` of a trained network) are in those units, and 0-255 floats z-scored with
  them reach the network as values in the thousands. uint8 images stay uint8 (divided at preprocessing).
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
from v1mtl.data.neural.limits import MAX_ARRAY_ELEMENTS, ElementBudget
from v1mtl.data.neural.recordings import Session, V1Dataset, check_counts, check_pixels_per_degree
from v1mtl.data.neural.safe_pickle import (
    label_text,
    numeric_array,
    object_array,
    require_key,
    safe_load,
    whole_numbers,
)

TRAIN_FRACTION = 0.8
DEFAULT_FILE = "cadena_ploscb_data.pkl"


def n_train_images(n_images: int) -> int:
    """Number of leading images that form the training set (Cadena et al. 2019: ``int(n * 0.8)``)."""
    return int(n_images * TRAIN_FRACTION)


def read_cadena(path: str | Path, max_elements: int = MAX_ARRAY_ELEMENTS) -> V1Dataset:
    """Read ``cadena_ploscb_data.pkl`` (or a folder containing it) into a ``V1Dataset``.

    ``max_elements`` bounds the array elements the file may declare in all (see ``limits``).
    """
    path = Path(path)
    if path.is_dir():
        path = path / DEFAULT_FILE
    content = safe_load(path, max_elements)
    budget = ElementBudget(max_elements)
    images, responses, image_ids = _arrays(content, path, budget)
    groups = _neuron_sessions(content, responses.shape[2], path, budget)
    if "repetitions" in content:
        reps = whole_numbers(content["repetitions"], path, "repetitions", budget)
        _check_repetitions(reps, responses, {name: neurons for name, _, neurons in groups}, path)

    responses = responses.astype(np.float32)
    n_img = len(image_ids)
    n_train = n_train_images(n_img)
    metadata: dict[str, Any] = {
        "source_format": "cadena2019",
        "test_images": f"last {n_img - n_train} of {n_img} (Cadena et al. 2019: last 20%)",
    }
    if "image_types" in content:
        metadata["image_types"] = _labels(content["image_types"], path, "image_types", budget)
        if len(metadata["image_types"]) != n_img:
            raise InputError(
                f"expected {n_img} entries, got {len(metadata['image_types'])}",
                path=path,
                field="image_types",
            )
    dataset = V1Dataset(
        images=_unit_images(images, path),
        image_ids=image_ids,
        sessions=[
            _session(responses[:, :, neurons], image_ids, n_train, name, subject, path)
            for name, subject, neurons in groups
        ],
        pixels_per_degree=check_pixels_per_degree(content.get("pixels_per_degree"), path),
        metadata=metadata,
    )
    return dataset.validate(path)


def _arrays(content: Any, path: Path, budget: ElementBudget) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The required ``images``, ``responses`` and ``image_ids``, checked against each other."""
    images = numeric_array(require_key(content, "images", path), path, "images", budget, ndim=3, finite=True)
    responses = numeric_array(require_key(content, "responses", path), path, "responses", budget, ndim=3)
    check_counts(responses, path, "responses")  # the sessions are checked again; this names the key
    n_rep, n_img, n_neurons = responses.shape
    if n_img != images.shape[0]:
        raise InputError(
            f"expected (repeats, {images.shape[0]} images, neurons), got shape {responses.shape}",
            path=path,
            field="responses",
        )
    if n_rep == 0 or n_neurons == 0:
        raise InputError(f"no trials or no neurons: shape {responses.shape}", path=path, field="responses")
    image_ids = whole_numbers(require_key(content, "image_ids", path), path, "image_ids", budget)
    if image_ids.shape != (n_img,):
        raise InputError(f"expected {n_img} ids, got {image_ids.shape[0]}", path=path, field="image_ids")
    return images, responses, image_ids


def _unit_images(images: np.ndarray, path: Path) -> np.ndarray:
    """uint8 as it is; float stimuli, stored in [0, 255] by the format, as float32 in [0, 1]."""
    if images.dtype == np.uint8:
        return images
    low, high = float(images.min()), float(images.max())
    if low < 0 or high > 255:
        raise InputError(
            f"expected grayscale values in [0, 255], got {low:g} to {high:g}", path=path, field="images"
        )
    return (images / 255.0).astype(np.float32)


def _neuron_sessions(
    content: dict[str, Any], n_neurons: int, path: Path, budget: ElementBudget
) -> list[tuple[str, str, np.ndarray]]:
    """``(session name, subject, neuron indices)`` per (subject_id, session_id) pair, in first-seen order.

    A session is named by its session_id, or ``<subject>-<session>`` when a session_id occurs for two
    subjects; without session ids each subject is one session.
    """
    subjects = _per_neuron(content.get("subject_id", "unknown"), n_neurons, path, "subject_id", budget)
    has_session_ids = "session_id" in content
    if has_session_ids:
        keys = _per_neuron(content["session_id"], n_neurons, path, "session_id", budget)
    else:
        keys = np.array([""] * n_neurons, dtype=object)
    pairs = list(dict.fromkeys(zip(subjects, keys, strict=True)))
    names = [key if has_session_ids else subject for subject, key in pairs]
    if len(set(names)) < len(names):  # session numbers restart per subject: qualify them
        names = [f"{subject}-{key}" for subject, key in pairs]
    return [
        (name, subject, np.flatnonzero((subjects == subject) & (keys == key)))
        for (subject, key), name in zip(pairs, names, strict=True)
    ]


def _labels(value: Any, path: Path, field: str, budget: ElementBudget) -> list[str]:
    """Flatten a label array (possibly ``(n, 1)`` or nested 1-element arrays) or a scalar to strings."""
    return [label_text(x, path, field) for x in object_array(value, path, field, budget).reshape(-1)]


def _per_neuron(value: Any, n_neurons: int, path: Path, field: str, budget: ElementBudget) -> np.ndarray:
    """One text label per neuron from a scalar or a ``(neurons,)`` / ``(neurons, 1)`` array."""
    labels = _labels(value, path, field, budget)
    if len(labels) == 1:
        labels = labels * n_neurons
    if len(labels) != n_neurons:
        raise InputError(
            f"expected one label per neuron ({n_neurons}) or one for all, got {len(labels)}",
            path=path,
            field=field,
        )
    return np.array(labels, dtype=object)


def _check_repetitions(
    reps: np.ndarray, responses: np.ndarray, sessions: dict[str, np.ndarray], path: Path
) -> None:
    """``repetitions`` (one per neuron) must agree with the repeat slots that hold values.

    No neuron has a value past its repetitions, and the last repeat slot a session declares holds
    values (the 2-repeat sessions of the released file are NaN in slots 3-4 throughout).
    """
    n_rep, _, n_neurons = responses.shape
    if reps.shape != (n_neurons,):
        raise InputError(
            f"expected one value per neuron ({n_neurons}), got {reps.shape}", path=path, field="repetitions"
        )
    if reps.min() < 1 or reps.max() > n_rep:
        raise InputError(
            f"expected 1 to {n_rep} (the repeat slots of responses), got {reps.min()} to {reps.max()}",
            path=path,
            field="repetitions",
        )
    has_value = ~np.isnan(responses).all(axis=1)  # (repeats, neurons)
    # slots up to the last one with a value, per neuron (0: no values at all)
    used = np.where(has_value.any(axis=0), n_rep - np.argmax(has_value[::-1], axis=0), 0)
    beyond = np.flatnonzero(used > reps)
    if len(beyond):
        j = int(beyond[0])
        raise InputError(
            f"neuron {j} declares {reps[j]} repeats but has values in repeat slot {used[j]}",
            path=path,
            field="repetitions",
        )
    for name, neurons in sessions.items():
        if used[neurons].max() != reps[neurons].max():
            raise InputError(
                f"session '{name}' declares {reps[neurons].max()} repeats but has values in "
                f"{used[neurons].max()} repeat slots",
                path=path,
                field="repetitions",
            )


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
        repetitions += [_slots_with_values(block)] * s.n_neurons
    content = {
        "images": _stored_images(np.asarray(dataset.images)[order]),
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


def _stored_images(images: np.ndarray) -> np.ndarray:
    """The format's 0-255 values: uint8 as it is, float [0, 1] images times 255."""
    return images if images.dtype == np.uint8 else images.astype(np.float64) * 255.0


def _slots_with_values(block: np.ndarray) -> int:
    """Repeat slots of a ``(repeats, images, neurons)`` block up to the last one holding a value."""
    filled = np.flatnonzero(~np.isnan(block).all(axis=(1, 2)))
    return int(filled[-1]) + 1 if len(filled) else 0


def _max_trials_per_image(ids: np.ndarray) -> int:
    return int(np.unique(ids, return_counts=True)[1].max()) if len(ids) else 0
