"""Speed of ``v1mtl.corruptions`` against imagecorruptions (the reference), same process, same images.

Both sides corrupt the same 64 × 64 RGB photograph crops with the ``imagenet`` parameters (the only ones
imagecorruptions has), for each of the 15 benchmark corruptions at severities 1-5. Ours runs batched,
the reference one image at a time (its API). Each side is warmed up untimed, then timed ``--repeats``
times, and the fastest run counts: steady-state throughput. Prints JSON: images/s per side and the ratio, per
corruption and overall (total images over total time).

    .venv/bin/python benchmarks/corruptions.py [--images 256] [--size 64] [--threads 1] [--repeats 3]
        [--only NAME ...]
"""

from __future__ import annotations

import argparse
import json
import platform
import time
import warnings
from collections.abc import Callable
from functools import partial

import numpy as np
import torch


def photo_crops(count: int, size: int, seed: int = 0) -> np.ndarray:
    """``(count, size, size, 3)`` uint8 crops of the RGB photographs bundled with installed packages."""
    from v1mtl.data.images.photos import load_rgb_photographs

    rgb = list(load_rgb_photographs().values())
    rs = np.random.RandomState(seed)
    crops = []
    for i in range(count):
        img = rgb[i % len(rgb)]
        top, left = rs.randint(0, img.shape[0] - size), rs.randint(0, img.shape[1] - size)
        crops.append(img[top : top + size, left : left + size])
    return np.stack(crops)


def best_time(run: Callable[[], object], repeats: int) -> float:
    """The fastest of ``repeats`` timed runs (seconds): the least disturbed by other jobs on the machine."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def reference_pass(crops: np.ndarray, name: str, severity: int) -> None:
    """imagecorruptions on every crop, one at a time (its API)."""
    import imagecorruptions

    np.random.seed(severity)  # noqa: NPY002 - the reference draws from the legacy global RNG
    for img in crops:
        imagecorruptions.corrupt(img, corruption_name=name, severity=severity)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=256)
    parser.add_argument("--size", type=int, default=64)
    # One thread, like the reference; on an oversubscribed machine OpenMP's spinning threads are also
    # hundreds of times slower than one thread.
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads (default 1)")
    parser.add_argument("--only", nargs="+", default=None, help="time only these corruptions")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per side; the fastest counts")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    import imagecorruptions

    from v1mtl.corruptions import corrupt, names

    warnings.simplefilter("ignore", UserWarning)  # imagenet parameters on 64 px images, on purpose

    crops = photo_crops(args.images, args.size)
    # Each side gets its native layout: uint8 HWC arrays for the reference, contiguous float NCHW for ours.
    batch = (torch.from_numpy(crops).permute(0, 3, 1, 2).float() / 255).contiguous()
    rows = {}
    total_ours = total_ref = 0.0
    selected = args.only or names("common")
    for name in selected:
        ours = ref = 0.0
        for severity in range(1, 6):
            # Untimed warm-up of both sides: imports, numba compilation (the reference's glass blur),
            # cached textures and tables. The figures are steady-state throughput, as over a whole test set.
            corrupt(batch[:2], name, severity, preset="imagenet")
            imagecorruptions.corrupt(crops[0], corruption_name=name, severity=severity)
            ours += best_time(partial(corrupt, batch, name, severity, preset="imagenet"), args.repeats)
            ref += best_time(partial(reference_pass, crops, name, severity), args.repeats)
        n = 5 * args.images
        rows[name] = {"ours_images_per_s": n / ours, "reference_images_per_s": n / ref, "ratio": ref / ours}
        total_ours += ours
        total_ref += ref
    n = len(selected) * 5 * args.images
    result = {
        "machine": f"{platform.machine()} {platform.processor() or ''}".strip(),
        "torch_threads": torch.get_num_threads(),
        "images": args.images,
        "repeats": args.repeats,
        "size": args.size,
        "preset": "imagenet",
        "per_corruption": rows,
        "overall": {
            "ours_images_per_s": n / total_ours,
            "reference_images_per_s": n / total_ref,
            "ratio": total_ref / total_ours,
            "slowest_ratio": min(r["ratio"] for r in rows.values()),
        },
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
