"""Wall time and peak memory of a whole study run, against its preset's budget.

    python benchmarks/study_budget.py [--preset quick|builtin-full|ablation|ratio-sweep] [--out DIR] [--set k=v]

Budgets: ``quick`` 15 min and 4 GB on 2 CPU cores; ``builtin-full`` about 2 hours on 2 cores (no memory budget
is stated; 4 GB is used as the yardstick). ``ablation`` and ``ratio-sweep`` have no budget: their time and
memory are measured and written down (docs/study.md).

Runs ``v1mtl run`` in a child process on a fresh folder and prints JSON: wall seconds, the child's peak
resident memory (``ru_maxrss`` of the children, so it covers everything the study runs), both as fractions of
the budget, and the seconds of every stage from the study's ``.done.json`` markers. Absolute times on a shared
machine are noisy; the per-stage split shows where the time goes.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

BUDGETS = {
    "quick": (15 * 60, 4 * 1024**3),
    "builtin-full": (2 * 3600, 4 * 1024**3),
    "ablation": (None, None),
    "ratio-sweep": (None, None),
}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--preset", default="quick", choices=sorted(BUDGETS))
    p.add_argument("--out", default=None, help="study folder (default: a temporary one)")
    p.add_argument("--set", dest="overrides", action="append", default=[])
    args = p.parse_args()
    out = Path(args.out or tempfile.mkdtemp(prefix="v1mtl-study-"))
    cmd = [sys.executable, "-m", "v1mtl.cli", "run", "--preset", args.preset, "--out", str(out)]
    for item in args.overrides:
        cmd += ["--set", item]
    budget_seconds, budget_bytes = BUDGETS[args.preset]
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024  # Linux reports KiB
    stages: dict[str, float] = defaultdict(float)
    for done in out.glob("**/.done.json"):  # <stage>/<name> or, with steps, <stage>/<step>/<name>
        stages[done.relative_to(out).parts[0]] += json.loads(done.read_text())["seconds"]
    print(
        json.dumps(
            {
                "preset": args.preset,
                "wall_seconds": round(wall, 1),
                "fraction_of_time_budget": round(wall / budget_seconds, 3) if budget_seconds else None,
                "peak_rss_bytes": peak,
                "fraction_of_memory_budget": round(peak / budget_bytes, 3) if budget_bytes else None,
                "stage_seconds": {k: round(v, 1) for k, v in sorted(stages.items())},
                "study": str(out),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
