"""The one in-memory type for a V1 dataset, shared by every reader, writer and the simulator.

A dataset holds a stimulus set (grayscale images with integer ids) and a list of recording sessions. Each
session has single-trial training responses (trials x neurons, with the image id of every trial) and
repeated test responses (test images x repeats x neurons). NaN marks a trial a neuron did not record; it is
masked by every loss and measure, never replaced by zero.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from v1mtl.common.errors import InputError


@dataclass
class Session:
    """One recording session.

    Attributes:
        session_id: unique name of the session within the dataset.
        subject_id: the animal.
        train_image_ids: ``(trials,)`` int64, the image id shown on each training trial.
        train_responses: ``(trials, neurons)`` float32 spike counts; NaN where a neuron missed a trial.
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

    def validate(self, path: str | Path | None = None) -> V1Dataset:
        """Check every invariant; raise ``InputError`` naming ``path`` and the field. Returns ``self``."""
        imgs = self.images
        if imgs.ndim != 3:
            raise InputError(
                f"expected (images, height, width), got shape {imgs.shape}", path=path, field="images"
            )
        if not np.issubdtype(imgs.dtype, np.number):
            raise InputError(f"expected numeric images, got dtype {imgs.dtype}", path=path, field="images")
        if np.issubdtype(imgs.dtype, np.floating) and not np.isfinite(imgs).all():
            raise InputError("images contain NaN or inf", path=path, field="images")
        ids = np.asarray(self.image_ids)
        if ids.shape != (imgs.shape[0],):
            raise InputError(
                f"expected {imgs.shape[0]} ids (one per image), got shape {ids.shape}",
                path=path,
                field="image_ids",
            )
        if len(np.unique(ids)) != len(ids):
            raise InputError("image ids are not unique", path=path, field="image_ids")
        if not self.sessions:
            raise InputError("the dataset has no sessions", path=path, field="sessions")
        known = set(ids.tolist())
        seen_sessions: set[str] = set()
        for s in self.sessions:
            where = f"sessions[{s.session_id}]"
            if s.session_id in seen_sessions:
                raise InputError("duplicate session id", path=path, field=where)
            seen_sessions.add(s.session_id)
            _check_session(s, known, path, where)
        return self


def _check_session(s: Session, known_ids: set[int], path: str | Path | None, where: str) -> None:
    tr, te = s.train_responses, s.test_responses
    if tr.ndim != 2:
        raise InputError(
            f"expected (trials, neurons), got shape {tr.shape}", path=path, field=f"{where}.train_responses"
        )
    if tr.shape[0] == 0 or tr.shape[1] == 0:
        raise InputError(f"empty session: shape {tr.shape}", path=path, field=f"{where}.train_responses")
    if s.train_image_ids.shape != (tr.shape[0],):
        raise InputError(
            f"expected {tr.shape[0]} ids (one per trial), got shape {s.train_image_ids.shape}",
            path=path,
            field=f"{where}.train_image_ids",
        )
    if te.ndim != 3 or te.shape[2] != tr.shape[1]:
        raise InputError(
            f"expected (test_images, repeats, {tr.shape[1]}), got shape {te.shape}",
            path=path,
            field=f"{where}.test_responses",
        )
    if s.test_image_ids.shape != (te.shape[0],):
        raise InputError(
            f"expected {te.shape[0]} ids (one per test image), got shape {s.test_image_ids.shape}",
            path=path,
            field=f"{where}.test_image_ids",
        )
    for name, arr in (("train_responses", tr), ("test_responses", te)):
        if np.isinf(arr).any():
            raise InputError("responses contain inf", path=path, field=f"{where}.{name}")
    for name, arr in (("train_image_ids", s.train_image_ids), ("test_image_ids", s.test_image_ids)):
        missing = set(np.unique(arr).tolist()) - known_ids
        if missing:
            raise InputError(
                f"image ids without images: {sorted(missing)[:5]}", path=path, field=f"{where}.{name}"
            )
