"""One torch thread for the corruption tests.

One intra-op thread keeps these tests fast on a shared, oversubscribed machine, where OpenMP's spinning
worker threads can make small tensor operations hundreds of times slower.
"""

from __future__ import annotations

import pytest
import torch
from corruption_fixtures import photo_crops, to_tensor


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def photos32() -> torch.Tensor:
    """Four 32 × 32 RGB photograph crops in [0, 1] (8-bit values)."""
    return to_tensor(photo_crops(4, 32, seed=1))
