"""Public names of a package, imported from their submodules on first use.

A stage package's ``__init__`` names its public API without importing it: the command line starts without
torch, and a module that needs one name does not pay for the whole stage (PEP 562 module ``__getattr__``).
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module
from typing import Any


def lazy_exports(package: str, exports: dict[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` for ``package`` that resolves ``exports`` (name -> submodule) on first use."""

    def __getattr__(name: str) -> Any:
        if name in exports:
            return getattr(import_module(f"{package}.{exports[name]}"), name)
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    return __getattr__
