"""``python -m contracts``: check a target and report the drift; calibrate, record and acknowledge.

- ``check``: run the contract against a target and report (``--baseline``, ``--history``).
- ``calibrate``: observe every assumption on a target and write an options file.
- ``record``: snapshot a target's records into fixture files.
- ``ack``: add findings of a JSON report to a baseline, with a reason and an optional expiry.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path
from typing import Any

from contracts.checks.findings import Severity
from contracts.checks.runner import Report, run, with_options
from contracts.reporting.baseline import acknowledge, read_baseline, split
from contracts.reporting.formats import as_json, as_junit, as_markdown, summary
from contracts.reporting.history import append_history, history_runs, read_history, timeline
from contracts.reporting.html import render_html
from contracts.tools.calibrate import options_text
from mockserver.engine.emulator import build_emulator
from mockserver.engine.options_file import merged, parse_option, read_options_file
from mockserver.errors import ConfigurationError, EmulatorError
from mockserver.installation import check_installation, program_name

EXIT_CLEAN, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2


def _option(text: str) -> tuple[str, str, Any]:
    try:
        return parse_option(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date YYYY-MM-DD, got {text!r}") from None


def _target_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--target", choices=["mock", "url", "live"], default="mock")
    parser.add_argument("--url", help="base URL of a running emulator (with --target url)")
    parser.add_argument("--vendor", action="append", help="only this vendor (repeatable)")
    parser.add_argument(
        "--budget-per-endpoint", type=int, default=80, help="at most this many requests per endpoint"
    )
    parser.add_argument("--budget", type=int, default=300, help="at most this many requests in the run")
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds per request")
    parser.add_argument(
        "--options-file",
        type=Path,
        metavar="FILE",
        help="what the emulator assumes where the docs are silent (as contracts calibrate writes it)",
    )
    parser.add_argument(
        "--option",
        type=_option,
        action="append",
        default=[],
        metavar="VENDOR.OPTION=VALUE",
        help="one assumption (repeatable; wins over --options-file)",
    )


def build_parser(prog: str | None = None) -> argparse.ArgumentParser:
    """The command line (``prog``: how the user called it, for usage and help)."""
    parser = argparse.ArgumentParser(
        prog=prog or program_name("contracts"), description="Check vendors against our contract"
    )
    commands = parser.add_subparsers(dest="command", required=True)
    check = commands.add_parser("check", help="check a target and report drift")
    _target_arguments(check)
    check.add_argument(
        "--allow-writes",
        action="store_true",
        help="with --target live: also run the write checks (buying a number costs money; "
        "what they buy is released); mock and url always run them",
    )
    check.add_argument("--report-json", type=Path)
    check.add_argument("--junit", type=Path)
    check.add_argument("--markdown", type=Path)
    check.add_argument(
        "--html",
        type=Path,
        metavar="FILE",
        help="write a self-contained HTML report (with --history: a chart)",
    )
    check.add_argument("--fail-on", choices=[s.value for s in Severity], default="error")
    check.add_argument(
        "--baseline", type=Path, metavar="FILE", help="acknowledged findings (contracts ack) do not fail"
    )
    check.add_argument(
        "--history", type=Path, metavar="FILE", help="append this run to a JSON Lines history and read it"
    )
    calibrate = commands.add_parser("calibrate", help="observe every assumption and write an options file")
    _target_arguments(calibrate)
    calibrate.add_argument(
        "--output", type=Path, default=Path("vendor-emulator.options"), help="the options file to write"
    )
    record = commands.add_parser("record", help="snapshot a target's records into fixture files")
    _target_arguments(record)
    record.add_argument("--out", type=Path, required=True, metavar="DIR", help="fixtures folder to write")
    record.add_argument(
        "--keep", action="store_true", help="keep personal data (numbers, names, e-mails) as recorded"
    )
    ack = commands.add_parser("ack", help="acknowledge findings of a JSON report in a baseline")
    ack.add_argument("--report-json", type=Path, required=True, help="a report written by check")
    ack.add_argument("--baseline", type=Path, required=True, metavar="FILE")
    ack.add_argument("--reason", required=True, help="why the finding is acceptable for now")
    ack.add_argument("--expires", type=_day, help="last day the acknowledgement applies (YYYY-MM-DD)")
    ack.add_argument("--fingerprint", action="append", help="only this finding (repeatable)")
    ack.add_argument("--kind", action="append", help="only findings of this kind (repeatable)")
    ack.add_argument("--vendor", action="append", help="only findings of this vendor (repeatable)")
    return parser


def _options(arguments: argparse.Namespace) -> dict[str, dict[str, Any]]:
    from_file = read_options_file(arguments.options_file) if arguments.options_file else {}
    given: dict[str, dict[str, Any]] = {}
    for vendor, name, value in arguments.option:
        given.setdefault(vendor, {})[name] = value
    return merged(from_file, given)


def _run(arguments: argparse.Namespace) -> Report:
    return run(
        arguments.target,
        url=arguments.url,
        vendors=arguments.vendor,
        timeout=arguments.timeout,
        budget_per_endpoint=arguments.budget_per_endpoint,
        budget_per_run=arguments.budget,
        options=_options(arguments),
        allow_writes=getattr(arguments, "allow_writes", False),
    )


def _write(path: Path | None, text: str) -> None:
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def _apply_baseline(report: Report, path: Path) -> None:
    kept, suppressed, expired = split(report.findings, read_baseline(path))
    report.findings = kept
    report.suppressed = [
        {
            **finding.as_dict(),
            "reason": ack.reason,
            "expires": ack.expires.isoformat() if ack.expires else None,
        }
        for finding, ack in suppressed
    ]
    report.notes += [
        f"baseline entry {ack.fingerprint} ({ack.data.get('kind')}, {ack.reason}) expired on {ack.expires}"
        for ack in expired
    ]


def check_command(arguments: argparse.Namespace) -> int:
    """``check``: exit 0 if no finding reaches --fail-on, 1 if one does or an endpoint was unreachable."""
    report = _run(arguments)
    if arguments.baseline:
        _apply_baseline(report, arguments.baseline)
    if arguments.history:
        append_history(arguments.history, report)
        seen = timeline(read_history(arguments.history))
        report.last_clean, report.first_seen = seen.last_clean, seen.first_seen
    fail_on = Severity(arguments.fail_on)
    _write(arguments.report_json, json.dumps(as_json(report), indent=2, default=str) + "\n")
    _write(arguments.junit, as_junit(report, fail_on))
    _write(arguments.markdown, as_markdown(report))
    if arguments.html:
        runs = history_runs(read_history(arguments.history)) if arguments.history else []
        _write(arguments.html, render_html(report, runs))
    print(summary(report))
    unreachable = any(status.status == "unreachable" for status in report.endpoints)
    if report.checked == 0 and not unreachable:
        print("error: no endpoint was checked (see the reasons above)", file=sys.stderr)
        return EXIT_USAGE
    return EXIT_FINDINGS if report.reaching(fail_on) or unreachable else EXIT_CLEAN


def calibrate_command(arguments: argparse.Namespace) -> int:
    """``calibrate``: write what the target does where the docs are silent as an options file."""
    if arguments.target == "mock":
        raise ConfigurationError("calibrate observes a real target: use --target live or --target url")
    report = _run(arguments)
    if report.checked == 0:
        print(summary(report))
        print("error: no endpoint was checked (see the reasons above)", file=sys.stderr)
        return EXIT_USAGE
    emulator = build_emulator(with_options(None, _options(arguments)))
    wanted = arguments.vendor or list(emulator.vendors)
    options = [(vendor, option.name) for vendor in wanted for option in emulator.vendors[vendor].options]
    _write(arguments.output, options_text(report, options))
    differing = [seen for seen in report.observations if seen.differs and seen.valid]
    print(f"wrote {arguments.output}: {len(report.observations)} observations, {len(differing)} differ")
    for seen in differing:
        print(f"  {seen.vendor}.{seen.option}: ours {seen.ours!r}, observed {seen.observed!r} ({seen.how})")
    return EXIT_CLEAN


def record_command(arguments: argparse.Namespace) -> int:
    """``record``: fixture files from the target's records (validated, credentials removed, PII faked)."""
    from contracts.tools.record_run import record_target  # noqa: PLC0415 - only this command needs it

    results = record_target(
        arguments.target,
        url=arguments.url,
        vendors=arguments.vendor,
        out=arguments.out,
        keep=arguments.keep,
        timeout=arguments.timeout,
        budget_per_run=arguments.budget,
        options=_options(arguments),
    )
    rejected = 0
    for result in results:
        print(f"wrote {result.path}: {len(result.records)} records, {len(result.rejected)} left out")
        for why in result.rejected[:10]:
            print(f"  left out: {why}")
        rejected += len(result.rejected)
    if not results:
        print("error: nothing was recorded (no vendor reachable with credentials)", file=sys.stderr)
        return EXIT_USAGE
    return EXIT_FINDINGS if rejected else EXIT_CLEAN


