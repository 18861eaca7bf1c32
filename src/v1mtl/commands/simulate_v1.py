"""``v1mtl simulate-v1``: write a simulated macaque V1 dataset (native format, plus its ground truth)."""

from __future__ import annotations

import argparse

from v1mtl.simulator import SimulationConfig

GROUP = None

_DEFAULTS = SimulationConfig()


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "simulate-v1",
        help="simulate a V1 dataset (Gabor simple/complex cells, normalization, spike-count noise)",
        description=(
            "Simulate array recordings of macaque V1 neurons shown grayscale crops of bundled photographs, and "
            "write them in the native format with the noise-free rates and neuron parameters in ground_truth/ "
            f"(see docs/simulator.md). Stimuli span {_DEFAULTS.field_of_view_deg:g} degrees of visual angle."
        ),
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument("--out", required=True, help="output folder (must be new, empty, or this same simulation)")
    p.add_argument("--neurons", type=int, default=_DEFAULTS.neurons, help="neurons per session")
    p.add_argument("--sessions", type=int, default=_DEFAULTS.sessions, help="recording sessions")
    p.add_argument("--images", type=int, default=_DEFAULTS.images, help="training images (one trial each)")
    p.add_argument("--test-images", type=int, default=_DEFAULTS.test_images, help="repeated test images")
    p.add_argument("--repeats", type=int, default=_DEFAULTS.repeats, help="repeats per test image")
    p.add_argument("--image-size", type=int, default=_DEFAULTS.image_size, help="image side in pixels")
    p.add_argument("--seed", type=int, default=_DEFAULTS.seed, help="random seed")
    p.add_argument(
        "--fano", type=float, default=_DEFAULTS.fano, help="Fano factor of spike counts (1 = Poisson)"
    )
    p.add_argument(
        "--export-nnvision", default=None, metavar="DIR", help="also export the nnvision session format"
    )
    p.set_defaults(func=run)


def config_from_args(args: argparse.Namespace) -> SimulationConfig:
    return SimulationConfig(
        neurons=args.neurons,
        sessions=args.sessions,
        images=args.images,
        test_images=args.test_images,
        repeats=args.repeats,
        image_size=args.image_size,
        seed=args.seed,
        fano=args.fano,
    )


def run(args: argparse.Namespace) -> int:
    config = config_from_args(args)
    config.check()  # before the heavy imports, so a bad option fails at once
    from v1mtl.simulator import simulate_to_folder

    created = simulate_to_folder(config, args.out, export_nnvision=args.export_nnvision)
    state = "wrote" if created else "kept the existing, identical"
    print(f"{state} simulated V1 dataset in {args.out}")
    if args.export_nnvision:
        print(f"nnvision export in {args.export_nnvision}")
    return 0
