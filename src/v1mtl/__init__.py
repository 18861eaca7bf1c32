"""v1mtl: brain-regularized robust vision (re-implementation of Safarani et al., NeurIPS 2021)."""

__version__ = "0.1.0"
