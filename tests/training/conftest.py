import pytest


@pytest.fixture(autouse=True)
def _builtin_cache(tmp_path_factory, monkeypatch):
    """Decode the tiny built-in sets once per test session into a private cache, not the user's."""
    monkeypatch.setenv("V1MTL_CACHE", str(tmp_path_factory.getbasetemp() / "v1mtl-cache"))


@pytest.fixture(autouse=True)
def _one_thread():
    """Tiny networks run faster on one thread than on two contending ones."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
