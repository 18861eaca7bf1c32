"""Sensitivity analyses of trained networks: constrained reconstruction, content vs noise, saliency."""

from v1mtl.common.lazy import lazy_exports

# public name -> the submodule that defines it
_EXPORTS = {
    "ReconstructionConfig": "stage_config",
    "run_reconstruction_stage": "reconstruction_stage",
    "SaliencyConfig": "stage_config",
    "run_saliency_stage": "saliency_stage",
}
__all__ = sorted(_EXPORTS)
__getattr__ = lazy_exports(__name__, _EXPORTS)
