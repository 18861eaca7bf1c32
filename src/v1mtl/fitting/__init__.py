"""What every fit shares: early stopping with restore-best rounds and the losses (the V1 model fit and the co-training run use both)."""
