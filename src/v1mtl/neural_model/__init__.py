"""The single-task V1 model (trunk[:k] + Gaussian readouts), its evaluation and the neural targets it makes."""

from v1mtl.common.lazy import lazy_exports

# public name -> the submodule that defines it
_EXPORTS = {
    "FitNeuralConfig": "fit",
    "fit_v1_model": "fit",
    "PredictTargetsConfig": "targets",
    "predict_targets": "targets",
    "run_targets_stage": "targets",
}
__all__ = sorted(_EXPORTS)
__getattr__ = lazy_exports(__name__, _EXPORTS)
