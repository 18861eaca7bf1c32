"""The one in-memory type for a V1 dataset, shared by every reader, writer and the simulator.

A dataset holds a stimulus set (grayscale images with integer ids) and a list of recording sessions. Each
session has single-trial training responses (trials x neurons, with the image id of every trial) and
repeated test responses (test images x repeats x neurons). NaN marks a trial a neuron did not record; it is
masked by every loss and measure, never replaced by zero.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from v1mtl.common.errors import InputError
from v1mtl.data.neural.limits import shown

LABEL_MAX_CHARS = 200
INT64_MAX = np.iinfo(np.int64).max


@dataclass
class Session:
    """One recording session.

    Attributes:
        session_id: unique name of the session within the dataset.
        subject_id: the animal.
        train_image_ids: ``(trials,)`` int64, the image id shown on each training trial.
        train_responses: ``(trials, neurons)`` float32 spike counts (>= 0); NaN where a neuron missed a trial.
        test_image_ids: ``(test_images,)`` int64, unique ids of the repeated test images.
        test_responses: ``(test_images, repeats, neurons)`` float32; NaN where a repeat is missing.
    """

    session_id: str
    subject_id: str
    train_image_ids: np.ndarray
    train_responses: np.ndarray
    test_image_ids: np.ndarray
    test_responses: np.ndarray

    @property
    def n_neurons(self) -> int:
        return int(self.train_responses.shape[1])

    @property
    def n_repeats(self) -> int:
        return int(self.test_responses.shape[1])

    @property
    def n_train_trials(self) -> int:
        return int(self.train_responses.shape[0])

    @property
    def n_test_images(self) -> int:
        return int(self.test_responses.shape[0])


@dataclass
class V1Dataset:
    """A V1 dataset: stimuli plus sessions.

    Attributes:
        images: ``(n_images, height, width)`` grayscale stimuli, uint8 in [0, 255] or float32.
        image_ids: ``(n_images,)`` int64, unique; sessions refer to images by these ids.
        sessions: the recording sessions.
        pixels_per_degree: stimulus resolution when known (needed to relate tuning to visual angle).
        metadata: free-form JSON-serializable facts (source, simulator settings, ...).
    """

    images: np.ndarray
    image_ids: np.ndarray
    sessions: list[Session]
    pixels_per_degree: float | None = None
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def n_neurons(self) -> int:
        return sum(s.n_neurons for s in self.sessions)

    @property
    def image_shape(self) -> tuple[int, int]:
        return (int(self.images.shape[1]), int(self.images.shape[2]))

    def image_rows(self, ids: np.ndarray) -> np.ndarray:
        """Map image ids to row indices of ``images``. ``(k,)`` ids -> ``(k,)`` rows."""
        order = np.argsort(self.image_ids, kind="stable")
        sorted_ids = self.image_ids[order]
        pos = np.searchsorted(sorted_ids, ids)
        pos = np.clip(pos, 0, len(sorted_ids) - 1)
        if len(ids) and not np.array_equal(sorted_ids[pos], ids):
            missing = np.setdiff1d(ids, self.image_ids)
            raise KeyError(f"image ids without images: {missing[:5].tolist()}")
        return order[pos]

    def validate(
        self, path: str | Path | None = None, files: Mapping[str, str | Path] | None = None
    ) -> V1Dataset:
        """Check every invariant; raise ``InputError`` naming the file and the field. Returns ``self``.

        ``files`` says which file holds a field (keys as in the error messages: ``images``,
        ``sessions[<id>].train_responses``, ...); fields it does not list are attributed to ``path``.
        """
        where = partial(_file_of, files or {}, path)
        check_images(self.images, where("images"), "images")
        ids = np.asarray(self.image_ids)
        check_ids(ids, where("image_ids"), "image_ids", unique=True)
        if ids.shape != (self.images.shape[0],):
            raise InputError(
                f"expected {self.images.shape[0]} ids (one per image), got shape {ids.shape}",
                path=where("image_ids"),
                field="image_ids",
            )
        check_pixels_per_degree(self.pixels_per_degree, where("pixels_per_degree"))
        if not isinstance(self.metadata, dict):
            raise InputError(
                f"expected a dict, got {type(self.metadata).__name__}",
                path=where("metadata"),
                field="metadata",
            )
        if not self.sessions:
            raise InputError("the dataset has no sessions", path=where("sessions"), field="sessions")
        known = set(ids.tolist())
        seen_sessions: set[str] = set()
        for k, s in enumerate(self.sessions):
            for name, label in (("session_id", s.session_id), ("subject_id", s.subject_id)):
                check_label(label, where(f"sessions[{k}].{name}"), f"sessions[{k}].{name}")
            if s.session_id in seen_sessions:
                field_name = f"sessions[{s.session_id}]"
                raise InputError("duplicate session id", path=where(field_name), field=field_name)
            seen_sessions.add(s.session_id)
            _check_session(s, known, where)
        return self


def session_field(session_id: str, name: str) -> str:
    """The field name of one session's array in error messages, e.g. ``sessions[s0].train_responses``."""
    return f"sessions[{session_id}].{name}"


def _file_of(files: Mapping[str, str | Path], default: str | Path | None, field: str) -> str | Path | None:
    return files.get(field, default)


