"""Datasets: V1 recordings (``recordings``, readers, simulator) and classification images."""
