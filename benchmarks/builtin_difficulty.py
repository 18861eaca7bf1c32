"""How hard is the built-in set? Train a small VGG briefly, report clean and corrupted test accuracy (JSON).

The built-in set must be a real task: the quick model should land between 60% and 90% clean test accuracy,
and corruptions should cost it accuracy. The network is a stand-in for the project's quick model
(``small_vgg`` in benchmarks/loader.py: a VGG-style net, widths 16-32-64-128, two 3x3 conv + BN + ReLU per
stage, about 0.3 M parameters), trained with SGD (Nesterov momentum, one-cycle learning rate).
Corruptions use ``imagecorruptions`` (its 224-px ImageNet-C severities) on the gray image stacked to RGB,
then back to gray, at one moderate severity.

    python benchmarks/builtin_difficulty.py --size 32 --epochs 8
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import numpy as np
import torch
from loader import small_vgg  # the consumer stand-in, shared with benchmarks/loader.py
from torch import nn

from v1mtl.data.images import ClassificationBatches, ImageSplit, gray_stats, make_builtin
from v1mtl.data.images.gray import rgb_to_gray_np

CORRUPTIONS = (
    "gaussian_noise",
    "shot_noise",
    "impulse_noise",
    "defocus_blur",
    "contrast",
    "pixelate",
    "jpeg_compression",
)


def corrupt_split(split: ImageSplit, name: str, severity: int, seed: int) -> ImageSplit:
    from imagecorruptions import corrupt

    np.random.seed(seed)  # noqa: NPY002 -- imagecorruptions draws from NumPy's global generator
    out = np.empty_like(np.asarray(split.images))
    for i, img in enumerate(split.images):
        rgb = np.repeat(np.asarray(img)[..., None], 3, axis=-1)
        c = np.asarray(corrupt(rgb, corruption_name=name, severity=severity), dtype=np.float32)
        out[i] = np.clip(
            np.rint(rgb_to_gray_np(c[..., :3] if c.ndim == 3 else np.repeat(c[..., None], 3, -1))), 0, 255
        )
    return ImageSplit(out, np.asarray(split.labels))


@torch.no_grad()
def accuracy(model: nn.Module, split: ImageSplit, norm: tuple[float, float]) -> float:
    model.eval()
    correct = 0
    for x, y in ClassificationBatches(split, 500, shuffle=False, normalize=norm):
        correct += int((model(x).argmax(1) == y).sum())
    return correct / len(split)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--size", type=int, default=32)
    p.add_argument("--train", type=int, default=20000)
    p.add_argument("--val", type=int, default=2000)
    p.add_argument("--test", type=int, default=5000)
    p.add_argument("--epochs", type=int, default=8)
    p.add_argument("--lr", type=float, default=0.05)
    p.add_argument("--severity", type=int, default=3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--data-seed", type=int, default=1000)
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)

    t0 = time.perf_counter()
    data = make_builtin(size=args.size, counts=(args.train, args.val, args.test), seed=args.data_seed)
    t_data = time.perf_counter() - t0
    norm = gray_stats(data.train)
    model = small_vgg(data.n_classes).to(memory_format=torch.channels_last)
    opt = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=0.9, nesterov=True, weight_decay=5e-4)
    gen = torch.Generator().manual_seed(args.seed)
    batches = ClassificationBatches(
        data.train, 128, shuffle=True, generator=gen, augment=True, normalize=norm
    )
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, args.lr, total_steps=args.epochs * len(batches))
    loss_fn = nn.CrossEntropyLoss()
    t0 = time.perf_counter()
    history = []
    for epoch in range(args.epochs):
        model.train()
        correct = total = 0
        for x, y in batches:
            out = model(x.contiguous(memory_format=torch.channels_last))
            loss = loss_fn(out, y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            correct += int((out.argmax(1) == y).sum())
            total += len(y)
        history.append(
            {
                "epoch": epoch + 1,
                "train_acc_augmented": correct / total,
                "val_acc": accuracy(model, data.val, norm),
            }
        )
        print(json.dumps(history[-1]), file=sys.stderr, flush=True)
    t_train = time.perf_counter() - t0

    clean = accuracy(model, data.test, norm)
    corrupted = {}
    for name in CORRUPTIONS:
        corrupted[name] = accuracy(model, corrupt_split(data.test, name, args.severity, args.seed), norm)
    print(
        json.dumps(
            {
                "size": args.size,
                "counts": [args.train, args.val, args.test],
                "epochs": args.epochs,
                "threads": args.threads,
                "data_seconds": round(t_data, 1),
                "train_seconds": round(t_train, 1),
                "history": history,
                "clean_test_acc": clean,
                "severity": args.severity,
                "corrupted_test_acc": corrupted,
                "mean_corrupted_test_acc": float(np.mean(list(corrupted.values()))),
                "chance": 1.0 / data.n_classes,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
