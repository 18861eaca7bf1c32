"""``v1mtl run``: the main job on built-in data.

For now it simulates a V1 dataset into ``<out>/v1`` (kept when an identical one is already there) and prints
its summary: the ``v1mtl data inspect`` JSON and a short table. Later stages (fitting, co-training,
evaluation) extend this command.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from v1mtl.data.simulation_config import SimulationConfig

GROUP = None

PRESETS = {"quick": SimulationConfig()}
# The smallest run that still exercises every step; for checking an installation in seconds.
SMOKE = SimulationConfig(neurons=8, sessions=2, images=300, test_images=20, repeats=4, image_size=32)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "run",
        help="run the main job on built-in data (now: simulate a V1 dataset and summarize it)",
        description="Run the study on built-in data. Now: simulate a V1 dataset into OUT/v1 and print its summary.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument("--preset", choices=sorted(PRESETS), default="quick", help="size of the run")
    p.add_argument("--out", default="runs/quick", help="output folder")
    p.add_argument("--smoke", action="store_true", help="a tiny run that checks the pipeline in seconds")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import json

    from v1mtl.data.neural_inspect import inspect_neural
    from v1mtl.data.simulate import simulate_to_folder

    config = SMOKE if args.smoke else PRESETS[args.preset]
    v1_dir = Path(args.out) / "v1"
    created = simulate_to_folder(config, v1_dir)
    print(f"{'simulated' if created else 'kept the existing'} V1 dataset: {v1_dir}")
    summary = inspect_neural(v1_dir, "native")
    print(json.dumps(summary, indent=2))
    print(summary_table(summary))
    return 0


def summary_table(summary: dict) -> str:
    """A few human-readable lines from the ``data inspect`` summary of a V1 dataset."""
    ev = summary["explainable_variance"]
    median = "n/a" if ev["median"] is None else f"{ev['median']:.3f}"
    rows = [
        ("sessions", str(len(summary["sessions"]))),
        ("neurons", str(summary["n_neurons_total"])),
        ("images", f"{summary['n_images']} x {summary['image_shape'][0]} x {summary['image_shape'][1]} px"),
        ("median explainable variance", median),
    ]
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"{k:<{width}}  {v}" for k, v in rows)
