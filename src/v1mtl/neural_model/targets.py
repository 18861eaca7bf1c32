"""Neural targets for co-training: a V1 model's (or the simulator's) responses to classification images.

This makes the paper's ``mtl_monkey_dataset`` ("neural responses that were predicted by a single-task
trained model on real monkey V1", neural_cotraining README): every image of a classification
set gets the noise-free predicted response of every neuron, written as a native V1 dataset
(``v1mtl.data.neural.native``):

- the classification train split gives the training trials, one per image;
- the classification test split gives the test images, with one "repeat" (the prediction itself);
- ``images`` are the classification images, gray uint8 at the classification size, so a co-training run
  feeds them exactly like classification images; image ids are ``1..n_train`` for the train split rows in
  order, then ``n_train + 1..`` for the test split rows;
- sessions and neurons are the V1 model's (or the simulator's), in the same order.

Image size: the classification image is taken to fill the V1 model's whole input, i.e. it is resized
(bilinear, antialiased) from ``image_size x image_size`` to the model's input ``H x W`` and z-scored with the statistics
the model was fitted with. How the reference matched TinyImageNet images to its V1 model's input is not
documented (docs/reference-implementation.md, 'Open questions'); this is the simplest assumption, and
it fixes the visual angle of a
classification image to the V1 model's field of view. The simulator resamples any square image onto its
own grid, which is the same assumption.

Controls (``v1mtl.neural_model.controls``): ``shuffled`` permutes whole response vectors across the images
of each split; ``random`` replaces them with image-independent draws with the same per-neuron statistics.

``v1mtl predict-responses`` runs ``run_targets_stage``, ``predict_targets`` with the settings of a
``PredictTargetsConfig``; a study calls ``predict_targets`` with the same settings from its own config.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
import torch
import torch.nn.functional as F
from tqdm import tqdm

from v1mtl.common.atomic import atomic_folder
from v1mtl.common.config import config_from_dict, config_to_dict
from v1mtl.common.errors import InputError
from v1mtl.common.progress import bar_disabled
from v1mtl.common.ranges import BatchSize, ImageCount, Range, Seed

CONTROLS = ("shuffled", "random")


@dataclass
class PredictTargetsConfig:
    """Settings of ``v1mtl predict-responses``: which targets are made, on which images, in what batches.

    The keys mean what they mean in a study: ``seed`` and ``batch_size`` as ``targets.*``, ``image_size``,
    ``split_seed`` and ``builtin_counts`` as ``train.data.*`` (the targets must be made on the images the
    co-training run reads).

    Attributes:
        control: None (the predictions themselves), ``shuffled`` (response vectors permuted across the images
            of each split) or ``random`` (image-independent draws with the same per-neuron statistics).
        seed: seed of the control's randomness.
        image_size: classification image size in pixels.
        split_seed: seed of the classification set's split (``load_classification``).
        builtin_counts: train, validation and test image counts of the built-in set; None = its defaults
            (``v1mtl.data.images.BUILTIN_COUNTS``).
        batch_size: images per forward pass of the V1 model.
    """

    control: Literal["shuffled", "random"] | None = None
    seed: Seed = 0
    image_size: Annotated[int, Range(8, 1024)] = 64
    split_seed: Seed = 1000
    builtin_counts: tuple[ImageCount, ImageCount, ImageCount] | None = None
    batch_size: BatchSize = 256


class _Predictor:
    """Noise-free responses ``(n, neurons)`` of a V1 model or of the simulator to gray uint8 images."""

    def __init__(self, source: str | Path, device: str, batch_size: int, progress: bool):
        self.source = Path(source)
        self.device = device
        self.batch_size = batch_size
        self.progress = progress
        if self.source.is_dir():
            self._init_simulator()
        elif self.source.is_file():
            self._init_model()
        else:
            raise InputError("no such V1 model file or simulator folder", path=self.source)

    def _init_simulator(self) -> None:
        from v1mtl.data.neural import read_native
        from v1mtl.simulator import V1Population

        pop_file = self.source / "ground_truth" / "population.npz"
        if not pop_file.is_file():
            raise InputError("not a simulate-v1 folder (no ground_truth/population.npz)", path=self.source)
        self.kind = "simulator"
        self.population = V1Population.load(pop_file)
        dataset = read_native(self.source)
        self.sessions = {s.session_id: s.n_neurons for s in dataset.sessions}
        if sum(self.sessions.values()) != self.population.n_neurons:
            raise InputError("the population does not match the dataset's sessions", path=pop_file)
        self.subjects = {s.session_id: s.subject_id for s in dataset.sessions}
        self.input_size = self.population.image_size

    def _init_model(self) -> None:
        from v1mtl.neural_model.checkpoint import load_v1_model

        self.kind = "v1-model"
        self.model = load_v1_model(self.source, self.device)
        self.sessions = dict(self.model.sessions)
        self.subjects = {s: "predicted" for s in self.sessions}
        self.input_size = list(self.model.input_shape[1:])

    def __call__(self, images: np.ndarray, desc: str) -> np.ndarray:
        if self.kind == "simulator":
            return self.population.rates(images, progress=self.progress)
        m = self.model
        _, h, w = m.input_shape
        out = []
        starts = range(0, len(images), self.batch_size)
        with torch.no_grad():
            for start in tqdm(starts, desc=desc, unit="batch", disable=bar_disabled(self.progress)):
                x = torch.from_numpy(
                    np.asarray(images[start : start + self.batch_size], dtype=np.float32) / 255.0
                )
                x = x[:, None].to(self.device)
                if x.shape[-2:] != (h, w):
                    x = F.interpolate(x, size=(h, w), mode="bilinear", align_corners=False, antialias=True)
                x = (x - m.mean) / m.std
                preds = [m.net(x, task="neural", session=s) for s in self.sessions]
                out.append(torch.cat(preds, dim=1).float().cpu().numpy())
        return np.concatenate(out).astype(np.float64)


def _apply_control(responses: np.ndarray, control: str | None, rng: np.random.Generator) -> np.ndarray:
    from v1mtl.neural_model.controls import random_responses, shuffle_responses

    if control is None:
        return responses
    if control == "shuffled":
        return shuffle_responses(responses, rng)[0]
    return random_responses(responses, responses.shape[0], rng)


def predict_targets(
    source: str | Path,
    images_source: str | Path,
    out_dir: str | Path,
    *,
    # the defaults are PredictTargetsConfig's, so that the command and a direct call cannot drift apart
    control: str | None = PredictTargetsConfig.control,
    seed: int = PredictTargetsConfig.seed,
    image_size: int = PredictTargetsConfig.image_size,
    split_seed: int = PredictTargetsConfig.split_seed,
    builtin_counts: tuple[int, int, int] | None = PredictTargetsConfig.builtin_counts,
    device: str = "cpu",
    batch_size: int = PredictTargetsConfig.batch_size,
    progress: bool = True,
) -> bool:
    """Write the neural-target dataset of ``source`` on the images of ``images_source`` into ``out_dir``.

    Args:
        source: a V1 model file (``model.pt`` of ``fit-neural``) or a ``simulate-v1`` folder (the
            simulator's noise-free ground truth).
        images_source: a classification set for ``load_classification`` (``builtin``, TinyImageNet, ...).
        out_dir: the new dataset folder (written in a temporary sibling, then renamed into place).
        control: None, ``"shuffled"`` or ``"random"``.
        seed: seed of the control's randomness.
        image_size: classification image size; split_seed, builtin_counts: passed to ``load_classification``.
        device, batch_size, progress: how the V1 model runs.

    Returns False (and writes nothing) if ``out_dir`` already holds this exact dataset.
    """
    from v1mtl.data.images import BUILTIN_COUNTS, load_classification
    from v1mtl.data.neural import Session, V1Dataset
    from v1mtl.data.neural.native import MANIFEST, write_native

    if control not in (None, *CONTROLS):
        raise InputError(f"must be one of {', '.join(CONTROLS)}, got {control!r}", field="control")
    for key, value in (("image_size", image_size), ("batch_size", batch_size)):
        if value < 1:
            raise InputError(f"must be at least 1, got {value}", field=key)
    counts = tuple(builtin_counts or BUILTIN_COUNTS)
    out = Path(out_dir)
    provenance: dict[str, Any] = {
        "source": "v1mtl predict-responses",
        "targets_from": str(Path(source).resolve()),
        "images": str(images_source)
        if str(images_source) == "builtin"
        else str(Path(images_source).resolve()),
        "image_size": int(image_size),
        "split_seed": int(split_seed),
        "builtin_counts": list(counts) if str(images_source) == "builtin" else None,
        "control": control,
        "control_seed": int(seed) if control else None,
    }
    if out.exists():
        if _same_provenance(out / MANIFEST, provenance):
            print(f"predict-responses: {out} already holds these targets; nothing to do")
            return False
        if not out.is_dir() or any(out.iterdir()):
            raise InputError("exists and is not an empty folder; remove it or choose another", path=out)

    predictor = _Predictor(source, device, batch_size, progress)
    data = load_classification(images_source, size=image_size, seed=split_seed, builtin_counts=counts)
    train_images, test_images = np.asarray(data.train.images), np.asarray(data.test.images)
    if train_images.ndim != 3 or len(train_images) < 2 or len(test_images) < 2:
        raise InputError("needs gray images and at least 2 train and 2 test images", path=images_source)
    train = predictor(train_images, "predict train")
    test = predictor(test_images, "predict test")
    rng = np.random.default_rng(seed)
    train = _apply_control(train, control, rng)
    test = _apply_control(test, control, rng)

    n_train = len(train_images)
    train_ids = np.arange(1, n_train + 1, dtype=np.int64)
    test_ids = np.arange(n_train + 1, n_train + len(test_images) + 1, dtype=np.int64)
    sessions, start = [], 0
    for sid, n in predictor.sessions.items():
        cols = slice(start, start + n)
        start += n
        sessions.append(
            Session(
                session_id=sid,
                subject_id=predictor.subjects[sid],
                train_image_ids=train_ids,
                train_responses=train[:, cols].astype(np.float32),
                test_image_ids=test_ids,
                test_responses=test[:, None, cols].astype(np.float32),
            )
        )
    provenance |= {
        "targets_kind": predictor.kind,
        "v1_input_size": predictor.input_size,
        "resize": "each classification image fills the V1 model's input (bilinear, antialiased)",
        "image_ids": f"1..{n_train} = train split rows in order; {n_train + 1}.. = test split rows",
        "simulator_noise": "none: noise-free expected responses" if predictor.kind == "simulator" else None,
    }
    dataset = V1Dataset(
        images=np.concatenate([train_images, test_images]).astype(np.uint8),
        image_ids=np.concatenate([train_ids, test_ids]),
        sessions=sessions,
        metadata=provenance,
    )
    with atomic_folder(out) as tmp:
        write_native(dataset, tmp)
    return True


def run_targets_stage(
    cfg: PredictTargetsConfig,
    source: str | Path,
    images_source: str | Path,
    out_dir: str | Path,
    *,
    device: str = "cpu",
    progress: bool = True,
) -> bool:
    """``predict_targets`` with the settings of ``cfg``: what ``v1mtl predict-responses`` runs.

    Args:
        cfg: the settings (checked again here, so a hand-built config fails as a YAML one would).
        source, images_source, out_dir: as ``predict_targets``'.
        device, progress: how the V1 model runs.

    Returns False (and writes nothing) if ``out_dir`` already holds this exact dataset.

    Raises:
        InputError: a one-line message naming the config key (``field``) of a bad setting.
    """
    # a hand-built config is not checked against its types (a list of counts, a control "none")
    cfg = config_from_dict(PredictTargetsConfig, config_to_dict(cfg), source="PredictTargetsConfig")
    return predict_targets(source, images_source, out_dir, **asdict(cfg), device=device, progress=progress)


def _same_provenance(manifest: Path, provenance: dict[str, Any]) -> bool:
    import json

    if not manifest.is_file():
        return False
    try:
        meta = json.loads(manifest.read_text()).get("metadata", {})
    except (OSError, ValueError):
        return False
    return all(meta.get(k) == v for k, v in provenance.items())
