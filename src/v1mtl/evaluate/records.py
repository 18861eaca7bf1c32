"""What an evaluation or analysis writes next to its results: the protocol it followed and its resolved settings.

It lives in ``evaluate/``, the earlier of the two stages that write it (V1 predictivity, robustness against
brain-likeness, and the analyses after them).
"""

from __future__ import annotations

import inspect
from pathlib import Path
from types import ModuleType
from typing import Any

from v1mtl.common.atomic import write_json, write_text


def write_protocol(
    out_dir: str | Path, title: str, modules: list[ModuleType], settings: dict[str, Any]
) -> None:
    """Write ``protocol.md`` (the protocol text of ``modules``' docstrings) and ``config.json`` (``settings``)."""
    out = Path(out_dir)
    parts = [f"# {title}", ""]
    for module in modules:
        parts += [f"## {module.__name__}", "", inspect.getdoc(module) or "", ""]
    parts += ["## Settings of this run", "", "See `config.json` (every setting, resolved).", ""]
    write_text(out / "protocol.md", "\n".join(parts))
    write_json(out / "config.json", settings)
