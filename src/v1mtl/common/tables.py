"""Tidy CSV tables written atomically (one row per observation, one column per variable)."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from pathlib import Path

from v1mtl.common.atomic import write_text


def write_csv(path: str | Path, rows: Sequence[dict]) -> None:
    """Write ``rows`` as CSV; the columns are the union of the rows' keys in first-seen order."""
    columns = list(dict.fromkeys(key for row in rows for key in row))
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    write_text(path, buf.getvalue())


def read_csv(path: str | Path) -> list[dict[str, str]]:
    """Rows of a CSV file as dicts of strings."""
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))
