"""FEVE, noise ceiling and wall time of a ``fit-neural`` preset on the default simulated dataset (JSON).

Simulates the ``v1mtl simulate-v1`` default dataset (or takes ``--data``), fits the V1 model with the preset
(plus ``--set`` overrides) in a temporary folder and prints one JSON object: test scores (mean and median
FEVE, single-trial correlation, correlation to the trial average), the noise ceiling of the test set, what
the simulator's noise-free rates score (the ceiling a perfect model reaches), epochs, validation
correlation per epoch, wall time of the fit and the number of torch threads.

    python benchmarks/v1_model_fit.py --preset quick
    python benchmarks/v1_model_fit.py --preset quick --set training.max_epochs=3 --threads 2
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import torch

from v1mtl.common.config import load_config
from v1mtl.neural_model import FitNeuralConfig, fit_v1_model
from v1mtl.simulator import SimulationConfig, simulate_to_folder

SCORES = ("feve", "test_corr", "corr_to_average")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="quick", help="fit-neural preset (quick, paper)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="config override")
    parser.add_argument("--data", default=None, help="V1 dataset (default: simulate the default one)")
    parser.add_argument("--threads", type=int, default=None, help="torch.set_num_threads (default: torch's)")
    args = parser.parse_args()
    if args.threads is not None:
        torch.set_num_threads(args.threads)

    with tempfile.TemporaryDirectory(prefix="v1_model_fit_") as tmp:
        data = args.data
        if data is None:
            data = str(Path(tmp) / "sim")
            simulate_to_folder(SimulationConfig(), data, progress=False)
        cfg = load_config(
            FitNeuralConfig, preset=f"fit-neural-{args.preset}", overrides=[*args.set, "progress=false"]
        )
        start = time.perf_counter()
        summary = fit_v1_model(cfg, data, Path(tmp) / "fit")
        seconds = time.perf_counter() - start
        history = [
            json.loads(line) for line in (Path(tmp) / "fit" / "metrics.jsonl").read_text().splitlines()
        ]

    result = {
        "preset": args.preset,
        "overrides": args.set,
        "dataset": "simulate-v1 defaults" if args.data is None else args.data,
        **{f"{s}_{stat}": round(summary[f"{s}_{stat}"], 4) for s in SCORES for stat in ("mean", "median")},
        "noise_ceiling": summary["noise_ceiling"],
        "ground_truth": summary.get("ground_truth"),
        "epochs": summary["epochs"],
        "best_epoch": summary["best_epoch"],
        "val_corr_per_epoch": [round(h["val_corr"], 4) for h in history],
        "fit_seconds": round(seconds, 1),
        "torch_threads": torch.get_num_threads(),
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
