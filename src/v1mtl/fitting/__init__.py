"""What every fit shares: early stopping with restore-best rounds, the end-of-epoch loop around it, the
per-epoch metrics log and the losses (the V1 model fit and the co-training run use all of them)."""

from v1mtl.common.lazy import lazy_exports

# public name -> the submodule that defines it
_EXPORTS = {
    "EarlyStopping": "early_stopping",
    "RestoreBestLoop": "loop",
    "MetricsLog": "metrics_log",
    "load_checkpoint": "checkpoint",
    "save_checkpoint": "checkpoint",
}
__all__ = sorted(_EXPORTS)
__getattr__ = lazy_exports(__name__, _EXPORTS)
