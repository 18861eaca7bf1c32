"""Cost of ``v1mtl evaluate robustness``: time per condition and peak memory, as JSON.

Speed (process CPU time, which a busy shared machine disturbs less than wall time; with one torch thread
it is close to the wall time of an idle machine): the quick preset's network (VGG-11-BN, width 0.25, conv head 512 hidden, 10 classes) on ``--images``
gray images. The reference run is the clean pass (forward only); every on-the-fly corruption (severity 3,
``tiny-imagenet`` preset, colour input as the paper) and the Gaussian sweep are reported as seconds per
1000 images and as a ratio to that clean pass, so the overhead of corrupting is visible on any machine.
Network weights are untrained: speed does not depend on them.

Memory: peak resident memory of a subprocess that evaluates the sweep on N and on 4 N images with the same
batch size. Streaming one batch of one condition at a time should make the ratio close to 1.

    .venv/bin/python benchmarks/evaluate_robustness.py [--images 512] [--size 32] [--threads 1] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import subprocess
import sys
import time

import numpy as np
import torch


def quick_network(size: int) -> torch.nn.Module:
    from v1mtl.evaluate.robustness import UnitRangeClassifier
    from v1mtl.models import ModelConfig, build_network

    cfg = ModelConfig(arch="vgg11", width=0.25, hidden=512)
    return UnitRangeClassifier(
        build_network(cfg, n_classes=10, sessions=None, image_size=size).eval(), 0.45, 0.22
    )


def random_split(n: int, size: int, color: bool, seed: int = 0):
    from v1mtl.data.images import ImageSplit

    rng = np.random.default_rng(seed)
    shape = (n, size, size, 3) if color else (n, size, size)
    return ImageSplit(rng.integers(0, 256, shape, dtype=np.uint8), rng.integers(0, 10, n).astype(np.int64))


def timed(model, source, batch_size: int, repeats: int) -> float:
    """The least CPU time of ``repeats`` evaluations (the least is the one other processes disturbed least)."""
    from v1mtl.evaluate.robustness import evaluate_robustness

    best = float("inf")
    for _ in range(repeats):
        start = time.process_time()
        evaluate_robustness(model, source, batch_size=batch_size, progress=False)
        best = min(best, time.process_time() - start)
    return best


def corrupt_only(source, corruption: str, batch_size: int, repeats: int) -> float:
    """The least CPU time of ``repeats`` passes that only produce the corrupted batches (no network)."""
    best = float("inf")
    for _ in range(repeats):
        start = time.process_time()
        for _batch in source.batches(corruption, 3.0, batch_size, "cpu"):
            pass
        best = min(best, time.process_time() - start)
    return best


def speed(n: int, size: int, batch_size: int, repeats: int) -> dict:
    from v1mtl.corruptions import names
    from v1mtl.evaluate.corrupted_sources import GaussianSweepSource, OnTheFlySource
    from v1mtl.evaluate.robustness_table import CLEAN

    model = quick_network(size)
    split = random_split(n, size, color=True)

    class One(OnTheFlySource):
        """One condition only, so each corruption is timed on its own."""

        def __init__(self, corruption: str | None):
            super().__init__(split, [corruption or "contrast"], [3], preset="tiny-imagenet")
            self.only = (CLEAN, 0.0) if corruption is None else (corruption, 3.0)

        def conditions(self):
            return [self.only]

    timed(model, One(None), batch_size, 1)  # warm-up
    clean = timed(model, One(None), batch_size, repeats)
    per = {c: timed(model, One(c), batch_size, repeats) for c in names("common")}
    only = {c: corrupt_only(One(c), c, batch_size, repeats) for c in names("common")}
    sweep_source = GaussianSweepSource(split, stds=[0.1])
    sweep_source.conditions = lambda: [("gaussian_sweep", 0.1)]
    sweep = timed(model, sweep_source, batch_size, repeats)
    k = 1000 / n
    total = sum(per.values()) * 5 + clean
    return {
        "clean_cpu_s_per_1000": clean * k,
        "corruptions_cpu_s_per_1000": {c: t * k for c, t in per.items()},
        "corruptions_ratio_to_clean": {c: t / clean for c, t in per.items()},
        "corruption_only_cpu_s_per_1000": {c: t * k for c, t in only.items()},
        "gaussian_sweep_cpu_s_per_1000_per_std": sweep * k,
        "gaussian_sweep_ratio_to_clean": sweep / clean,
        "full_15x5_estimate_cpu_s_per_1000": total * k,
        "full_15x5_estimate_ratio_to_clean": total / clean,
    }


def _peak_rss_child(n: int, size: int, batch_size: int) -> None:
    from v1mtl.evaluate.corrupted_sources import GaussianSweepSource

    model = quick_network(size)
    timed(model, GaussianSweepSource(random_split(n, size, color=False), stds=[0.1, 0.5]), batch_size, 1)
    print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def peak_rss_kib(n: int, size: int, batch_size: int, threads: int) -> int:
    code = (
        f"import sys, torch; sys.path.insert(0, 'benchmarks'); torch.set_num_threads({threads});"
        f"import evaluate_robustness as b; b._peak_rss_child({n}, {size}, {batch_size})"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    return int(out.stdout.strip().splitlines()[-1])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--images", type=int, default=512)
    p.add_argument("--size", type=int, default=32)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--repeats", type=int, default=3)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    small = peak_rss_kib(args.images, args.size, args.batch_size, args.threads)
    large = peak_rss_kib(4 * args.images, args.size, args.batch_size, args.threads)
    result = {
        "machine": platform.processor() or platform.machine(),
        "torch_threads": args.threads,
        "images": args.images,
        "size": args.size,
        "batch_size": args.batch_size,
        "speed": speed(args.images, args.size, args.batch_size, args.repeats),
        "peak_rss_mib": {"n": small / 1024, "4n": large / 1024, "ratio_4n_to_n": large / small},
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
