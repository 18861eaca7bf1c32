"""Training throughput of ``mtl`` against ``baseline`` on the same network, and the FLOP-bound ideal.

An ``mtl`` step runs one classification batch through the whole network plus ``ratio`` neural batches
through the shared block (and readouts), so with ``F_base`` the forward FLOPs of the whole network per image
and ``F_shared`` those of the shared block, the best ``mtl`` can do is

    ideal = baseline_throughput * F_base / (F_base + ratio * F_shared)

(throughput = classification images per second of training; backward costs scale with the forward ones).
The target is ``mtl >= 0.9 * ideal``. FLOPs are counted with forward hooks on convolutions, linear layers
and batch norms (2 per multiply-add, 2 per normalized element). Each condition runs in its own process so
that its peak memory (max RSS on the CPU, ``torch.cuda.max_memory_allocated`` on CUDA) is its own.

Usage: ``python benchmarks/training_throughput.py [--preset quick] [--set KEY=VALUE ...] [--device cpu]``.
Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

from v1mtl.common.config import config_to_dict, load_config
from v1mtl.training import TrainConfig


def count_forward_flops(module: nn.Module, run) -> int:
    """FLOPs of the convolutions, linear layers and batch norms that ``run()`` calls in ``module``."""
    total = 0

    def conv_hook(m: nn.Conv2d, inputs, output):
        nonlocal total
        k = m.kernel_size[0] * m.kernel_size[1] * (m.in_channels // m.groups)
        total += 2 * k * output.numel() + (output.numel() if m.bias is not None else 0)

    def linear_hook(m: nn.Linear, inputs, output):
        nonlocal total
        total += 2 * m.in_features * output.numel() + (output.numel() if m.bias is not None else 0)

    def bn_hook(m: nn.Module, inputs, output):
        nonlocal total
        total += 2 * output.numel()

    handles = []
    for m in module.modules():
        if isinstance(m, nn.Conv2d):
            handles.append(m.register_forward_hook(conv_hook))
        elif isinstance(m, nn.Linear):
            handles.append(m.register_forward_hook(linear_hook))
        elif isinstance(m, nn.modules.batchnorm._BatchNorm):
            handles.append(m.register_forward_hook(bn_hook))
    try:
        with torch.no_grad():
            run()
    finally:
        for h in handles:
            h.remove()
    return total


def synthetic_targets(cfg: TrainConfig, folder: Path, sessions: int = 4, neurons: int = 30) -> None:
    """A native targets dataset on the classification training images (random responses: speed only)."""
    from v1mtl.data.images import load_classification
    from v1mtl.data.neural import Session, V1Dataset, write_native

    data = load_classification(
        cfg.data.source,
        size=cfg.data.image_size,
        seed=cfg.data.split_seed,
        builtin_counts=cfg.data.builtin_counts,
    )
    images = np.asarray(data.train.images)
    ids = np.arange(1, len(images) + 1, dtype=np.int64)
    rng = np.random.default_rng(0)
    out = []
    for s in range(sessions):
        responses = rng.poisson(2.0, size=(len(ids), neurons)).astype(np.float32)
        test = rng.poisson(2.0, size=(4, 2, neurons)).astype(np.float32)
        out.append(Session(f"s{s}", "synthetic", ids.copy(), responses, ids[:4].copy(), test))
    meta = {
        "source": "v1mtl predict-responses",
        "control": None,
        "images": str(cfg.data.source),
        "image_size": cfg.data.image_size,
        "builtin_counts": list(cfg.data.builtin_counts) if str(cfg.data.source) == "builtin" else None,
    }
    write_native(V1Dataset(images, ids, out, metadata=meta), folder)


def measure(cfg_dict: dict, epochs: int, queue) -> None:
    """Child process: build the trainer, warm up one epoch, time ``epochs`` epochs, report."""
    from v1mtl.common.config import config_from_dict
    from v1mtl.training.distributed import DistInfo
    from v1mtl.training.trainer import Trainer

    cfg = config_from_dict(TrainConfig, cfg_dict)
    with tempfile.TemporaryDirectory() as tmp:
        trainer = Trainer(cfg, Path(tmp), DistInfo())
        cuda = trainer.device.type == "cuda"
        trainer.train_epoch(1)
        if cuda:
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
        start = time.perf_counter()
        for e in range(epochs):
            trainer.train_epoch(2 + e)
        if cuda:
            torch.cuda.synchronize()
        seconds = time.perf_counter() - start
        n_images = len(trainer.data.train) * epochs
        peak = (
            torch.cuda.max_memory_allocated()
            if cuda
            else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        )
        queue.put({"images_per_s": n_images / seconds, "seconds": seconds, "peak_memory_bytes": int(peak)})


def run_isolated(cfg: TrainConfig, epochs: int) -> dict:
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=measure, args=(config_to_dict(cfg), epochs, queue))
    proc.start()
    result = queue.get()
    proc.join()
    return result


def flops(cfg: TrainConfig, n_classes: int, neural_side: int) -> tuple[int, int]:
    from v1mtl.models import build_network

    net = build_network(cfg.model, n_classes=n_classes, sessions=None, image_size=cfg.data.image_size).eval()
    side = cfg.data.image_size
    f_base = count_forward_flops(net, lambda: net(torch.zeros(1, 1, side, side)))
    f_shared = count_forward_flops(
        net, lambda: net.shared_features(torch.zeros(1, 1, neural_side, neural_side))
    )
    return f_base, f_shared


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--preset", default="quick")
    p.add_argument("--set", dest="overrides", action="append", default=[])
    p.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    p.add_argument("--epochs", type=int, default=1, help="timed epochs per condition (after one warm-up)")
    p.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's)")
    args = p.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    base = load_config(
        TrainConfig,
        overrides=[
            *args.overrides,
            f"device={args.device}",
            "logging.progress=false",
            "logging.tensorboard=false",
        ],
        preset=f"train-{args.preset}",
    )
    results: dict = {"preset": args.preset, "device": args.device, "threads": torch.get_num_threads()}
    with tempfile.TemporaryDirectory() as tmp:
        targets = Path(tmp) / "targets"
        synthetic_targets(base, targets)
        for condition in ("baseline", "mtl"):
            cfg = load_config(
                TrainConfig,
                overrides=[*args.overrides, f"device={args.device}", "logging.progress=false"],
                preset=f"train-{args.preset}",
            )
            cfg.condition = condition
            cfg.logging.tensorboard = False
            cfg.neural.targets = str(targets) if condition == "mtl" else None
            results[condition] = run_isolated(cfg, args.epochs)
    from v1mtl.data.images import load_classification

    data = load_classification(
        base.data.source,
        size=base.data.image_size,
        seed=base.data.split_seed,
        builtin_counts=base.data.builtin_counts,
    )
    f_base, f_shared = flops(base, data.n_classes, base.data.image_size)
    ratio = base.neural.ratio
    ideal = results["baseline"]["images_per_s"] * f_base / (f_base + ratio * f_shared)
    results.update(
        model=config_to_dict(base.model),
        image_size=base.data.image_size,
        batch_size=base.data.batch_size,
        neural_ratio=ratio,
        forward_flops_base=f_base,
        forward_flops_shared=f_shared,
        mtl_ideal_images_per_s=ideal,
        mtl_fraction_of_ideal=results["mtl"]["images_per_s"] / ideal,
        target_fraction=0.9,
    )
    results["meets_target"] = results["mtl_fraction_of_ideal"] >= 0.9
    print(json.dumps(results, indent=2))
    return results


if __name__ == "__main__":
    main(sys.argv[1:])
