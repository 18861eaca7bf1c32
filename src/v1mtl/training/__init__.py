"""One co-training run: config, data, objective, trainer, checkpoints."""
