"""Sensitivity analyses of trained networks: constrained reconstruction, content vs noise, saliency."""
