"""The built-in V1 simulator: a population of Gabor-like cells with tuning drawn from V1 measurements, and the recordings it writes."""

from v1mtl.simulator.config import ResponseSpec, SimulationConfig, TuningSpec
from v1mtl.simulator.population import V1Population
from v1mtl.simulator.simulate import read_simulation, simulate_to_folder, simulate_v1, write_simulation

__all__ = [
    "ResponseSpec",
    "SimulationConfig",
    "TuningSpec",
    "V1Population",
    "read_simulation",
    "simulate_to_folder",
    "simulate_v1",
    "write_simulation",
]
