"""``v1mtl simulate-v1 [CONFIG] --out DIR [--set KEY=VALUE ...]``: write a simulated macaque V1 dataset.

Writes the native format plus its ground truth (``v1mtl.simulator.simulate_to_folder``); this module turns
the flags, the config file and ``--set`` into its ``SimulationConfig``.
"""

from __future__ import annotations

import argparse

from v1mtl.simulator import SimulationConfig

GROUP = None

_DEFAULTS = SimulationConfig()

# The dedicated flags: each sets the top-level key of its name (``--test-images`` sets ``test_images``).
FLAG_KEYS: tuple[tuple[str, type, str], ...] = (
    ("neurons", int, "neurons per session"),
    ("sessions", int, "recording sessions"),
    ("images", int, "training images (one trial each)"),
    ("test_images", int, "repeated test images"),
    ("repeats", int, "repeats per test image"),
    ("image_size", int, "image side in pixels"),
    ("seed", int, "random seed"),
    ("fano", float, "Fano factor of spike counts (1 = Poisson)"),
)


def register(sub: argparse._SubParsersAction) -> None:
    from v1mtl.common.config import add_config_arguments

    p = sub.add_parser(
        "simulate-v1",
        help="simulate a V1 dataset (Gabor simple/complex cells, normalization, spike-count noise)",
        description=(
            "Simulate array recordings of macaque V1 neurons shown grayscale crops of bundled photographs, and "
            "write them in the native format with the noise-free rates and neuron parameters in ground_truth/ "
            f"(see docs/simulator.md). Stimuli span {_DEFAULTS.field_of_view_deg:g} degrees of visual angle. "
            "CONFIG is a YAML of v1mtl.simulator.SimulationConfig (a study's v1.simulate section); --set "
            "KEY=VALUE sets one key (tuning.simple_fraction=0.5), a dedicated flag (given) sets its key last."
        ),
    )
    add_config_arguments(
        p,
        preset_prefix=None,
        example="v1mtl simulate-v1 --out data/v1-sim --neurons 60 --set tuning.simple_fraction=0.5",
    )
    p.add_argument("--out", required=True, help="output folder (must be new, empty, or this same simulation)")
    # default=None, so that only a flag that is given overrides the config file and --set; the defaults
    # named in the help are SimulationConfig's.
    for key, kind, text in FLAG_KEYS:
        p.add_argument(
            f"--{key.replace('_', '-')}",
            type=kind,
            default=None,
            help=f"{text}; sets {key} (default: {getattr(_DEFAULTS, key)})",
        )
    p.add_argument(
        "--export-nnvision", default=None, metavar="DIR", help="also export the nnvision session format"
    )
    p.set_defaults(func=run)


def config_from_flags(args: argparse.Namespace) -> SimulationConfig:
    """The ``SimulationConfig`` of the command: its defaults, CONFIG, ``--set``, then the flags given."""
    from v1mtl.common.config import config_from_args

    flags = {key: getattr(args, key) for key, _, _ in FLAG_KEYS}
    return config_from_args(SimulationConfig, args, flags=flags)


def run(args: argparse.Namespace) -> int:
    from v1mtl.simulator import simulate_to_folder

    # simulate_to_folder checks the config before it touches the output folder
    created = simulate_to_folder(config_from_flags(args), args.out, export_nnvision=args.export_nnvision)
    state = "wrote" if created else "kept the existing, identical"
    print(f"{state} simulated V1 dataset in {args.out}")
    if args.export_nnvision:
        print(f"nnvision export in {args.export_nnvision}")
    return 0
