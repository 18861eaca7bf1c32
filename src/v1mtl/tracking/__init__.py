"""Run tracking in MLflow: each trained network's config, metrics per epoch and final scores, and the study's
summary, read from the files the stages wrote (``mlflow_runs``)."""

from v1mtl.common.lazy import lazy_exports

# public name -> the submodule that defines it
_EXPORTS = {
    "StudyTracker": "mlflow_runs",
    "log_training_run": "mlflow_runs",
    "open_store": "mlflow_runs",
    "tracking_uri": "mlflow_runs",
}
__all__ = sorted(_EXPORTS)
__getattr__ = lazy_exports(__name__, _EXPORTS)
