"""Findings: each difference between what a target does and what our schemas and declarations promise."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any


class Severity(StrEnum):
    """How much a finding matters to a client (oasdiff's view of response changes)."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        """error > warning > info."""
        return {"error": 3, "warning": 2, "info": 1}[self.value]


KINDS: dict[str, Severity] = {
    "required-property-missing": Severity.ERROR,
    "unexpected-null": Severity.ERROR,
    "type-mismatch": Severity.ERROR,
    "probable-rename": Severity.ERROR,
    "status-unexpected": Severity.ERROR,
    "media-type-changed": Severity.ERROR,
    "pagination-contract-broken": Severity.ERROR,
    "filter-semantics-changed": Severity.ERROR,
    "sort-order-changed": Severity.ERROR,
    "auth-semantics-changed": Severity.ERROR,
    "error-shape-changed": Severity.WARNING,
    "enum-value-unknown": Severity.WARNING,
    "format-mismatch": Severity.WARNING,
    "constraint-violation": Severity.WARNING,
    "undocumented-property": Severity.INFO,
    # A behaviour the docs leave open (an option of ours) that the target does differently: never drift.
    "assumption-differs": Severity.INFO,
}
INDEX = re.compile(r"/\d+(?=/|$)")


@dataclass(frozen=True)
class Finding:
    """One drift: where (vendor, endpoint, JSON path), what kind, expected vs observed, and the doc."""

    vendor: str
    endpoint: str
    kind: str
    path: str
    message: str
    expected: Any = None
    observed: Any = None
    doc: str | None = None
    count: int = 1
    examples: tuple[str, ...] = field(default_factory=tuple)
    # Where the compared behaviour comes from: "documented" (see ``doc``) or "assumption" (``option``).
    provenance: str = "documented"
    option: str | None = None
    fix: str | None = None

    @property
    def severity(self) -> Severity:
        """The severity of the finding's kind."""
        return KINDS[self.kind]

    @property
    def fingerprint(self) -> str:
        """A stable id of what drifted (not of the values seen): baselines and history match on it."""
        basis = "|".join((self.vendor, self.endpoint, self.kind, generic_path(self.path), self.option or ""))
        return hashlib.sha256(basis.encode()).hexdigest()[:16]

    def as_dict(self) -> dict[str, Any]:
        """The JSON report's form of the finding."""
        data = {
            "vendor": self.vendor,
            "endpoint": self.endpoint,
            "kind": self.kind,
            "severity": self.severity.value,
            "path": self.path,
            "message": self.message,
            "expected": self.expected,
            "observed": self.observed,
            "doc": self.doc,
            "provenance": self.provenance,
            "fingerprint": self.fingerprint,
        }
        if self.option is not None:
            data["option"] = self.option
        if self.fix is not None:
            data["fix"] = self.fix
        if self.count > 1:
            data["count"] = self.count
            data["examples"] = list(self.examples)
        return data


def generic_path(path: str) -> str:
    """``/data/3/phone_number`` becomes ``/data/*/phone_number``: one path for every item of a list."""
    return INDEX.sub("/*", path)


def grouped(findings: Iterable[Finding], examples: int = 3) -> list[Finding]:
    """One finding per (endpoint, kind, generic path, expected, option); the rest counted, a few shown."""
    groups: dict[tuple[str, str, str, str, str, str], list[Finding]] = {}
    for finding in findings:
        key = (
            finding.vendor,
            finding.endpoint,
            finding.kind,
            generic_path(finding.path),
            repr(finding.expected),
            finding.option or "",
        )
        groups.setdefault(key, []).append(finding)
    merged = []
    for members in groups.values():
        first = members[0]
        if len(members) == 1:
            merged.append(first)
            continue
        shown = tuple(f"{member.path}: {member.observed!r}"[:200] for member in members[:examples])
        merged.append(replace(first, path=generic_path(first.path), count=len(members), examples=shown))
    return merged


class FindingsOf:
    """What a check of one operation records: its findings, each named by vendor, label and doc.

    Mixed into the checks of a list endpoint and of a write (dataclasses that set these attributes).
    """

    vendor_id: str
    label: str
    doc: str | None
    findings: list[Finding]

    def add(  # noqa: PLR0917 - the fields of a finding, in its order
        self,
        kind: str,
        path: str,
        message: str,
        expected: Any = None,
        observed: Any = None,
        doc: str | None = None,
    ) -> None:
        """Record a finding for this operation."""
        self.findings.append(
            Finding(self.vendor_id, self.label, kind, path, message, expected, observed, doc or self.doc)
        )
