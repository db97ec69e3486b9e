"""Done when (issue 24 part 3): ``--drift-from`` replays a report produced by the suite's own drifting
upstreams. For drifts of every family the monitor sees, across the vendors: the drifted emulator is
checked, its JSON report replayed as drifts on a fresh emulator, and that one checked again reports the
same finding kinds (a round trip). A report whose findings no drift expresses lists them instead.

The monitor runs in-process here (the emulator's engine, as served over HTTP); tests/system/
test_drift_from.py goes the whole way over HTTP: ``serve --drift``, ``contracts check --target url
--report-json``, ``serve --drift-from``.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

import pytest

from contracts.checks.runner import run
from contracts.reporting.formats import as_json
from mockserver.drifts import VendorDrifts
from mockserver.drifts.replay import Replay, declared_drifts, findings_of, replay
from mockserver.engine.config import DriftSetting
from tests.conftest import SCHEMAS, data_config

ASSUMED = "assumption-differs"  # an option of ours the target does otherwise: never replayed as drift
ROUND_TRIPS = [  # (vendor, drift): one per family at least, across the vendors
    ("contactship", "field.renamed"),
    ("mindhunters", "field.number-as-string"),
    ("famulor", "format.e164-without-plus"),
    ("mindhunters", "enum.new-value"),
    ("butter", "envelope.unwrapped"),
    ("contactship", "paging.size-clamped"),
    ("butter", "paging.end-flag-never-false"),
    ("mindhunters", "paging.cursor-ignored"),
    ("contactship", "paging.total-is-page-length"),
    ("contactship", "semantics.default-page-size-changed"),
    ("famulor", "semantics.default-filter-changed"),
    ("butter", "transport.burst"),
    ("mindhunters", "transport.media-type"),
    ("famulor", "auth.unauthorized-is-forbidden"),
    ("contactship", "errors.other-shape"),
]


@cache
def vendors() -> dict[str, VendorDrifts]:
    return declared_drifts(SCHEMAS)


def report(vendor: str, drifts: tuple[DriftSetting, ...]) -> dict[str, Any]:
    """The JSON report of ``contracts check`` on the emulator serving ``drifts``, as written to a file."""
    checked = run("mock", vendors=[vendor], sleep=lambda seconds: None, config=data_config(drifts=drifts))
    return dict(json.loads(json.dumps(as_json(checked), default=str)))


def kinds(found: dict[str, Any]) -> set[str]:
    return {finding["kind"] for finding in found["findings"]} - {ASSUMED}


def replayed(found: dict[str, Any]) -> Replay:
    return replay(findings_of(found), vendors())


def settings(result: Replay) -> tuple[DriftSetting, ...]:
    return tuple(DriftSetting(item.vendor, item.drift, item.params, item.endpoint) for item in result.served)


@pytest.mark.parametrize(("vendor", "drift"), ROUND_TRIPS, ids=[f"{v}-{d}" for v, d in ROUND_TRIPS])
def test_a_replayed_report_shows_the_same_finding_kinds(vendor: str, drift: str) -> None:
    first = report(vendor, (DriftSetting(vendor, drift),))
    assert kinds(first), f"{vendor} under {drift}: the monitor found nothing to replay"
    result = replayed(first)
    assert drift in {item.drift for item in result.served}, result.lines()
    again = report(vendor, settings(result))
    assert kinds(again) == kinds(first), result.lines()


def test_findings_no_drift_expresses_are_listed_and_nothing_else_is_served() -> None:
    # every member of an object envelope missing at once (envelope.wrapped): no drift reads that detail
    wrapped = replayed(report("contactship", (DriftSetting("contactship", "envelope.wrapped"),)))
    assert not wrapped.served
    assert {left.finding.kind for left in wrapped.unexpressed} >= {"required-property-missing"}
    # a direction that is our assumption: the report's own fix (--option), not a drift
    ordered = replayed(report("butter", (DriftSetting("butter", "semantics.default-order-changed"),)))
    assert not ordered.served
    [left] = ordered.unexpressed
    assert "--option butter.sort_direction=asc" in left.reason
