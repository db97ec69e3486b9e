"""Drift rehearsal of a whole test suite (``pytest --vendor-drift=...``, docs/drifts.md): which drifts a run
serves, the bounds of one drifted test, and the resilience matrix (drift x test -> outcome) in text,
JSON and Markdown.

The pytest plugin (:mod:`mockserver.testing.plugin`) parametrises the tests by :class:`DriftCase` and
records each outcome in a :class:`Matrix`; this module knows nothing of pytest's hooks.

- :func:`parse_option` reads the option's values: ``all``, or ids separated by commas, each a bare
  ``ID`` (every vendor where it applies) or ``VENDOR:ID[:param=value,...]``; a ``name=value`` piece after
  a comma continues the previous drift's parameters (drift ids always hold a dot, parameter names never).
- :func:`expand` turns them into the cases to run, checked against each vendor's catalogue.
- :class:`RequestBudget` cuts a drifted test that makes too many requests (a client paging for ever) or
  runs too long, with :class:`RehearsalCutError` naming the drift and the bound.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:  # the pytest plugin imports this module in every session: the drifts only when used
    from mockserver.drifts import VendorDrifts

ALL = "all"
PLAIN = "plain"
DEFAULT_MAX_REQUESTS = 300
DEFAULT_TIMEOUT = 60.0
Outcome = Literal["passed", "failed", "skipped", "cut"]
REPORT_FORMATS = (".json", ".md")


@dataclass(frozen=True)
class DriftCase:
    """One drift of one vendor, served to every test that uses that vendor's mock."""

    vendor: str
    drift: str
    params: tuple[tuple[str, str], ...] = ()

    @property
    def label(self) -> str:
        """``VENDOR:ID[:name=value,...]``: the spec ``switch_on`` takes and the test id's ``drift=`` part."""
        given = ",".join(f"{name}={value}" for name, value in self.params)
        return f"{self.vendor}:{self.drift}" + (f":{given}" if given else "")


@dataclass(frozen=True)
class Asked:
    """One drift as the option names it: its vendor (None: every vendor where it applies), id, params."""

    vendor: str | None
    drift: str
    params: tuple[tuple[str, str], ...] = ()


def parse_option(values: Iterable[str]) -> list[Asked] | None:
    """The drifts the ``--vendor-drift`` values ask for (None: ``all``); ValueError for bad syntax."""
    pieces = [piece.strip() for value in values for piece in value.split(",") if piece.strip()]
    if ALL in pieces:
        if len(pieces) > 1:
            raise ValueError(f"'{ALL}' is every drift: name no other drift beside it")
        return None
    asked: list[Asked] = []
    for piece in pieces:
        name, equals, value = piece.partition("=")
        if equals and ":" not in name and "." not in name:  # a parameter continuing the drift before it
            if not asked or not name:
                raise ValueError(f"a parameter {piece!r} needs a drift before it (VENDOR:ID:{piece})")
            last = asked[-1]
            asked[-1] = Asked(last.vendor, last.drift, (*last.params, (name, value)))
            continue
        parts = piece.split(":", 2)
        vendor: str | None = None
        if "." in parts[0]:  # a bare ID (ids hold a dot, vendors do not), maybe with parameters
            drift, given = parts[0], ":".join(parts[1:])
        else:
            vendor, drift, given = parts[0], parts[1] if len(parts) > 1 else "", ":".join(parts[2:])
        if not drift or "." not in drift or vendor == "":
            raise ValueError(f"a drift is ID or VENDOR:ID[:param=value,...], got {piece!r}")
        params: list[tuple[str, str]] = []
        if given:
            key, equals, text = given.partition("=")
            if not equals or not key:
                raise ValueError(f"a drift's parameters are name=value pairs, got {given!r}")
            params.append((key, text))
        asked.append(Asked(vendor, drift, tuple(params)))
    if not asked:
        raise ValueError(f"name drifts (ID, VENDOR:ID[:param=value,...]) or '{ALL}'")
    return asked