def ack_command(arguments: argparse.Namespace) -> int:
    """``ack``: add the selected findings of a JSON report to the baseline."""
    try:
        document = json.loads(arguments.report_json.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ConfigurationError(f"cannot read report {arguments.report_json}: {error}") from None
    findings = [f for f in document.get("findings", []) if isinstance(f, dict)]
    if arguments.fingerprint:
        findings = [f for f in findings if f.get("fingerprint") in arguments.fingerprint]
    if arguments.kind:
        findings = [f for f in findings if f.get("kind") in arguments.kind]
    if arguments.vendor:
        findings = [f for f in findings if f.get("vendor") in arguments.vendor]
    added = acknowledge(arguments.baseline, findings, arguments.reason, arguments.expires)
    print(f"{arguments.baseline}: {len(added)} finding(s) acknowledged ({arguments.reason})")
    for entry in added:
        print(
            f"  {entry['fingerprint']} {entry['vendor']} {entry['endpoint']} {entry['kind']} {entry['path']}"
        )
    return EXIT_CLEAN


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "check": check_command,
    "calibrate": calibrate_command,
    "record": record_command,
    "ack": ack_command,
}


def main(argv: Sequence[str] | None = None, prog: str | None = None) -> int:
    """Run one subcommand; a usage or configuration problem is one line on stderr and exit status 2."""
    check_installation()
    arguments = build_parser(prog).parse_args(argv)
    try:
        return COMMANDS[arguments.command](arguments)
    except EmulatorError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USAGE
