"""Shared fixtures: a tiny simulated V1 dataset and a finished tiny fit on it."""

from __future__ import annotations

import pytest
from v1_fit_helpers import TINY_SIM, tiny_config

from v1mtl.neural_model import fit_v1_model
from v1mtl.simulator import simulate_to_folder


@pytest.fixture(scope="session")
def tiny_sim(tmp_path_factory):
    folder = tmp_path_factory.mktemp("sim") / "tiny"
    simulate_to_folder(TINY_SIM, folder, progress=False)
    return folder


@pytest.fixture(scope="session")
def fitted(tiny_sim, tmp_path_factory):
    """A finished 4-epoch fit on ``tiny_sim``: ``(out_dir, summary)``."""
    out = tmp_path_factory.mktemp("fit") / "run"
    summary = fit_v1_model(tiny_config(max_epochs=4), tiny_sim, out)
    return out, summary
