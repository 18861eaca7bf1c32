"""One exception type for bad input, so the command line can print one clear line and exit 2."""

from __future__ import annotations

from pathlib import Path


class InputError(ValueError):
    """Bad user input. The message names the file and, where there is one, the field.

    >>> str(InputError("must be 3-D", path="a.pkl", field="responses"))
    "a.pkl: field 'responses': must be 3-D"
    """

    def __init__(self, message: str, *, path: str | Path | None = None, field: str | None = None):
        self.path = None if path is None else str(path)
        self.field = field
        parts = []
        if self.path is not None:
            parts.append(self.path)
        if field is not None:
            parts.append(f"field '{field}'")
        parts.append(message)
        super().__init__(": ".join(parts))
