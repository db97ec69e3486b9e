"""Acknowledged findings (``--baseline FILE``): the nightly job fails only on what is new.

A baseline is JSON: ``{"schema": "vendor-emulator/drift-baseline/1", "acknowledged": [{"fingerprint",
"vendor", "endpoint", "kind", "path", "reason", "expires", "added"}]}``. A finding whose fingerprint is
acknowledged (and not expired: ``expires`` is a date, the last day it applies) is suppressed: it is
listed apart in the reports and does not count for ``--fail-on``. ``contracts ack`` adds findings.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from contracts.checks.findings import Finding
from mockserver.errors import ConfigurationError

SCHEMA = "vendor-emulator/drift-baseline/1"
MAX_ENTRIES = 10_000


@dataclass(frozen=True)
class Acknowledged:
    """One acknowledged finding."""

    fingerprint: str
    reason: str
    expires: date | None
    data: dict[str, Any]

    def applies(self, today: date) -> bool:
        """Whether it still suppresses (its expiry day included)."""
        return self.expires is None or today <= self.expires


def _date(text: Any, where: str) -> date | None:
    if text in (None, ""):
        return None
    try:
        return date.fromisoformat(str(text))
    except ValueError:
        raise ConfigurationError(f"{where}: expires must be a date (YYYY-MM-DD), got {text!r}") from None


def read_baseline(path: Path) -> list[Acknowledged]:
    """The acknowledged findings; a missing file is an empty baseline, a broken one an error."""
    if not path.is_file():
        return []
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ConfigurationError(f"cannot read baseline {path}: {error}") from None
    entries = document.get("acknowledged") if isinstance(document, dict) else None
    if not isinstance(entries, list):
        raise ConfigurationError(f"{path}: expected {{'schema': {SCHEMA!r}, 'acknowledged': [...]}}")
    out = []
    for index, item in enumerate(entries[:MAX_ENTRIES]):
        where = f"{path}: acknowledged[{index}]"
        if not isinstance(item, dict) or not item.get("fingerprint") or not item.get("reason"):
            raise ConfigurationError(f"{where}: needs a fingerprint and a reason")
        out.append(
            Acknowledged(
                str(item["fingerprint"]), str(item["reason"]), _date(item.get("expires"), where), item
            )
        )
    return out


def split(
    findings: Iterable[Finding], baseline: list[Acknowledged], today: date | None = None
) -> tuple[list[Finding], list[tuple[Finding, Acknowledged]], list[Acknowledged]]:
    """(new findings, suppressed findings with their acknowledgement, expired acknowledgements)."""
    today = today or datetime.now(UTC).date()
    active = {ack.fingerprint: ack for ack in baseline if ack.applies(today)}
    kept: list[Finding] = []
    suppressed: list[tuple[Finding, Acknowledged]] = []
    for finding in findings:
        ack = active.get(finding.fingerprint)
        if ack is None:
            kept.append(finding)
        else:
            suppressed.append((finding, ack))
    return kept, suppressed, [ack for ack in baseline if not ack.applies(today)]


def acknowledge(
    path: Path, findings: Iterable[dict[str, Any]], reason: str, expires: date | None
) -> list[dict[str, Any]]:
    """Add findings (as in the JSON report) to the baseline file; returns the entries added."""
    if not reason.strip():
        raise ConfigurationError("an acknowledgement needs a reason (--reason)")
    current = read_baseline(path)
    known = {ack.fingerprint for ack in current}
    added = []
    now = datetime.now(UTC).isoformat(timespec="seconds")
    for finding in findings:
        fingerprint = finding.get("fingerprint")
        if not fingerprint or fingerprint in known:
            continue
        known.add(fingerprint)
        added.append(
            {
                "fingerprint": fingerprint,
                "vendor": finding.get("vendor"),
                "endpoint": finding.get("endpoint"),
                "kind": finding.get("kind"),
                "path": finding.get("path"),
                "reason": reason,
                "expires": expires.isoformat() if expires else None,
                "added": now,
            }
        )
    entries = [ack.data for ack in current] + added
    if len(entries) > MAX_ENTRIES:
        raise ConfigurationError(f"a baseline holds at most {MAX_ENTRIES} entries")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        json.dumps({"schema": SCHEMA, "acknowledged": entries}, indent=2) + "\n", encoding="utf-8"
    )
    return added
