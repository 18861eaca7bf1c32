"""Tiny checkpoints in the trainer's ``best.pt`` format and a tiny TinyImageNet / Tiny-ImageNet-C, built in code.

Shared by the robustness command's tests and the robustness stage's tests, so both run on the same inputs.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from v1mtl.common.config import config_to_dict, load_config
from v1mtl.data.images import load_classification
from v1mtl.fitting import save_checkpoint
from v1mtl.models import build_network
from v1mtl.training import TrainConfig
from v1mtl.training.checkpoint import BEST, FORMAT_VERSION, NETWORK_KIND

SIZE = 32
BUILTIN = ["data.source=builtin", f"data.image_size={SIZE}", "data.builtin_counts=[20,10,40]"]
TINY_MODEL = ["model.arch=vgg11", "model.width=0.0625", "model.hidden=16"]


@pytest.fixture(autouse=True)
def private_cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("V1MTL_CACHE", str(tmp_path_factory.getbasetemp() / "v1mtl-cache"))


def make_run(run_dir, overrides, class_names, seed=0):
    """A run folder with a best.pt of an untrained tiny network, in the trainer's documented format."""
    cfg = load_config(TrainConfig, overrides=[*TINY_MODEL, *overrides])
    torch.manual_seed(seed)
    net = build_network(cfg.model, n_classes=len(class_names), sessions=None, image_size=SIZE)
    # Calibrate BatchNorm on random images so that an untrained network's predictions vary between images.
    net.train()
    with torch.no_grad():
        for _ in range(3):
            net(torch.randn(32, 1, SIZE, SIZE))
    net.eval()
    payload = {
        "kind": NETWORK_KIND,
        "format_version": FORMAT_VERSION,
        "model_config": config_to_dict(cfg.model),
        "state_dict": net.state_dict(),
        "n_classes": len(class_names),
        "class_names": list(class_names),
        "sessions": {},
        "image_size": SIZE,
        "neural_image_size": None,
        "normalization": {"mean": cfg.data.mean, "std": cfg.data.std},
        "config": config_to_dict(cfg),
        "epoch": 1,
        "val_accuracy": 0.0,
    }
    save_checkpoint(run_dir / BEST, payload)
    return run_dir


def builtin_run(tmp_path, name="run_a", seed=0):
    data = load_classification("builtin", size=SIZE, builtin_counts=[20, 10, 40])
    return make_run(tmp_path / name, BUILTIN, data.class_names, seed=seed)


def write_tinyimagenet(root, wnids, per_class=4):
    rng = np.random.default_rng(0)
    (root / "wnids.txt").parent.mkdir(parents=True)
    (root / "wnids.txt").write_text("\n".join(wnids) + "\n")
    (root / "words.txt").write_text("".join(f"{w}\tthing {w}, other\n" for w in wnids))
    ann = []
    for w in wnids:
        (root / "train" / w / "images").mkdir(parents=True)
        for i in range(per_class):
            Image.fromarray(rng.integers(0, 256, (SIZE, SIZE, 3), dtype=np.uint8)).save(
                root / "train" / w / "images" / f"{w}_{i}.JPEG"
            )
    (root / "val" / "images").mkdir(parents=True)
    for j in range(per_class * len(wnids)):
        name = f"val_{j}.JPEG"
        Image.fromarray(rng.integers(0, 256, (SIZE, SIZE, 3), dtype=np.uint8)).save(
            root / "val" / "images" / name
        )
        ann.append(f"{name}\t{wnids[j % len(wnids)]}\t0\t0\t{SIZE}\t{SIZE}")
    (root / "val" / "val_annotations.txt").write_text("\n".join(ann) + "\n")
    for c in ("fog", "contrast"):
        for s in (1, 2):
            for w in wnids:
                folder = root.parent / "tic" / c / str(s) / w
                folder.mkdir(parents=True)
                for i in range(3):
                    img = rng.integers(0, 256, (SIZE, SIZE, 3), dtype=np.uint8)
                    Image.fromarray(img).save(folder / f"{i}.JPEG", quality=85)
    return root
