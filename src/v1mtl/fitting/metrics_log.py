"""Per-epoch records: ``metrics.jsonl`` (rewritten atomically from the full history) and TensorBoard events.

The history lives in the checkpoint, so after a resume ``metrics.jsonl`` holds exactly the epochs of the
checkpoint; TensorBoard events past the resumed epoch are purged (``purge_step``).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from v1mtl.common.atomic import write_text

METRICS = "metrics.jsonl"
TENSORBOARD = "tensorboard"


def _clean(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


class MetricsLog:
    """Writes the records of a run; a no-op on processes other than rank 0."""

    def __init__(self, out_dir: str | Path, *, enabled: bool, tensorboard: bool, start_epoch: int = 0):
        self.path = Path(out_dir) / METRICS
        self.enabled = enabled
        self.writer = None
        if enabled and tensorboard:
            from torch.utils.tensorboard import SummaryWriter

            self.writer = SummaryWriter(str(Path(out_dir) / TENSORBOARD), purge_step=start_epoch + 1)

    def write(self, history: list[dict[str, Any]]) -> None:
        """Rewrite ``metrics.jsonl`` and log the newest record to TensorBoard."""
        if not self.enabled:
            return
        write_text(
            self.path, "".join(json.dumps({k: _clean(v) for k, v in r.items()}) + "\n" for r in history)
        )
        if self.writer is not None and history:
            record = history[-1]
            for key, value in record.items():
                if key != "epoch" and isinstance(value, int | float) and not isinstance(value, bool):
                    if math.isfinite(value):
                        self.writer.add_scalar(key.replace("_", "/", 1), value, record["epoch"])
            self.writer.flush()

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


def read_metrics(run_dir: str | Path) -> list[dict[str, Any]]:
    """The records of ``metrics.jsonl`` in a run folder (empty if none)."""
    path = Path(run_dir) / METRICS
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
