"""A tiny trained-network checkpoint (random weights, the ``best.pt`` layout) and a tiny simulated V1 folder."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from v1mtl.common.config import config_to_dict, load_config
from v1mtl.models import build_network
from v1mtl.training import TrainConfig
from v1mtl.training.checkpoint import FORMAT_VERSION, NETWORK_KIND


@pytest.fixture(autouse=True)
def one_thread():
    """Tiny convolutions run faster on one thread than on two contending ones."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


TINY_MODEL = ["model.arch=vgg11", "model.width=0.0625", "model.hidden=16", "data.image_size=32"]


def write_tiny_network(folder: Path, seed: int = 0, overrides: tuple[str, ...] = ()) -> Path:
    """A vgg11 (width 1/16) network on 32 px images saved as ``folder/best.pt`` (``overrides``: more
    ``--set`` items of its config); returns the folder."""
    cfg = load_config(TrainConfig, overrides=[*TINY_MODEL, *overrides])
    torch.manual_seed(seed)
    net = build_network(cfg.model, n_classes=3, sessions=None, image_size=32)
    payload = {
        "kind": NETWORK_KIND,
        "format_version": FORMAT_VERSION,
        "model_config": config_to_dict(cfg.model),
        "state_dict": net.state_dict(),
        "n_classes": 3,
        "class_names": ["a", "b", "c"],
        "sessions": {},
        "image_size": 32,
        "neural_image_size": None,
        "normalization": {"mean": 0.45, "std": 0.22},
        "config": config_to_dict(cfg),
        "epoch": 1,
        "val_accuracy": 0.4,
        "loss_weights": {},
    }
    folder.mkdir(parents=True, exist_ok=True)
    torch.save(payload, folder / "best.pt")
    return folder


def write_tiny_v1(folder: Path) -> Path:
    """A simulated V1 dataset (2 sessions x 6 neurons, 32 px stimuli spanning 2 degrees) written as a native folder."""
    from v1mtl.simulator import SimulationConfig, simulate_v1, write_simulation

    cfg = SimulationConfig(neurons=6, sessions=2, images=200, test_images=16, repeats=4, image_size=32)
    write_simulation(simulate_v1(cfg, progress=False), folder)
    return folder


def write_tiny_images(path: Path, n: int = 3, size: int = 32, seed: int = 0) -> Path:
    """Smooth random gray images with ids as an ``.npz`` (``images`` uint8, ``ids``)."""
    import numpy as np
    from scipy import ndimage

    rng = np.random.default_rng(seed)
    imgs = np.stack([ndimage.gaussian_filter(rng.normal(size=(size, size)), 2.0) for _ in range(n)])
    imgs = (imgs - imgs.min()) / (imgs.max() - imgs.min())
    np.savez(path, images=np.round(255 * imgs).astype(np.uint8), ids=np.array([f"img{i}" for i in range(n)]))
    return path
