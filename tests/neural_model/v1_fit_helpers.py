"""Helpers shared by the neural_model tests: a tiny simulation config and a tiny fit config (fast on a loaded
2-core machine). A uniquely named module, because several test folders have a ``conftest.py``."""

from __future__ import annotations

from v1mtl.models import ModelConfig
from v1mtl.neural_model import FitNeuralConfig
from v1mtl.simulator.simulate import SimulationConfig

TINY_SIM = SimulationConfig(
    neurons=6, sessions=2, images=160, test_images=12, repeats=4, image_size=16, seed=1
)


def tiny_config(**training) -> FitNeuralConfig:
    cfg = FitNeuralConfig(model=ModelConfig(arch="vgg11", width=0.125, shared_layer="relu2_1"))
    cfg.data.batch_size = 32
    cfg.training.lr = 5e-3
    cfg.training.max_epochs = 4
    for key, value in training.items():
        setattr(cfg.training, key, value)
    cfg.progress = False
    return cfg
