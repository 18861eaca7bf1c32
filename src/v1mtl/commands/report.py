"""``v1mtl report DIR``: render ``report.md`` and ``report.html`` of a study folder from its outputs."""

from __future__ import annotations

import argparse

from v1mtl.common.cli_help import set_example

GROUP = None


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "report",
        help="render a study folder's report (report.md, report.html)",
        description="Render report.md and report.html of a study folder (made by 'v1mtl run') from what it holds now.",
    )
    p.add_argument("study", help="the study folder")
    set_example(p, "v1mtl report runs/quick")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from v1mtl.report import write_report

    report, table = write_report(args.study)
    print(table)
    print(f"report: {report} (and {report.with_suffix('.html')})")
    return 0
