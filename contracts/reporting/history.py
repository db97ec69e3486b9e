"""The drift history: one JSON object per run, appended to a JSON Lines file (``--history FILE``).

Each line: ``{"schema": "vendor-emulator/drift-history/1", "run_at", "target", "counts": {"error",
"warning", "info"}, "endpoints": {"<vendor> <METHOD> <path>": {"state", "findings": [{"kind",
"severity", "path", "fingerprint", ...}]}}}``. ``state`` is ``clean``, ``drift`` (a finding other than
an assumption that differs), ``assumption-differs`` (only those) or ``unreachable``; skipped endpoints
are left out (they were not verified). The report reads it back to show, per endpoint, when it was last
verified clean and when each open finding was first seen.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from contracts.checks.findings import Finding, Severity
from contracts.checks.runner import Report

SCHEMA = "vendor-emulator/drift-history/1"
MAX_RUNS = 2000  # read at most the last this many runs (about five years of nightly runs)


def endpoint_key(vendor: str, endpoint: str) -> str:
    """``butter GET /api/phone-numbers``."""
    return f"{vendor} {endpoint}"


def state(status: str, findings: list[Finding]) -> str:
    """One endpoint's state in a run."""
    if status == "unreachable":
        return "unreachable"
    if any(f.kind != "assumption-differs" for f in findings):
        return "drift"
    return "assumption-differs" if findings else "clean"


def entry(report: Report) -> dict[str, Any]:
    """The history line of one run."""
    endpoints: dict[str, Any] = {}
    for status in report.endpoints:
        if status.status == "skipped":
            continue
        mine = [f for f in report.findings if (f.vendor, f.endpoint) == (status.vendor, status.endpoint)]
        endpoints[endpoint_key(status.vendor, status.endpoint)] = {
            "state": state(status.status, mine),
            "findings": [
                {
                    "kind": f.kind,
                    "severity": f.severity.value,
                    "path": f.path,
                    "fingerprint": f.fingerprint,
                    "message": f.message,
                    **({"option": f.option} if f.option else {}),
                }
                for f in mine
            ],
        }
    return {
        "schema": SCHEMA,
        "run_at": report.started,
        "target": report.target,
        "counts": {s.value: sum(1 for f in report.findings if f.severity == s) for s in Severity},
        "endpoints": endpoints,
    }


def append_history(path: Path | str, report: Report) -> dict[str, Any]:
    """Append this run's line to the history file (created if missing); returns the line's object."""
    line = entry(report)
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(line, sort_keys=True, default=str)
    with target.open("a+b") as handle:
        handle.seek(0, 2)
        if handle.tell() > 0:  # a previous run cut short may have left a partial line: start a new one
            handle.seek(-1, 2)
            if handle.read(1) != b"\n":
                handle.write(b"\n")
        handle.write(text.encode() + b"\n")
    return line


def read_history(path: Path | str) -> list[dict[str, Any]]:
    """Every run in the file, oldest first (the last MAX_RUNS); a truncated or foreign line is skipped."""
    target = Path(path)
    if not target.is_file():
        return []
    runs: deque[dict[str, Any]] = deque(maxlen=MAX_RUNS)
    with target.open(encoding="utf-8", errors="replace") as handle:
        for line in handle:
            try:
                run = json.loads(line)
            except json.JSONDecodeError:
                continue
            if (
                isinstance(run, dict)
                and run.get("schema") == SCHEMA
                and isinstance(run.get("endpoints"), dict)
            ):
                runs.append(run)
    return list(runs)


@dataclass(frozen=True)
class HistoryRun:
    """One run of a history, as the HTML report charts it: when, against what, findings per severity."""

    run_at: str
    target: str
    counts: Mapping[str, int]
    endpoints: Mapping[str, Any] = field(default_factory=dict)

    @property
    def total(self) -> int:
        """Findings of every severity."""
        return sum(self.counts.values())


def history_runs(runs: list[dict[str, Any]]) -> list[HistoryRun]:
    """The runs of ``read_history`` whose counts are usable (non-negative integers); unknown fields and
    severities are ignored."""
    out = []
    for run in runs:
        counts = run.get("counts")
        if not isinstance(counts, dict):
            continue
        known = {s.value: counts.get(s.value, 0) for s in Severity}
        if all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in known.values()):
            out.append(HistoryRun(str(run.get("run_at", "")), str(run.get("target", "")), known,
                                  run["endpoints"]))  # fmt: skip
    return out


@dataclass
class Timeline:
    """Per endpoint: when it was last verified clean, and when each finding was first seen (unbroken)."""

    last_clean: dict[str, str] = field(default_factory=dict)
    first_seen: dict[str, dict[str, str]] = field(default_factory=dict)


def timeline(runs: list[dict[str, Any]]) -> Timeline:
    """Read the history: a finding's first sighting restarts if a run saw the endpoint without it."""
    out = Timeline()
    for run in runs:
        when = str(run.get("run_at", ""))
        for key, seen in run["endpoints"].items():
            if not isinstance(seen, dict):
                continue
            if seen.get("state") == "clean":
                out.last_clean[key] = when
            if seen.get("state") == "unreachable":
                continue
            prints = {str(f.get("fingerprint")) for f in seen.get("findings", []) if isinstance(f, dict)}
            known = out.first_seen.setdefault(key, {})
            for gone in set(known) - prints:
                del known[gone]
            for fingerprint in prints:
                known.setdefault(fingerprint, when)
    return out
