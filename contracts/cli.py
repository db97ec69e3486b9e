"""``python -m contracts check``: run the contract against a target and report the drift."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from contracts.findings import Severity
from contracts.history import append_history, read_history
from contracts.report import as_json, as_junit, as_markdown, summary
from contracts.report_html import write_html
from contracts.runner import run
from mockserver.cli import program_name
from mockserver.errors import EmulatorError
from mockserver.installation import check_installation

EXIT_CLEAN, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2


def build_parser(prog: str | None = None) -> argparse.ArgumentParser:
    """The command line (``prog``: how the user called it, for usage and help)."""
    parser = argparse.ArgumentParser(
        prog=prog or program_name("contracts"), description="Check vendors against our contract"
    )
    commands = parser.add_subparsers(dest="command", required=True)
    check = commands.add_parser("check", help="check a target and report drift")
    check.add_argument("--target", choices=["mock", "url", "live"], default="mock")
    check.add_argument("--url", help="base URL of a running emulator (with --target url)")
    check.add_argument("--vendor", action="append", help="only this vendor (repeatable)")
    check.add_argument("--report-json", type=Path)
    check.add_argument("--junit", type=Path)
    check.add_argument("--markdown", type=Path)
    check.add_argument(
        "--html",
        type=Path,
        metavar="FILE",
        help="write a self-contained HTML report (with --history: a chart)",
    )
    check.add_argument(
        "--history", type=Path, metavar="FILE", help="append this run to a JSON Lines drift history"
    )
    check.add_argument("--fail-on", choices=[s.value for s in Severity], default="error")
    check.add_argument(
        "--budget-per-endpoint", type=int, default=60, help="at most this many requests per endpoint"
    )
    check.add_argument("--budget", type=int, default=300, help="at most this many requests in the run")
    check.add_argument("--timeout", type=float, default=10.0, help="seconds per request")
    return parser


def main(argv: Sequence[str] | None = None, prog: str | None = None) -> int:
    """Exit 0 if no finding reaches --fail-on, 1 if one does or an endpoint was unreachable, 2 on usage."""
    check_installation()
    arguments = build_parser(prog).parse_args(argv)
    try:
        report = run(
            arguments.target,
            url=arguments.url,
            vendors=arguments.vendor,
            timeout=arguments.timeout,
            budget_per_endpoint=arguments.budget_per_endpoint,
            budget_per_run=arguments.budget,
        )
    except EmulatorError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USAGE
    fail_on = Severity(arguments.fail_on)
    for path in (arguments.report_json, arguments.junit, arguments.markdown, arguments.html):
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
    if arguments.report_json:
        arguments.report_json.write_text(
            json.dumps(as_json(report), indent=2, default=str) + "\n", encoding="utf-8"
        )
    if arguments.junit:
        arguments.junit.write_text(as_junit(report, fail_on), encoding="utf-8")
    if arguments.markdown:
        arguments.markdown.write_text(as_markdown(report), encoding="utf-8")
    if arguments.history:
        append_history(arguments.history, report)
    if arguments.html:
        write_html(arguments.html, report, read_history(arguments.history) if arguments.history else ())
    print(summary(report))
    unreachable = any(status.status == "unreachable" for status in report.endpoints)
    if report.checked == 0 and not unreachable:
        print("error: no endpoint was checked (see the reasons above)", file=sys.stderr)
        return EXIT_USAGE
    return EXIT_FINDINGS if report.reaching(fail_on) or unreachable else EXIT_CLEAN
