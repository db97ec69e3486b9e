"""The drift history: one JSON line per contract run, appended by ``contracts check --history FILE``.

Each line is ``{"schema": "vendor-emulator/drift-history/1", "run_at": "<ISO-8601 UTC>", "target":
"mock|url|live", "counts": {"error": n, "warning": n, "info": n}, "endpoints": {"<vendor> <METHOD>
<path>": {"state": "clean|drift|assumption-differs|unreachable", "findings": [{"kind", "severity",
"path", "fingerprint"}]}}}``. Readers ignore fields they do not know and a last line cut short (a run
killed while writing); a skipped endpoint is not in a run's ``endpoints``.
"""

from __future__ import annotations

import hashlib
import json
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from contracts.findings import Finding, Severity, generic_path
from contracts.runner import Report

SCHEMA = "vendor-emulator/drift-history/1"
STATES = ("clean", "drift", "assumption-differs", "unreachable")
MAX_RUNS = 10_000  # read at most the newest runs of a history (a nightly run for 27 years)


@dataclass(frozen=True)
class HistoryRun:
    """One run of a history file."""

    run_at: str
    target: str
    counts: Mapping[str, int]
    endpoints: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    @property
    def total(self) -> int:
        """Findings of every severity."""
        return sum(self.counts.values())


def fingerprint(finding: Finding) -> str:
    """A stable id of a finding across runs: vendor, endpoint, kind, generic JSON path and expectation."""
    text = "\x1f".join(
        [finding.vendor, finding.endpoint, finding.kind, generic_path(finding.path), repr(finding.expected)]
    )
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def endpoint_key(vendor: str, endpoint: str) -> str:
    """``famulor GET /api/user/phone-numbers``: how a history names an endpoint."""
    return f"{vendor} {endpoint}"


def history_line(report: Report, states: Mapping[tuple[str, str], str]) -> dict[str, Any]:
    """The history object of one run; ``states`` maps (vendor, endpoint) to its state."""
    endpoints: dict[str, Any] = {}
    for status in report.endpoints:
        state = states.get((status.vendor, status.endpoint))
        if state is None:  # skipped: nothing was checked
            continue
        mine = [f for f in report.findings if (f.vendor, f.endpoint) == (status.vendor, status.endpoint)]
        endpoints[endpoint_key(status.vendor, status.endpoint)] = {
            "state": state,
            "findings": [
                {"kind": f.kind, "severity": f.severity.value, "path": f.path, "fingerprint": fingerprint(f)}
                for f in mine
            ],
        }
    return {
        "schema": SCHEMA,
        "run_at": _utc(report.started),
        "target": report.target,
        "counts": {s.value: sum(1 for f in report.findings if f.severity == s) for s in Severity},
        "endpoints": endpoints,
    }


def _utc(started: str) -> str:
    try:
        moment = datetime.fromisoformat(started)
    except ValueError:
        moment = datetime.now(UTC)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def append_history(path: Path, report: Report) -> dict[str, Any]:
    """Add one run to the history file at ``path`` (created with its folder if missing)."""
    from contracts.report_html import endpoint_states  # noqa: PLC0415 - report_html reads history too

    line = history_line(report, endpoint_states(report))
    path.parent.mkdir(parents=True, exist_ok=True)
    existing = path.read_bytes() if path.is_file() else b""
    with path.open("a", encoding="utf-8") as handle:
        if existing and not existing.endswith(b"\n"):
            handle.write("\n")  # a line cut short stays its own (ignored) line
        handle.write(json.dumps(line, sort_keys=True, default=str) + "\n")
    return line


def _run(data: Any) -> HistoryRun | None:
    if not isinstance(data, dict) or data.get("schema") != SCHEMA:
        return None
    counts = data.get("counts")
    if not isinstance(counts, dict):
        return None
    known = {s.value: counts.get(s.value, 0) for s in Severity}
    if not all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in known.values()):
        return None
    endpoints = data.get("endpoints")
    return HistoryRun(
        run_at=str(data.get("run_at", "")),
        target=str(data.get("target", "")),
        counts=known,
        endpoints=endpoints if isinstance(endpoints, dict) else {},
    )


def read_history(path: Path) -> list[HistoryRun]:
    """The runs of a history file, oldest first; unreadable lines (a truncated last one) are skipped."""
    if not path.is_file():
        return []
    runs: deque[HistoryRun] = deque(maxlen=MAX_RUNS)
    with path.open("rb") as handle:
        for raw in handle:
            try:
                run = _run(json.loads(raw))
            except (ValueError, RecursionError):
                continue
            if run is not None:
                runs.append(run)
    return list(runs)