def expand(asked: Sequence[Asked] | None, catalogues: Mapping[str, VendorDrifts]) -> list[DriftCase]:
    """The cases to run, in the order asked (None, ``all``: vendor by vendor, drift by drift).

    ValueError (listing what is allowed) for an unknown vendor or drift, a drift that applies to no vendor
    named, or a bad parameter.
    """
    if asked is None:
        return [
            DriftCase(vendor, drift) for vendor in sorted(catalogues) for drift in catalogues[vendor].listings
        ]
    from mockserver.drifts import DriftError  # noqa: PLC0415 - see the imports

    cases: list[DriftCase] = []
    for one in asked:
        if one.vendor is not None and one.vendor not in catalogues:
            raise ValueError(f"no vendor {one.vendor!r}; known: {', '.join(sorted(catalogues))}")
        vendors = [one.vendor] if one.vendor is not None else sorted(catalogues)
        found = [vendor for vendor in vendors if one.drift in catalogues[vendor].listings]
        if not found:
            known = sorted({drift for vendor in vendors for drift in catalogues[vendor].listings})
            where = one.vendor or "any vendor"
            raise ValueError(f"no drift {one.drift!r} for {where}; known: {', '.join(known)}")
        for vendor in found:
            try:
                catalogues[vendor].check(one.drift, dict(one.params))
            except DriftError as error:
                raise ValueError(f"{vendor}:{one.drift}: {error}") from None
            case = DriftCase(vendor, one.drift, one.params)
            if case not in cases:
                cases.append(case)
    return cases


class RehearsalCutError(AssertionError):
    """A drifted test was cut: it made more requests than the cap, or ran longer than the time bound."""


@dataclass
class RequestBudget:
    """The bounds of one drifted test: at most ``max_requests`` requests to the vendors, within
    ``timeout`` seconds (checked at each request). ``charge`` is called before each answer."""

    case: DriftCase
    max_requests: int = DEFAULT_MAX_REQUESTS
    timeout: float = DEFAULT_TIMEOUT
    used: int = 0
    started: float = field(default_factory=time.monotonic)
    cut: str | None = None

    def charge(self) -> None:
        """Count one request; RehearsalCutError once a bound is passed (and for every request after it)."""
        self.used += 1
        if self.used > self.max_requests:
            self.cut = (
                f"vendor-emulator: request cap reached under drift {self.case.label}: more than"
                f" {self.max_requests} requests in this test (--vendor-drift-max-requests);"
                " the client may be paging for ever"
            )
        elif time.monotonic() - self.started > self.timeout:
            self.cut = (
                f"vendor-emulator: time bound reached under drift {self.case.label}: the test ran more than"
                f" {self.timeout:g} s (--vendor-drift-timeout)"
            )
        if self.cut is not None:
            raise RehearsalCutError(self.cut)


