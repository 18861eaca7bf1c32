"""The ``v1mtl`` command: a thin layer that parses arguments and calls one function per command.

Each command lives in ``v1mtl.commands.<module>``, which defines ``GROUP`` (``None`` for a top-level
command, else the name of a command group such as ``data``) and ``register(subparsers)``. Heavy imports
stay inside the command functions so that ``v1mtl --help`` is instant.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from v1mtl import __version__
from v1mtl.common.errors import InputError

COMMAND_MODULES = (
    # the whole study and its report
    "run",
    "report",
    # stages, in pipeline order
    "simulate_v1",
    "fit_neural",
    "predict_responses",
    "train",
    "corrupt",
    "evaluate_robustness",
    "evaluate_predictivity",
    "evaluate_brain_robustness",
    "analyze_reconstruction",
    "analyze_saliency",
    # datasets
    "data_inspect",
    "data_make_builtin",
)

GROUPS = {
    "data": "inspect and build datasets",
    "evaluate": "evaluate trained networks",
    "analyze": "sensitivity analyses of trained networks",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="v1mtl",
        description="Co-train networks on image classification and monkey V1 responses; measure robustness.",
    )
    parser.add_argument("--version", action="version", version=f"v1mtl {__version__}")
    top = parser.add_subparsers(dest="command", metavar="COMMAND")
    top.required = True
    group_subparsers: dict[str, argparse._SubParsersAction] = {}
    for module_name in COMMAND_MODULES:
        module = importlib.import_module(f"v1mtl.commands.{module_name}")
        group = getattr(module, "GROUP", None)
        if group is None:
            module.register(top)
            continue
        if group not in group_subparsers:
            group_parser = top.add_parser(group, help=GROUPS[group], description=GROUPS[group])
            sub = group_parser.add_subparsers(dest=f"{group}_command", metavar="SUBCOMMAND")
            sub.required = True
            group_subparsers[group] = sub
        module.register(group_subparsers[group])
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        result = args.func(args)
    except InputError as err:
        print(f"v1mtl: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("v1mtl: interrupted; rerun the same command to resume", file=sys.stderr)
        return 130
    return int(result or 0)


if __name__ == "__main__":
    sys.exit(main())
