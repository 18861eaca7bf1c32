"""Is data loading ever the bottleneck? Loader images/s against the images/s a small VGG trains at (JSON).

Both are measured in the same process on the same machine, on 64-px gray images in batches of 128:
- the loader: ``ClassificationBatches`` over the cached, memory-mapped built-in training split, with the paper's
  augmentation (crop, flip, rotation) and normalization, consumed without any model;
- the consumer: a stand-in small VGG (widths 16-32-64-128, two 3x3 conv + BN + ReLU per stage, as in
  the project's quick CPU scale, about 0.3 M parameters; the project's models package defines the real one) doing forward,
  backward and an SGD step per batch.
Target: ``ratio = loader / training >= 5``.

    python benchmarks/loader.py [--batches 60] [--threads N]
"""

from __future__ import annotations

import argparse
import json
import os
import time

import torch
from torch import nn

from v1mtl.data.images import ClassificationBatches, make_builtin


def small_vgg(n_classes: int, widths=(16, 32, 64, 128)) -> nn.Module:
    """Consumer stand-in: 4 stages of 2 x (conv3x3 + BN + ReLU) + max-pool, global average pool, linear."""
    layers: list[nn.Module] = []
    c_in = 1
    for w in widths:
        for _ in range(2):
            layers += [nn.Conv2d(c_in, w, 3, padding=1), nn.BatchNorm2d(w), nn.ReLU(inplace=True)]
            c_in = w
        layers.append(nn.MaxPool2d(2))
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(c_in, n_classes))


def loader_rate(split, n_batches: int, augment: bool, prefetch: int) -> float:
    gen = torch.Generator().manual_seed(0)
    batches = ClassificationBatches(
        split, 128, shuffle=True, generator=gen, augment=augment, prefetch=prefetch
    )
    it = iter(batches)
    next(it)  # warm-up
    start = time.perf_counter()
    seen = 0
    for _ in range(n_batches):
        x, _y = next(it)
        seen += len(x)
    return seen / (time.perf_counter() - start)


def training_rate(n_classes: int, size: int, n_steps: int) -> float:
    torch.manual_seed(0)
    model = small_vgg(n_classes)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    x = torch.randn(128, 1, size, size)
    y = torch.randint(0, n_classes, (128,))
    loss_fn = nn.CrossEntropyLoss()

    def step():
        opt.zero_grad(set_to_none=True)
        loss_fn(model(x), y).backward()
        opt.step()

    step()  # warm-up
    start = time.perf_counter()
    for _ in range(n_steps):
        step()
    return n_steps * 128 / (time.perf_counter() - start)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--batches", type=int, default=60, help="loader batches to time")
    p.add_argument("--steps", type=int, default=10, help="training steps to time")
    p.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's choice)")
    args = p.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    data = make_builtin(size=64)  # cached after the first call
    split = data.train
    out = {
        "image_size": 64,
        "batch_size": 128,
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "loader_images_per_s_augmented": loader_rate(split, args.batches, True, prefetch=2),
        "loader_images_per_s_augmented_no_prefetch_thread": loader_rate(
            split, args.batches, True, prefetch=0
        ),
        "loader_images_per_s_plain": loader_rate(split, args.batches, False, prefetch=2),
        "small_vgg_train_images_per_s": training_rate(data.n_classes, 64, args.steps),
    }
    out["ratio_loader_to_training"] = (
        out["loader_images_per_s_augmented"] / out["small_vgg_train_images_per_s"]
    )
    out = {k: round(v, 2) if isinstance(v, float) else v for k, v in out.items()}
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
