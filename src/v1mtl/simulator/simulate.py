"""Simulate a V1 recording dataset from a ``V1Population`` shown natural-image crops.

Experiment design (as in array recordings of macaque V1 with natural images, e.g. Cadena et al. 2019):
every session records its own neurons; all sessions see the same ``images`` training images once each
(single trials, in a random order per session) and the same ``test_images`` images ``repeats`` times.
Stimuli are crops of the bundled photographs (``v1mtl.simulator.photo_crops``) at ``image_size`` pixels spanning
``field_of_view_deg`` degrees.

Seeds: one ``seed`` is split (``numpy.random.SeedSequence.spawn``) into independent streams for the
population, its calibration images, the stimuli and the spike-count noise, so e.g. changing ``--images``
keeps the same neurons.

Output folder written by ``write_simulation`` (everything appears at once: it is assembled in a temporary
sibling folder and renamed into place)::

    manifest.json, images.npy, ...        the native dataset (``v1mtl.data.neural.native``)
    ground_truth/population.npz           every neuron's parameters (``V1Population.load``)
    ground_truth/train_image_ids.npy      (images,) ids of the training images
    ground_truth/train_rates.npy          (images, neurons) noise-free expected counts, rows in that id order
    ground_truth/test_image_ids.npy       (test_images,)
    ground_truth/test_rates.npy           (test_images, neurons)
    config.yaml                           the resolved simulation config (written last)

Neuron columns of the rates follow the population order: session 0's neurons, then session 1's, ...
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from tqdm import tqdm

from v1mtl.common.atomic import atomic_folder, save_npy, write_text
from v1mtl.common.errors import InputError
from v1mtl.common.progress import bar_disabled
from v1mtl.data.neural import Session, V1Dataset
from v1mtl.simulator.config import SimulationConfig
from v1mtl.simulator.photo_crops import photo_crops
from v1mtl.simulator.population import V1Population

GROUND_TRUTH = "ground_truth"
CONFIG_FILE = "config.yaml"
CALIBRATION_IMAGES = 512


@dataclass
class SimulatedV1:
    """A simulated dataset with its ground truth.

    Attributes:
        dataset: the recordings (images are uint8; ids 1..images for training, then the test images).
        population: the neurons (``population.session`` maps columns of the rates to sessions).
        train_image_ids: ``(images,)`` training image ids; ``train_rates``: ``(images, neurons)`` noise-free.
        test_image_ids: ``(test_images,)``; ``test_rates``: ``(test_images, neurons)`` noise-free.
    """

    dataset: V1Dataset
    population: V1Population
    train_image_ids: np.ndarray
    train_rates: np.ndarray
    test_image_ids: np.ndarray
    test_rates: np.ndarray

    def session_columns(self, index: int) -> np.ndarray:
        """Columns of the rates that belong to session ``index``: ``(neurons_in_session,)`` int."""
        return np.flatnonzero(self.population.session == index)


def simulate_v1(config: SimulationConfig, progress: bool = True) -> SimulatedV1:
    """Sample a population, show it photo crops and record spike counts (see the module docstring)."""
    config.check()
    pop_seed, calib_seed, stim_seed, noise_seed = np.random.SeedSequence(config.seed).spawn(4)
    calibration = photo_crops(CALIBRATION_IMAGES, config.image_size, np.random.default_rng(calib_seed))
    population = V1Population.sample(
        neurons_per_session=config.neurons,
        sessions=config.sessions,
        image_size=config.image_size,
        field_of_view_deg=config.field_of_view_deg,
        fano=config.fano,
        rng=np.random.default_rng(pop_seed),
        calibration_images=calibration,
        tuning=config.tuning,
        response=config.response,
        ablation=config.ablation,
    )
    n_all = config.images + config.test_images
    images = photo_crops(n_all, config.image_size, np.random.default_rng(stim_seed))
    image_ids = np.arange(1, n_all + 1, dtype=np.int64)
    rates = population.rates(images, progress=progress)
    train_ids, test_ids = image_ids[: config.images], image_ids[config.images :]
    train_rates, test_rates = rates[: config.images], rates[config.images :]

    noise_rng = np.random.default_rng(noise_seed)
    sessions = []
    for s in tqdm(
        range(config.sessions), desc="spike counts", unit="session", disable=bar_disabled(progress)
    ):
        cols = np.flatnonzero(population.session == s)
        order = noise_rng.permutation(config.images)
        test_mean = np.broadcast_to(
            test_rates[:, None, cols], (config.test_images, config.repeats, len(cols))
        )
        sessions.append(
            Session(
                session_id=f"sim{s:02d}",
                subject_id="simulated",
                train_image_ids=train_ids[order],
                train_responses=population.sample_counts(train_rates[order][:, cols], noise_rng),
                test_image_ids=test_ids.copy(),
                test_responses=population.sample_counts(test_mean, noise_rng),
            )
        )
    dataset = V1Dataset(
        images=images,
        image_ids=image_ids,
        sessions=sessions,
        pixels_per_degree=config.pixels_per_degree,
        metadata={
            "source": "v1mtl simulate-v1",
            "field_of_view_deg": config.field_of_view_deg,
            "simulation": config.to_dict(),
        },
    )
    return SimulatedV1(dataset, population, train_ids, train_rates, test_ids, test_rates)


def write_simulation(sim: SimulatedV1, folder: str | Path) -> None:
    """Write the native dataset plus ``ground_truth/`` into ``folder`` (no config; see ``simulate_to_folder``)."""
    from v1mtl.data.neural import write_native

    folder = Path(folder)
    gt = folder / GROUND_TRUTH
    sim.population.save(gt / "population.npz")
    save_npy(gt / "train_image_ids.npy", sim.train_image_ids)
    save_npy(gt / "train_rates.npy", sim.train_rates.astype(np.float32))
    save_npy(gt / "test_image_ids.npy", sim.test_image_ids)
    save_npy(gt / "test_rates.npy", sim.test_rates.astype(np.float32))
    write_native(sim.dataset, folder)


def read_simulation(folder: str | Path) -> SimulatedV1:
    """Read a folder written by ``simulate_to_folder`` (the dataset and its ground truth)."""
    from v1mtl.data.neural import read_native

    folder = Path(folder)
    gt = folder / GROUND_TRUTH
    for name in (
        "population.npz",
        "train_image_ids.npy",
        "train_rates.npy",
        "test_image_ids.npy",
        "test_rates.npy",
    ):
        if not (gt / name).is_file():
            raise InputError("missing ground-truth file (not a simulate-v1 folder?)", path=gt / name)
    return SimulatedV1(
        dataset=read_native(folder),
        population=V1Population.load(gt / "population.npz"),
        train_image_ids=np.load(gt / "train_image_ids.npy"),
        train_rates=np.load(gt / "train_rates.npy").astype(np.float64),
        test_image_ids=np.load(gt / "test_image_ids.npy"),
        test_rates=np.load(gt / "test_rates.npy").astype(np.float64),
    )


def simulate_to_folder(
    config: SimulationConfig,
    out_dir: str | Path,
    export_nnvision: str | Path | None = None,
    progress: bool = True,
) -> bool:
    """Simulate into ``out_dir`` (and optionally export the nnvision layout); False if it was already there.

    A folder that holds a complete simulation with the same resolved config is kept as it is; any other
    non-empty folder is refused. Each output folder is assembled in a temporary sibling and renamed into
    place, so an interrupted run never leaves a half-written dataset.
    """
    config.check()
    resolved = config.to_dict()
    out_dir = Path(out_dir)
    sim: SimulatedV1 | None = None

    def write_native_folder(tmp: Path) -> None:
        nonlocal sim
        sim = simulate_v1(config, progress=progress)
        write_simulation(sim, tmp)

    created = _publish(out_dir, resolved, write_native_folder)
    if export_nnvision is not None:
        from v1mtl.data.neural import read_native
        from v1mtl.data.neural.nnvision import write_nnvision

        dataset = sim.dataset if sim is not None else read_native(out_dir)
        _publish(Path(export_nnvision), resolved, lambda tmp: write_nnvision(dataset, tmp))
    return created


def _publish(out: Path, resolved: dict[str, Any], write: Callable[[Path], None]) -> bool:
    """Run ``write(tmp)`` in a temporary sibling of ``out``, add ``config.yaml``, rename it to ``out``."""
    if out.exists():
        if not out.is_dir():
            raise InputError("exists and is not a folder", path=out)
        if _same_config(out / CONFIG_FILE, resolved):
            return False
        if any(out.iterdir()):
            raise InputError(
                "folder is not empty and holds no simulation with this config; remove it or choose another",
                path=out,
            )
    with atomic_folder(out) as tmp:
        write(tmp)
        write_text(tmp / CONFIG_FILE, yaml.safe_dump(resolved, sort_keys=False))
    return True


def _same_config(path: Path, resolved: dict[str, Any]) -> bool:
    if not path.is_file():
        return False
    try:
        return yaml.safe_load(path.read_text()) == resolved
    except (OSError, yaml.YAMLError):
        return False
