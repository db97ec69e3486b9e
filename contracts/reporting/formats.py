"""Reports of a contract run: JSON (for machines), JUnit (for CI), Markdown (for people) and the terminal."""

from __future__ import annotations

import json
from typing import Any
from xml.etree import ElementTree as ET

from contracts.checks.findings import Finding, Severity
from contracts.checks.runner import Report

SEVERITY_ORDER = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}


def as_json(report: Report) -> dict[str, Any]:
    """The JSON report: target, per-endpoint status, and the findings."""
    return {
        "target": report.target,
        "started": report.started,
        "summary": {
            "endpoints": len(report.endpoints),
            "checked": report.checked,
            "findings": {
                severity.value: sum(1 for f in report.findings if f.severity == severity)
                for severity in Severity
            },
        },
        "endpoints": [
            {
                **status.as_dict(),
                **_known(report.last_clean, f"{status.vendor} {status.endpoint}", "last_verified_clean"),
            }
            for status in report.endpoints
        ],
        "findings": [
            {**finding.as_dict(), "first_seen": report.first_seen_of(finding)}
            for finding in _sorted(report.findings)
        ],
        "observations": [seen.as_dict() for seen in report.observations],
        "suppressed": report.suppressed,
        "notes": report.notes,
    }


def _known(values: dict[str, str], key: str, name: str) -> dict[str, str]:
    return {name: values[key]} if key in values else {}


def _sorted(findings: list[Finding]) -> list[Finding]:
    return sorted(findings, key=lambda f: (SEVERITY_ORDER[f.severity], f.vendor, f.endpoint, f.kind, f.path))


def _describe(finding: Finding) -> str:
    counted = f" ({finding.count} occurrences)" if finding.count > 1 else ""
    return (
        f"[{finding.severity.value}] {finding.kind} at {finding.path or '/'}: {finding.message}{counted}; "
        f"expected {json.dumps(finding.expected, default=str)}, "
        f"observed {json.dumps(finding.observed, default=str)}"
        + (f"; doc {finding.doc}" if finding.doc and finding.provenance == "documented" else "")
        + (f"; assumption {finding.option}" if finding.option else "")
    )


def as_junit(report: Report, fail_on: Severity) -> str:
    """JUnit XML: one test case per endpoint; findings at or above ``fail_on`` are failures."""
    suite = ET.Element("testsuite", name=f"contracts ({report.target})", tests=str(len(report.endpoints)))
    failures = errors = skipped = 0
    for status in report.endpoints:
        case = ET.SubElement(suite, "testcase", classname=f"contracts.{status.vendor}", name=status.endpoint)
        mine = [f for f in report.findings if (f.vendor, f.endpoint) == (status.vendor, status.endpoint)]
        failing = [f for f in mine if f.severity.rank >= fail_on.rank]
        if status.status == "skipped":
            skipped += 1
            ET.SubElement(case, "skipped", message=status.reason or "")
        elif status.status == "unreachable":
            errors += 1
            ET.SubElement(case, "error", message=status.reason or "unreachable")
        elif failing:
            failures += 1
            failure = ET.SubElement(
                case, "failure", message=f"{len(failing)} finding(s) at or above {fail_on.value}"
            )
            failure.text = "\n".join(_describe(f) for f in _sorted(failing))
        others = [f for f in mine if f not in failing]
        if others:
            ET.SubElement(case, "system-out").text = "\n".join(_describe(f) for f in _sorted(others))
    suite.set("failures", str(failures))
    suite.set("errors", str(errors))
    suite.set("skipped", str(skipped))
    return ET.tostring(suite, encoding="unicode", xml_declaration=True)


def as_markdown(report: Report) -> str:
    """A Markdown report for people: endpoints, findings by severity, acknowledged findings, run notes."""
    lines = [
        f"# Contract check: {report.target}",
        "",
        f"Started {report.started}.",
        "",
        "| vendor | endpoint | status | requests | last verified clean |",
        "|---|---|---|---|---|",
    ]
    for s in report.endpoints:
        clean = report.last_clean.get(f"{s.vendor} {s.endpoint}", "never (in the history)")
        if s.status == "checked" and not _mine(report, s.vendor, s.endpoint):
            clean = f"{report.started} (this run)"
        reason = f": {s.reason}" if s.reason else ""
        lines.append(f"| {s.vendor} | `{s.endpoint}` | {s.status}{reason} | {s.requests} | {clean} |")
    lines += ["", f"## Findings ({len(report.findings)})", ""]
    if not report.findings:
        lines.append("None: every checked endpoint keeps the documented contract.")
    for finding in _sorted(report.findings):
        lines.append(
            f"- **{finding.severity.value}** `{finding.vendor}` `{finding.endpoint}` {_describe(finding)}; "
            f"first seen {report.first_seen_of(finding)}"
        )
    if report.suppressed:
        lines += ["", f"## Acknowledged in the baseline ({len(report.suppressed)})", ""]
        lines += [
            f"- `{f['vendor']}` `{f['endpoint']}` {f['kind']} at {f['path'] or '/'}: {f['reason']}"
            + (f" (until {f['expires']})" if f.get("expires") else "")
            for f in report.suppressed
        ]
    notes = [(s, note) for s in report.endpoints for note in s.notes]
    if notes or report.notes:
        lines += ["", "## Run notes", ""]
        lines += [f"- {note}" for note in report.notes]
        lines += [f"- `{s.vendor}` `{s.endpoint}`: {note}" for s, note in notes]
    return "\n".join(lines) + "\n"


def _mine(report: Report, vendor: str, endpoint: str) -> list[Finding]:
    return [f for f in report.findings if (f.vendor, f.endpoint) == (vendor, endpoint)]


def summary(report: Report) -> str:
    """The terminal output: one line per endpoint, then the findings."""
    lines = []
    for status in report.endpoints:
        mine = [f for f in report.findings if (f.vendor, f.endpoint) == (status.vendor, status.endpoint)]
        counts = ", ".join(f"{sum(1 for f in mine if f.severity == s)} {s.value}" for s in Severity)
        detail = status.reason if status.status != "checked" else f"{counts} ({status.requests} requests)"
        lines.append(f"{status.status:<12}{status.vendor:<13}{status.endpoint:<40}{detail}")
    if report.findings:
        lines += ["", *(f"{f.vendor} {f.endpoint} {_describe(f)}" for f in _sorted(report.findings))]
    return "\n".join(lines)
