"""One co-training run: config, data, objective, trainer, checkpoints."""

from v1mtl.common.lazy import lazy_exports

# public name -> the submodule that defines it
_EXPORTS = {
    "CONDITIONS": "config",
    "Condition": "config",
    "SIMILARITY_NEURAL_KEYS": "config",
    "TrainConfig": "config",
    "train": "trainer",
    "LoadedNetwork": "checkpoint",
    "load_network": "checkpoint",
    "check_oracle_checkpoint": "conditions",
}
__all__ = sorted(_EXPORTS)
__getattr__ = lazy_exports(__name__, _EXPORTS)
