"""Resource limits a user can raise: their environment variables, read at call time.

The readers' limits (``v1mtl.data.images.limits``, ``v1mtl.data.neural.limits``) take their default from
these variables when they are set, so one setting reaches every process of a study: the CLI's
``--max-image-side`` and ``--max-array-elements`` set them for the study's own process and the Ray
workers or Slurm jobs it starts; on a cluster, set them in the nodes' environment.
"""

from __future__ import annotations

import os

from v1mtl.common.errors import InputError

MAX_IMAGE_SIDE_ENV = "V1MTL_MAX_IMAGE_SIDE"
MAX_ARRAY_ELEMENTS_ENV = "V1MTL_MAX_ARRAY_ELEMENTS"


def from_environment(name: str, default: int) -> int:
    """The positive integer in environment variable ``name``, else ``default``; a bad value is one line."""
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw.replace("_", ""))
    except ValueError:
        value = 0
    if value < 1:
        raise InputError(f"environment variable {name} must be a positive integer, got {raw[:40]!r}")
    return value