def check_label(value: object, path: str | Path | None, field: str) -> str:
    """A session or subject name: text of 1 to ``LABEL_MAX_CHARS`` printable characters.

    Names end up in folder names, logs, tables and one-line error messages, so control characters
    (a newline) and unbounded lengths are refused.
    """
    if not isinstance(value, str):
        raise InputError(f"expected text, got {type(value).__name__} {shown(value)}", path=path, field=field)
    if not value or len(value) > LABEL_MAX_CHARS or not value.isprintable():
        raise InputError(
            f"expected 1 to {LABEL_MAX_CHARS} printable characters, got {shown(value)}",
            path=path,
            field=field,
        )
    return value


def check_pixels_per_degree(
    value: object, path: str | Path | None, field: str = "pixels_per_degree"
) -> float | None:
    """None, or a finite positive number (a NumPy scalar or a one-element array too), as a float."""
    if value is None:
        return None
    if isinstance(value, np.ndarray) and value.size == 1:
        value = value.reshape(-1)[0]
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise InputError(f"expected a positive number or null, got {shown(value)}", path=path, field=field)
    try:
        number = float(value)
    except OverflowError as err:  # an integer beyond float range
        raise InputError(f"expected a positive number, got {shown(value)}", path=path, field=field) from err
    if not (math.isfinite(number) and number > 0):
        raise InputError(f"expected a positive number, got {shown(value)}", path=path, field=field)
    return number


def check_images(images: np.ndarray, path: str | Path | None, field: str) -> None:
    """``(n_images, height, width)`` real numbers, height and width at least 1, no NaN or inf."""
    if images.ndim != 3:
        raise InputError(
            f"expected (images, height, width), got shape {images.shape}", path=path, field=field
        )
    if images.shape[1] < 1 or images.shape[2] < 1:
        raise InputError(f"images of no pixels: shape {images.shape}", path=path, field=field)
    _check_real(images, path, field)
    if images.dtype.kind == "f" and not np.isfinite(images).all():
        raise InputError("images contain NaN or inf", path=path, field=field)


def check_ids(ids: np.ndarray, path: str | Path | None, field: str, unique: bool) -> None:
    """``(n,)`` integer ids that fit int64; ``unique`` forbids repeats."""
    if ids.ndim != 1:
        raise InputError(f"expected one id per entry, got shape {ids.shape}", path=path, field=field)
    if ids.dtype.kind not in "iu":
        raise InputError(f"expected integer ids, got dtype {ids.dtype}", path=path, field=field)
    if ids.dtype.kind == "u" and ids.size and ids.max() > INT64_MAX:
        raise InputError(f"ids beyond int64: {shown(int(ids.max()))}", path=path, field=field)
    if unique and len(np.unique(ids)) != len(ids):
        values, counts = np.unique(ids, return_counts=True)
        repeated = values[counts > 1][:5].tolist()
        raise InputError(f"ids are not unique: {repeated} occur more than once", path=path, field=field)


def check_counts(responses: np.ndarray, path: str | Path | None, field: str) -> None:
    """Spike counts: real numbers, NaN where a neuron was not recorded; inf and negative values are errors."""
    _check_real(responses, path, field)
    if responses.dtype.kind == "f" and np.isinf(responses).any():
        raise InputError("responses contain inf", path=path, field=field)
    if (responses < 0).any():
        raise InputError("responses contain negative values (spike counts are >= 0)", path=path, field=field)


def dtype_text(dtype: np.dtype) -> str:
    """What an array of ``dtype`` holds, for error messages (``complex numbers``, ``dtype <U3``, ...)."""
    names = {"b": "booleans", "c": "complex numbers", "O": "Python objects", "V": "structured records"}
    return names.get(dtype.kind, f"dtype {dtype}")


def _check_real(arr: np.ndarray, path: str | Path | None, field: str) -> None:
    if arr.dtype.kind not in "iuf":
        raise InputError(f"expected real numbers, got {dtype_text(arr.dtype)}", path=path, field=field)


def _check_session(s: Session, known_ids: set[int], where: Callable[[str], str | Path | None]) -> None:
    tr, te = s.train_responses, s.test_responses

    def fail(name: str, message: str) -> InputError:
        field_name = session_field(s.session_id, name)
        return InputError(message, path=where(field_name), field=field_name)

    if tr.ndim != 2:
        raise fail("train_responses", f"expected (trials, neurons), got shape {tr.shape}")
    if tr.shape[0] == 0 or tr.shape[1] == 0:
        raise fail("train_responses", f"empty session: shape {tr.shape}")
    if s.train_image_ids.shape != (tr.shape[0],):
        raise fail(
            "train_image_ids",
            f"expected {tr.shape[0]} ids (one per trial), got shape {s.train_image_ids.shape}",
        )
    if te.ndim != 3 or te.shape[2] != tr.shape[1]:
        raise fail("test_responses", f"expected (test_images, repeats, {tr.shape[1]}), got shape {te.shape}")
    if s.test_image_ids.shape != (te.shape[0],):
        raise fail(
            "test_image_ids",
            f"expected {te.shape[0]} ids (one per test image), got shape {s.test_image_ids.shape}",
        )
    for name, arr in (("train_responses", tr), ("test_responses", te)):
        field_name = session_field(s.session_id, name)
        check_counts(arr, where(field_name), field_name)
    for name, ids in (("train_image_ids", s.train_image_ids), ("test_image_ids", s.test_image_ids)):
        # a test image's repeats belong on the repeats axis, so a test id may occur only once
        field_name = session_field(s.session_id, name)
        check_ids(ids, where(field_name), field_name, unique=name == "test_image_ids")
        missing = set(np.unique(ids).tolist()) - known_ids
        if missing:
            raise fail(name, f"image ids without images: {sorted(missing)[:5]}")
