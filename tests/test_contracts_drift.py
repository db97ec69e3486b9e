"""The drift detector, proven against a local upstream that drifts on purpose, one kind at a time.

``--target live`` is pointed at 127.0.0.1 through the *_BASE_URL variables; the upstream forwards to the
emulator and alters what it answers. Each drift must be found, with the right kind and severity, on every
endpoint where it applies; the undrifted upstream must give no error and no warning.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from contracts import run
from contracts.findings import KINDS, Severity
from tests import drifting_upstream as drift
from tests.drifting_upstream import Upstream

VENDORS = ["famulor", "butter", "contactship", "mindhunters"]
PAGINATED = {"GET /api/phone-numbers", "GET /v1/phone-numbers", "GET /api/v1/phone-numbers"}
FILTERED = PAGINATED | {"GET /api/user/whatsapp/senders"}
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
    "sort-order-changed": ({"mutation": drift.reversed_order}, EVERY),
}


@pytest.fixture(scope="module")
def upstream() -> Iterator[Upstream]:
    running = drift.start()
    yield running.upstream
    drift.stop(running)


def live(upstream: Upstream, vendor: str, **secrets: str) -> Any:
    return run("live", vendors=[vendor], environ=upstream.environ(**secrets), sleep=lambda seconds: None)


@pytest.mark.parametrize("vendor", VENDORS)
def test_the_undrifted_upstream_gives_no_error_and_no_warning(upstream: Upstream, vendor: str) -> None:
    upstream.play()
    report = live(upstream, vendor)
    assert {status.status for status in report.endpoints} == {"checked"}
    assert report.reaching(Severity.WARNING) == []


APPLICABLE = [
    (kind, vendor)
    for kind in SCENARIOS
    for vendor in VENDORS
    if not (kind == "pagination-contract-broken" and vendor == "famulor")  # Famulor's lists are not paginated
]


@pytest.mark.parametrize(("kind", "vendor"), APPLICABLE)
def test_each_drift_is_found_with_its_kind_and_severity(upstream: Upstream, kind: str, vendor: str) -> None:
    scenario, where = SCENARIOS[kind]
    upstream.play(**scenario)
    report = live(upstream, vendor)
    upstream.play()
    endpoints = [status.endpoint for status in report.endpoints if where is None or status.endpoint in where]
    found = {finding.endpoint for finding in report.findings if finding.kind == kind}
    assert endpoints, "the scenario applies somewhere"
    assert sorted(found) == sorted(endpoints), [f.as_dict() for f in report.findings][:5]
    assert {f.severity for f in report.findings if f.kind == kind} == {KINDS[kind]}


def test_findings_over_many_items_are_grouped(upstream: Upstream) -> None:
    upstream.play(mutation=drift.extra_field)
    report = live(upstream, "butter")
    upstream.play()
    baseline = [
        f
        for f in report.findings
        if f.kind == "undocumented-property" and f.path == "/data/*/sentiment_score"
    ]
    assert baseline
    assert baseline[0].count == 20
    assert len(baseline[0].examples) == 3
    assert baseline[0].doc == "https://docs.getbutter.ai/api-reference/phone-numbers/list"


def test_a_rename_names_both_fields(upstream: Upstream) -> None:
    upstream.play(mutation=drift.rename)
    report = live(upstream, "contactship")
    upstream.play()
    rename = next(f for f in report.findings if f.kind == "probable-rename")
    assert (rename.expected, rename.observed) == ("id", "id_v2")
    assert not [f for f in report.findings if f.kind == "required-property-missing"], "merged into the rename"


def test_a_redirect_is_reported_not_followed(upstream: Upstream) -> None:
    upstream.play(mutation=drift.redirect_to_login)
    report = live(upstream, "famulor")
    upstream.play()
    statuses = [f for f in report.findings if f.kind == "status-unexpected"]
    assert statuses
    assert "redirect to https://example.invalid/login" in statuses[0].message
    assert "/login" not in upstream.requests


def test_a_key_echoed_by_the_vendor_never_reaches_the_report(upstream: Upstream) -> None:
    from contracts.report import as_json, as_junit, as_markdown, summary

    secret = "bk_live_0123456789abcdef"
    upstream.play(mutation=drift.echo_key, ignore_auth=False)
    report = live(upstream, "butter", butter=secret)
    upstream.play()
    outputs = [str(as_json(report)), as_junit(report, Severity.INFO), as_markdown(report), summary(report)]
    assert report.findings, "the echo changed the 401 bodies, so there is something to report"
    assert all(secret not in output for output in outputs)
