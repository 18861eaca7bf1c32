"""Evaluation of trained networks: robustness to image corruptions and V1 predictivity."""
