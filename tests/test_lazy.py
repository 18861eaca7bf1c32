"""Stage packages name their public API in ``__init__`` and resolve each name from its submodule on use."""

import importlib

import pytest

from v1mtl.common.lazy import lazy_exports

PACKAGES = (
    "data.images",
    "data.neural",
    "simulator",
    "fitting",
    "neural_model",
    "training",
    "evaluate",
    "analysis",
    "study",
    "report",
)


@pytest.mark.parametrize("package", PACKAGES)
def test_every_public_name_resolves_to_its_submodule(package):
    module = importlib.import_module(f"v1mtl.{package}")
    assert module.__all__
    for name in module.__all__:
        submodule = importlib.import_module(f"v1mtl.{package}.{module._EXPORTS[name]}")
        assert getattr(module, name) is getattr(submodule, name)


def test_an_unknown_name_is_an_attribute_error():
    getter = lazy_exports("v1mtl.fitting", {"EarlyStopping": "early_stopping"})
    assert getter("EarlyStopping").__name__ == "EarlyStopping"
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        getter("nothing")
