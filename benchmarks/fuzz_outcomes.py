"""Counts of the suite's fuzzing: cases per format and their outcomes, as JSON.

Runs the tests marked ``fuzz`` (seeded hypothesis tests over malformed variants of every supported input)
with ``V1MTL_FUZZ_LOG`` set, so ``tests/conftest.py``'s ``fuzz_check`` appends one record per case, then
counts them. Every case ends as ``accepted`` (a valid result, which the test checks) or ``input_error``
(one line naming the file); any other outcome fails the test run, and this script says so.

Usage: ``python benchmarks/fuzz_outcomes.py`` (from the repository root). Prints one JSON object.
"""

from __future__ import annotations

import collections
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "fuzz.jsonl"
        start = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-m", "pytest", "-m", "fuzz", "-o", "addopts=-q", "-p", "no:cacheprovider"],
            env=os.environ | {"V1MTL_FUZZ_LOG": str(log)},
            capture_output=True,
            text=True,
        )
        seconds = time.perf_counter() - start
        records = [json.loads(line) for line in log.read_text().splitlines()] if log.is_file() else []
    counts: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    for r in records:
        counts[r["format"]][r["outcome"]] += 1
    result = {
        "cases": len(records),
        "per_format": {fmt: dict(c) | {"cases": sum(c.values())} for fmt, c in sorted(counts.items())},
        "tests_passed": proc.returncode == 0,
        "pytest_tail": proc.stdout.strip().splitlines()[-1:] if proc.stdout.strip() else [],
        "wall_s": round(seconds, 1),
        "note": "wall time on a shared machine is noisy; the counts are what the seeded tests generate",
    }
    print(json.dumps(result, indent=2))
    if proc.returncode != 0:
        sys.exit(proc.returncode)


if __name__ == "__main__":
    main()
