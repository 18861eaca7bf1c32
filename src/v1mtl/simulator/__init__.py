"""The built-in V1 simulator: a population of Gabor-like cells with tuning drawn from V1 measurements, and the recordings it writes."""

from v1mtl.common.lazy import lazy_exports

# public name -> the submodule that defines it (imported on first use: the readers pull in torch)
_EXPORTS = {
    "ResponseSpec": "config",
    "SimulationConfig": "config",
    "TuningSpec": "config",
    "V1Population": "population",
    "read_simulation": "simulate",
    "simulate_to_folder": "simulate",
    "simulate_v1": "simulate",
    "write_simulation": "simulate",
}
__all__ = sorted(_EXPORTS)
__getattr__ = lazy_exports(__name__, _EXPORTS)
