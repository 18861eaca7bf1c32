"""The tidy robustness table: one row per (model, corruption, severity), read and written as CSV.

Columns (in this order):

- ``model``: the evaluated network's name;
- ``source``: ``on-the-fly``, ``pre-rendered`` or ``gaussian-sweep``;
- ``preset``: the corruption parameter table (``tiny-imagenet``, ``imagenet``, ...; ``none`` for the sweep);
- ``jpeg_roundtrip``: ``true`` when corrupted images went through a JPEG quality-85 encode/decode (always
  ``true`` for pre-rendered Tiny-ImageNet-C, whose files are JPEG quality 85);
- ``space``: ``rgb`` (corrupted in colour, then converted to gray, as the paper) or ``gray``;
- ``corruption``: a corruption name, ``clean`` (severity 0) or ``gaussian_sweep``;
- ``severity``: 1..5 for corruptions, 0 for ``clean``, the noise std for ``gaussian_sweep``;
- ``n``, ``correct``: number of images and of correct top-1 predictions;
- ``accuracy``: ``correct / n`` (a fraction in [0, 1]).
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from v1mtl.common.atomic import write_text
from v1mtl.common.errors import InputError

COLUMNS = (
    "model",
    "source",
    "preset",
    "jpeg_roundtrip",
    "space",
    "corruption",
    "severity",
    "n",
    "correct",
    "accuracy",
)
SOURCES = ("on-the-fly", "pre-rendered", "gaussian-sweep")
SPACES = ("rgb", "gray")
CLEAN = "clean"
GAUSSIAN_SWEEP = "gaussian_sweep"


@dataclass(frozen=True)
class RobustnessRow:
    """One measured accuracy. See the module docstring for the meaning of each field."""

    model: str
    source: str
    preset: str
    jpeg_roundtrip: bool
    space: str
    corruption: str
    severity: float
    n: int
    correct: int

    @property
    def accuracy(self) -> float:
        return self.correct / self.n if self.n else math.nan

    @property
    def protocol(self) -> tuple[str, str, bool, str]:
        """``(source, preset, jpeg_roundtrip, space)``: rows are comparable only within one protocol."""
        return (self.source, self.preset, self.jpeg_roundtrip, self.space)

    @property
    def condition(self) -> tuple[str, float]:
        return (self.corruption, self.severity)


def format_severity(severity: float) -> str:
    """``1.0`` -> ``"1"``, ``0.05`` -> ``"0.05"``: integers stay integers in the CSV."""
    return f"{severity:g}"


def rows_to_csv(rows: Iterable[RobustnessRow]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(COLUMNS)
    for r in rows:
        writer.writerow(
            [
                r.model,
                r.source,
                r.preset,
                "true" if r.jpeg_roundtrip else "false",
                r.space,
                r.corruption,
                format_severity(r.severity),
                r.n,
                r.correct,
                f"{r.accuracy:.6f}",
            ]
        )
    return buf.getvalue()


def write_rows(rows: Sequence[RobustnessRow], path: str | Path) -> Path:
    """Write ``rows`` as the tidy CSV at ``path``, atomically. Returns the path."""
    path = Path(path)
    write_text(path, rows_to_csv(rows))
    return path


def read_rows(path: str | Path) -> list[RobustnessRow]:
    """Read a robustness CSV written by :func:`write_rows`.

    Raises:
        InputError: naming the file and the column when the file is missing, a column is absent, or a
            value cannot be parsed.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError("no such robustness CSV", path=path)
    with open(path, newline="") as fh:
        reader = csv.DictReader(fh)
        header = reader.fieldnames or []
        missing = [c for c in COLUMNS if c not in header]
        if missing:
            raise InputError(
                f"not a robustness CSV: missing column(s) {', '.join(missing)}", path=path, field=missing[0]
            )
        return [_parse_row(rec, path, line) for line, rec in enumerate(reader, start=2)]


def _parse_row(rec: dict[str, str], path: Path, line: int) -> RobustnessRow:
    def fail(column: str, why: str) -> InputError:
        return InputError(f"line {line}: {why} (got {rec.get(column)!r})", path=path, field=column)

    if rec["source"] not in SOURCES:
        raise fail("source", f"expected one of {', '.join(SOURCES)}")
    if rec["space"] not in SPACES:
        raise fail("space", f"expected one of {', '.join(SPACES)}")
    if rec["jpeg_roundtrip"] not in ("true", "false"):
        raise fail("jpeg_roundtrip", "expected true or false")
    if not rec["model"] or not rec["corruption"]:
        raise fail("model" if not rec["model"] else "corruption", "must not be empty")
    try:
        severity = float(rec["severity"])
    except ValueError:
        raise fail("severity", "not a number") from None
    values = {}
    for column in ("n", "correct"):
        try:
            values[column] = int(rec[column])
        except ValueError:
            raise fail(column, "not an integer") from None
    if not 0 <= values["correct"] <= values["n"]:
        raise fail("correct", f"must be between 0 and n={values['n']}")
    return RobustnessRow(
        model=rec["model"],
        source=rec["source"],
        preset=rec["preset"],
        jpeg_roundtrip=rec["jpeg_roundtrip"] == "true",
        space=rec["space"],
        corruption=rec["corruption"],
        severity=severity,
        n=values["n"],
        correct=values["correct"],
    )