@dataclass
class Matrix:
    """Outcomes by test (its id without the drift part) and by column (``plain`` or a drift's label)."""

    cases: list[DriftCase]
    results: dict[str, dict[str, Outcome]] = field(default_factory=dict)
    cut: dict[str, dict[str, str]] = field(default_factory=dict)

    def record(self, test: str, column: str, outcome: Outcome, message: str | None = None) -> None:
        """Note the outcome of ``test`` in ``column`` (a failure beats an earlier phase's pass)."""
        row = self.results.setdefault(test, {})
        if row.get(column) in ("failed", "cut") and outcome == "passed":
            return
        row[column] = outcome
        if outcome == "cut" and message:
            self.cut.setdefault(column, {})[test] = message

    @property
    def columns(self) -> list[str]:
        """``plain``, then every drift that ran at least one test, in the order asked."""
        ran = {column for row in self.results.values() for column in row}
        return [PLAIN, *(case.label for case in self.cases if case.label in ran)]

    def tally(self, column: str) -> tuple[list[str], list[str]]:
        """The tests that passed and those that failed (or were cut) in ``column``."""
        passed = [test for test, row in self.results.items() if row.get(column) == "passed"]
        failed = [test for test, row in self.results.items() if row.get(column) in ("failed", "cut")]
        return passed, failed

    def tolerated(self) -> list[str]:
        """The drifts under which every test that ran passed: tolerated, or no test would notice."""
        found = []
        for column in self.columns[1:]:
            passed, failed = self.tally(column)
            if passed and not failed:
                found.append(column)
        return found

    def untried(self) -> list[str]:
        """The drifts asked for that no test ran (no test uses their vendor's mock)."""
        ran = set(self.columns)
        return [case.label for case in self.cases if case.label not in ran]

    # ------------------------------------------------------------------ renderings

    def as_dict(self) -> dict[str, Any]:
        """The JSON report: every column's tally, each test's outcomes, the tolerated and cut drifts."""
        columns = []
        for column in self.columns:
            passed, failed = self.tally(column)
            columns.append(
                {"drift": column, "passed": len(passed), "failed": len(failed), "failed_tests": failed}
            )
        return {
            "generated": datetime.now(UTC).replace(microsecond=0).isoformat(),
            "columns": columns,
            "tests": {test: dict(row) for test, row in self.results.items()},
            "tolerated": self.tolerated(),
            "cut": {column: dict(tests) for column, tests in self.cut.items()},
            "not_run": self.untried(),
        }

    def to_json(self) -> str:
        """:meth:`as_dict` as indented JSON."""
        return json.dumps(self.as_dict(), indent=2) + "\n"

    def to_markdown(self) -> str:
        """A Markdown table: one row per drift (``plain`` first), one column per test."""
        tests = list(self.results)
        marks = {"passed": "pass", "failed": "**FAIL**", "cut": "**CUT**", "skipped": "skip"}
        lines = [
            "| drift | passed | " + " | ".join(f"`{_short(test)}`" for test in tests) + " |",
            "|---|---|" + "---|" * len(tests),
        ]
        for column in self.columns:
            passed, failed = self.tally(column)
            cells = [marks.get(self.results[test].get(column, ""), "") for test in tests]
            lines.append(
                f"| `{column}` | {len(passed)}/{len(passed) + len(failed)} | " + " | ".join(cells) + " |"
            )
        tolerated = self.tolerated()
        lines.append("")
        lines.append(
            "Every test passed under: "
            + ", ".join(f"`{column}`" for column in tolerated)
            + " (tolerated, or no test would notice)."
            if tolerated
            else "No drift left every test passing."
        )
        return "\n".join(lines) + "\n"

    def to_text(self) -> list[str]:
        """The terminal summary's lines: a row per drift with its tally and the tests that failed."""
        width = max((len(column) for column in self.columns), default=5)
        lines = [f"{'drift':<{width}}  passed  failed tests"]
        for column in self.columns:
            passed, failed = self.tally(column)
            names = ", ".join(
                _short(test) + (" (cut)" if test in self.cut.get(column, {}) else "") for test in failed
            )
            lines.append(f"{column:<{width}}  {len(passed):>3}/{len(passed) + len(failed):<3} {names}")
        tolerated = self.tolerated()
        if tolerated:
            lines.append("every test passed under these drifts (tolerated, or no test would notice):")
            lines += [f"  {column}" for column in tolerated]
        untried = self.untried()
        if untried:
            lines.append(f"not run (no test uses the vendor's mock): {', '.join(untried)}")
        return lines


def _short(test: str) -> str:
    """A test's id without its file (``tests/x.py::test_a`` -> ``test_a``)."""
    return test.rsplit("::", 1)[-1]


def write_report(matrix: Matrix, path: str) -> None:
    """Write the matrix to ``path``: JSON for ``.json``, Markdown for ``.md``."""
    text = matrix.to_json() if path.endswith(".json") else matrix.to_markdown()
    Path(path).write_text(text, encoding="utf-8")
