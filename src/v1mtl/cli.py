"""The ``v1mtl`` command: a thin layer that parses arguments and calls one function per command.

Each command lives in ``v1mtl.commands.<module>``, which defines ``GROUP`` (``None`` for a top-level
command, else the name of a command group such as ``data``) and ``register(subparsers)``. Heavy imports
stay inside the command functions so that ``v1mtl --help`` is instant.

How a command ends (``main``'s exit status):

- 0 (or the command's own status): it ran;
- 2: bad input (``InputError``), printed as one line ``v1mtl: error: <message>``;
- 1: any other exception, printed as one line ``v1mtl: error: <Type>: <message> (run with --debug for the
  traceback)``; ``--debug``, before or after the command's name, shows the traceback instead;
- 130: interrupted (Ctrl-C);
- 141: the reader of its output went away (``v1mtl data inspect X | head``): it stops quietly, with the
  status a shell gives a program killed by SIGPIPE (128 + 13), so that ``set -o pipefail`` still tells a
  cut-short output from a complete one.
"""

from __future__ import annotations

import argparse
import importlib
import os
import re
import sys

from v1mtl import __version__
from v1mtl.common.errors import InputError
from v1mtl.common.limits import MAX_ARRAY_ELEMENTS_ENV, MAX_IMAGE_SIDE_ENV

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
    "evaluate_adversarial",
    "evaluate_predictivity",
    "evaluate_brain_robustness",
    "analyze_reconstruction",
    "analyze_saliency",
    # datasets
    "data_inspect",
    "data_make_builtin",
)

DEBUG_HELP = "show the traceback of an unexpected error instead of its one-line summary"
# 128 + SIGPIPE, what a shell reports for a program killed by a closed pipe
EXIT_CLOSED_PIPE = 141
# an unexpected error's message is cut here: one line a terminal shows whole
MESSAGE_CHARS = 500
# terminal escapes (colours, cursor moves) and other control characters, which a message must not carry
_CONTROL = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|[\x00-\x08\x0b-\x1f\x7f]")

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
    parser.add_argument("--debug", action="store_true", help=DEBUG_HELP)
    parser.add_argument(
        "--max-image-side",
        type=int,
        metavar="N",
        help="largest width or height an image file may declare (default 8192; sets V1MTL_MAX_IMAGE_SIDE)",
    )
    parser.add_argument(
        "--max-array-elements",
        type=int,
        metavar="N",
        help="most array elements one V1 data file may declare (default 2**28; sets V1MTL_MAX_ARRAY_ELEMENTS)",
    )
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
    _add_debug_to_commands(parser)
    return parser


def _add_debug_to_commands(parser: argparse.ArgumentParser) -> None:
    """Let ``--debug`` follow the command's name too (``v1mtl train ... --debug``)."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                # SUPPRESS: a command that is not given --debug leaves the top-level value alone
                sub.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=DEBUG_HELP)
                _add_debug_to_commands(sub)


def main(argv: list[str] | None = None) -> int:
    """Run the command of ``argv`` (default: ``sys.argv[1:]``); return the exit status (module docstring)."""
    try:
        try:
            return _run(argv)
        finally:
            # a closed pipe shows here, while it can still be handled, not at the interpreter's exit
            sys.stdout.flush()
    except BrokenPipeError:
        return _closed_pipe()


def _set_limits(args: argparse.Namespace) -> None:
    """The resource limits as environment variables, so the processes a study starts (Ray workers, Slurm
    jobs) read them too (``v1mtl.common.limits``)."""
    for value, name, flag in (
        (args.max_image_side, MAX_IMAGE_SIDE_ENV, "--max-image-side"),
        (args.max_array_elements, MAX_ARRAY_ELEMENTS_ENV, "--max-array-elements"),
    ):
        if value is None:
            continue
        if value < 1:
            raise InputError(f"must be a positive integer, got {value}", field=flag)
        os.environ[name] = str(value)


def _run(argv: list[str] | None) -> int:
    args = build_parser().parse_args(argv)
    try:
        _set_limits(args)
        return int(args.func(args) or 0)
    except InputError as err:
        print(f"v1mtl: error: {one_line(str(err))}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("v1mtl: interrupted; rerun the same command to resume", file=sys.stderr)
        return 130
    except BrokenPipeError:
        raise
    except Exception as err:
        if args.debug:
            raise
        message = one_line(f"{type(err).__name__}: {err}", MESSAGE_CHARS)
        print(f"v1mtl: error: {message} (run with --debug for the traceback)", file=sys.stderr)
        return 1


def one_line(text: str, limit: int | None = None) -> str:
    """``text`` without control characters or terminal escapes, its whitespace runs as single spaces, cut
    to ``limit`` characters."""
    text = " ".join(_CONTROL.sub(" ", text).split())
    return text if limit is None or len(text) <= limit else text[: limit - 3] + "..."


def _closed_pipe() -> int:
    """Stop quietly: what is left in stdout's buffer goes nowhere, so the interpreter's own flush at exit
    cannot fail (and print) again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass  # stdout is no file (a test's capture); nothing will flush into the closed pipe
    return EXIT_CLOSED_PIPE


if __name__ == "__main__":
    sys.exit(main())
