"""Shared by every test folder: the figures a test's code draws (``drawn``), and the outcome check of the
fuzzing tests (``@pytest.mark.fuzz``).

A fuzzing test feeds a generated malformed (or harmlessly varied) input to a reader or a config loader
and hands the call to ``fuzz_check``: the only allowed outcomes are a result or an ``InputError`` whose
message is one line naming the file. Any other exception fails the test. With ``V1MTL_FUZZ_LOG=FILE`` each
outcome is appended to FILE as a JSON line (``format``, ``outcome``), which
``benchmarks/fuzz_outcomes.py`` counts.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

from v1mtl.common import figure_style as style
from v1mtl.common.errors import InputError

FUZZ_LOG = "V1MTL_FUZZ_LOG"

# Every hypothesis test of the suite: seeded (the same cases every run, no example database), without a
# per-case deadline (a slow CI machine is no failure); its session fixtures (fuzz_check) hold no state
# between examples. A test sets only its own ``max_examples``.
settings.register_profile(
    "v1mtl",
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
settings.load_profile("v1mtl")


def _record(fmt: str, outcome: str) -> None:
    log = os.environ.get(FUZZ_LOG)
    if log:
        with open(log, "a") as fh:
            fh.write(json.dumps({"format": fmt, "outcome": outcome}) + "\n")


class FuzzCheck:
    """``check(format, call, file)`` runs ``call()``; returns ``("accepted", result)`` or
    ``("input_error", message)`` after asserting the message is one line that names ``file``."""

    def __call__(self, fmt: str, call: Callable[[], Any], file: str | Path) -> tuple[str, Any]:
        try:
            result = call()
        except InputError as err:
            message = str(err)
            assert "\n" not in message, f"{fmt}: the error is more than one line: {message!r}"
            assert Path(file).name in message, (
                f"{fmt}: the error does not name {Path(file).name}: {message!r}"
            )
            _record(fmt, "input_error")
            return "input_error", message
        _record(fmt, "accepted")
        return "accepted", result


@pytest.fixture(scope="session")
def fuzz_check() -> FuzzCheck:
    return FuzzCheck()


@pytest.fixture
def drawn(monkeypatch):
    """The figures the code under test saves, in order (they are still written)."""
    figs = []
    save = style.save

    def keep(fig, path):
        figs.append(fig)
        return save(fig, path)

    monkeypatch.setattr(style, "save", keep)
    return figs
