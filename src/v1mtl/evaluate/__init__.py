"""Evaluation of trained networks: robustness to image corruptions and to adversarial attacks, V1 predictivity."""

from v1mtl.common.lazy import lazy_exports

# public name -> the submodule that defines it
_EXPORTS = {
    "AdversarialConfig": "adversarial",
    "run_adversarial_stage": "adversarial",
    "RobustnessConfig": "robustness_stage",
    "run_robustness_stage": "robustness_stage",
    "PredictivityConfig": "predictivity_stage",
    "run_predictivity_stage": "predictivity_stage",
    "BrainRobustnessConfig": "brain_vs_robustness",
    "run_brain_robustness": "brain_vs_robustness",
    "write_protocol": "records",
}
__all__ = sorted(_EXPORTS)
__getattr__ = lazy_exports(__name__, _EXPORTS)
