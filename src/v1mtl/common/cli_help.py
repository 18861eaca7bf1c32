"""Help texts of the commands: every command's ``--help`` ends with an example command line.

The example is the parser's epilog under ``example:``, one indented line (``tests/commands/
test_print_config.py`` parses it with the real parser, so an example cannot go stale unnoticed).
"""

from __future__ import annotations

import argparse

EXAMPLE_HEADING = "example:"


class ExampleHelpFormatter(argparse.HelpFormatter):
    """argparse's formatter, except that indented lines (the example) are kept as written.

    argparse.RawDescriptionHelpFormatter would keep them too, but it would also stop wrapping the long
    one-line descriptions the commands have; this formatter wraps every line that is not indented.
    """

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        lines = []
        for line in text.splitlines():
            if line.startswith(" ") or not line.strip():
                lines.append(indent + line if line.strip() else "")
            else:
                lines.append(super()._fill_text(line, width, indent))
        return "\n".join(lines)


def set_example(parser: argparse.ArgumentParser, example: str) -> None:
    """End ``parser``'s help with ``example``, a whole command line starting with ``v1mtl``."""
    if not example.startswith("v1mtl "):
        raise ValueError(f"an example is a whole command line starting with 'v1mtl ', got {example!r}")
    parser.epilog = f"{EXAMPLE_HEADING}\n  {example}"
    parser.formatter_class = ExampleHelpFormatter
