"""``v1mtl train [CONFIG] --out DIR [--preset quick|paper] [--set KEY=VALUE ...]``: co-train a network.

Rerunning the same command resumes a killed run from its last checkpoint; a finished run is reported and
left alone. Works under ``torchrun --nproc_per_node=N -m v1mtl.cli train ...`` (DDP).
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

GROUP = None
PRESET_PREFIX = "train"


def register(sub: argparse._SubParsersAction) -> None:
    from v1mtl.commands.mlflow_option import add_mlflow_argument
    from v1mtl.common.config import add_config_arguments

    p = sub.add_parser(
        "train",
        help="co-train a network on classification (+ neural targets) for one condition",
        description=(
            "Train one condition (baseline, mtl, mtl-shuffled, mtl-random, noise-augmented, mtl-oracle, "
            "pixel-similarity) into "
            "OUT: config.yaml, metrics.jsonl, tensorboard/, last.pt, best.pt, final.json. Rerun to resume."
        ),
    )
    add_config_arguments(
        p,
        preset_prefix=PRESET_PREFIX,
        example="v1mtl train --preset quick --set schedule.max_epochs=3 --set seed=1 --out runs/baseline-s1",
    )
    p.add_argument("--out", required=True, help="run folder (created; rerun with the same folder to resume)")
    p.add_argument("--device", choices=("cpu", "cuda"), default=None, help="overrides the config's device")
    p.add_argument("--bf16", action="store_true", default=None, help="bfloat16 autocast")
    p.add_argument("--channels-last", action="store_true", default=None, help="channels_last memory format")
    add_mlflow_argument(p, "the run's config, metrics per epoch and final scores, once it has finished,")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from v1mtl.common.config import config_from_args
    from v1mtl.tracking import log_training_run, open_store, tracking_uri
    from v1mtl.training import TrainConfig, train

    cfg = config_from_args(
        TrainConfig,
        args,
        preset_prefix=PRESET_PREFIX,
        flags={"device": args.device, "bf16": args.bf16, "channels_last": args.channels_last},
    )
    uri = tracking_uri(args.mlflow)
    # opened before training, so an unreachable store is said at once, not after hours of work
    store = open_store(uri, "v1mtl/train") if uri else None
    train(cfg, args.out)
    if store is not None and os.environ.get("RANK", "0") == "0":  # under torchrun: one record, from rank 0
        log_training_run(store, Path(args.out), name=Path(args.out).name)
    return 0
