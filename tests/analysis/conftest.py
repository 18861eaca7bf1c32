import pytest
import torch


@pytest.fixture(autouse=True)
def _one_thread():
    """The analyses run many tiny convolutions, which are slower with two contending threads."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
