"""What every fit shares: early stopping with restore-best rounds, the end-of-epoch loop around it, the
per-epoch metrics log and the losses (the V1 model fit and the co-training run use all of them)."""
