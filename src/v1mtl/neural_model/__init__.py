"""The single-task V1 model (trunk[:k] + Gaussian readouts), its evaluation and the neural targets it makes."""
