"""The whole study as resumable stages with file boundaries (``v1mtl run``)."""

from v1mtl.common.lazy import lazy_exports

# public name -> the submodule that defines it
_EXPORTS = {
    "STUDY_CONFIG": "config",
    "StudyConfig": "config",
    "StudyPlan": "plan",
    "build_plan": "plan",
    "run_study": "pipeline",
}
__all__ = sorted(_EXPORTS)
__getattr__ = lazy_exports(__name__, _EXPORTS)
