"""The drift detector, proven against a local upstream that drifts on purpose, one kind at a time, for every
declared vendor (the scenarios are applied generically, from each vendor's schemas and envelope).

``--target live`` is pointed at 127.0.0.1 through the *_BASE_URL variables; the upstream forwards to the
emulator and alters what it answers. Each drift must be found, with the right kind and severity, on every
endpoint where it applies; the undrifted upstream must give no error and no warning.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from contracts import run
from contracts.checks import provenance
from contracts.checks.findings import KINDS, Severity
from contracts.checks.writes import WRITES_NEED_FLAG, label
from mockserver.documents.schemas import SchemaStore
from mockserver.engine.emulator import build_emulator
from mockserver.kinds.templates import placeholders
from tests import drifting_upstream as drift
from tests.conftest import data_config
from tests.drifting_upstream import Upstream

CONFIG = data_config()
SPECS = build_emulator(CONFIG).vendors
STORE = SchemaStore(CONFIG.schemas_dir)
VENDORS = list(SPECS)
ENDPOINTS = [(vendor_id, e) for vendor_id, spec in SPECS.items() for e in spec.endpoints]
# The contract walks a list whose envelope gives its total, or follows cursors to the end.
PAGINATED = {
    f"GET {e.path}"
    for _, e in ENDPOINTS
    if e.paging.style == "cursor" or (e.paging.style != "none" and "total" in placeholders(e.envelope))
}
FILTERED = {f"GET {e.path}" for _, e in ENDPOINTS if any(f.narrows for f in e.filters)}
# Where an option decides the order's direction, a reversed listing is an assumption that differs (info);
# where the docs give it, it is drift.
ASSUMED_ORDER = {
    f"GET {e.path}"
    for v, e in ENDPOINTS
    if all(provenance.site(SPECS[v], "order", choice, e) for choice in e.order.options)
}
DOCUMENTED_ORDER = {f"GET {e.path}" for _, e in ENDPOINTS} - ASSUMED_ORDER
# A search (what a vendor offers to buy) is checked like a list: drift of its status, media type, error
# bodies and refusals is found on it too. (The scenarios that change items know a list's envelope only.)
SEARCHES = {
    (vendor_id, label(w)) for vendor_id, spec in SPECS.items() for w in spec.writes if w.operation == "search"
}
ON_SEARCHES = {"status-unexpected", "media-type-changed", "error-shape-changed", "auth-semantics-changed"}
EVERY = None
SCENARIOS: dict[str, tuple[dict[str, Any], set[str] | None]] = {
    "probable-rename": ({"mutation": drift.rename}, EVERY),
    "required-property-missing": ({"mutation": drift.missing}, EVERY),
    "unexpected-null": ({"mutation": drift.null}, EVERY),
    "type-mismatch": ({"mutation": drift.type_change}, EVERY),
    "format-mismatch": ({"mutation": drift.format_change}, EVERY),
    "enum-value-unknown": ({"mutation": drift.enum_unknown}, EVERY),
    "undocumented-property": ({"mutation": drift.extra_field}, EVERY),
    "constraint-violation": ({"mutation": drift.constraint}, EVERY),
    "status-unexpected": ({"mutation": drift.server_error}, EVERY),
    "media-type-changed": ({"mutation": drift.login_page}, EVERY),
    "error-shape-changed": ({"mutation": drift.error_shape}, EVERY),
    "auth-semantics-changed": ({"ignore_auth": True}, EVERY),
    "pagination-contract-broken": ({"mutation": drift.duplicate_across_pages}, PAGINATED),
    "filter-semantics-changed": ({"ignore_filters": True}, FILTERED),
    "sort-order-changed": ({"mutation": drift.reversed_order}, DOCUMENTED_ORDER),
    "assumption-differs": ({"mutation": drift.reversed_order}, ASSUMED_ORDER),
}


@pytest.fixture(scope="module")
def upstream() -> Iterator[Upstream]:
    running = drift.start(CONFIG)
    yield running.upstream
    drift.stop(running)


def live(upstream: Upstream, vendor: str, **secrets: str) -> Any:
    environ = upstream.environ(**secrets)
    return run("live", vendors=[vendor], environ=environ, sleep=lambda seconds: None, config=CONFIG)


@pytest.mark.parametrize("vendor", VENDORS)
def test_the_undrifted_upstream_gives_no_error_and_no_warning(upstream: Upstream, vendor: str) -> None:
    upstream.play()
    report = live(upstream, vendor)
    checked = {status.endpoint for status in report.endpoints if status.status == "checked"}
    skipped = {status.endpoint: status.reason for status in report.endpoints if status.status == "skipped"}
    assert checked == {f"GET {e.path}" for v, e in ENDPOINTS if v == vendor} | {
        name for v, name in SEARCHES if v == vendor
    }
    # live without --allow-writes: every write that changes data is skipped, with the reason
    changing = [w for w in SPECS[vendor].writes if w.operation != "search"]
    assert skipped == {label(w): WRITES_NEED_FLAG for w in changing}
    assert report.reaching(Severity.WARNING) == []


def _applies(kind: str, vendor: str) -> bool:
    """Whether some endpoint of ``vendor`` is one the scenario can change (a list without paging cannot
    break pagination; one without filters cannot ignore them; one without an enum cannot gain a value)."""
    scenario, where = SCENARIOS[kind]
    return any(
        (where is None or f"GET {e.path}" in where)
        and drift.can_show(scenario.get("mutation"), STORE, SPECS[v], e)
        for v, e in ENDPOINTS
        if v == vendor
    )


APPLICABLE = [(kind, vendor) for kind in SCENARIOS for vendor in VENDORS if _applies(kind, vendor)]


@pytest.mark.parametrize(("kind", "vendor"), APPLICABLE)
def test_each_drift_is_found_with_its_kind_and_severity(upstream: Upstream, kind: str, vendor: str) -> None:
    scenario, where = SCENARIOS[kind]
    upstream.play(**scenario)
    report = live(upstream, vendor)
    upstream.play()
    shown = {
        f"GET {e.path}"
        for v, e in ENDPOINTS
        if v == vendor and drift.can_show(scenario.get("mutation"), STORE, SPECS[v], e)
    }
    endpoints = [
        status.endpoint
        for status in report.endpoints
        if (where is None or status.endpoint in where) and status.endpoint in shown
    ]
    if kind in ON_SEARCHES:
        endpoints += [name for v, name in SEARCHES if v == vendor]
    found = {finding.endpoint for finding in report.findings if finding.kind == kind}
    assert endpoints, "the scenario applies somewhere"
    assert sorted(found) == sorted(endpoints), [f.as_dict() for f in report.findings][:5]
    assert {f.severity for f in report.findings if f.kind == kind} == {KINDS[kind]}
