"""Networks: VGG trunks, classification heads, Gaussian readouts and the multi-task network."""

from v1mtl.models.factory import ModelConfig, build_network
from v1mtl.models.multitask import MultiTaskNet

__all__ = ["ModelConfig", "MultiTaskNet", "build_network"]
