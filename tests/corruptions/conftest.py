"""One torch thread for the corruption tests.

One intra-op thread keeps these tests fast on a shared, oversubscribed machine, where OpenMP's spinning
worker threads can make small tensor operations hundreds of times slower.
"""

from __future__ import annotations

import pytest
import torch


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
