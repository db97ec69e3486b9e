"""The drift detector's findings, pinned on particular vendors: grouping, renames, redirects, secrets."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from contracts import run
from contracts.checks.findings import Severity
from tests import drifting_upstream as drift
from tests.drifting_upstream import Upstream


@pytest.fixture(scope="module")
def upstream() -> Iterator[Upstream]:
    running = drift.start()
    yield running.upstream
    drift.stop(running)


def live(upstream: Upstream, vendor: str, **secrets: str) -> Any:
    return run("live", vendors=[vendor], environ=upstream.environ(**secrets), sleep=lambda seconds: None)


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
    from contracts.reporting.formats import as_json, as_junit, as_markdown, summary

    secret = "bk_live_0123456789abcdef"
    upstream.play(mutation=drift.echo_key, ignore_auth=False)
    report = live(upstream, "butter", butter=secret)
    upstream.play()
    outputs = [str(as_json(report)), as_junit(report, Severity.INFO), as_markdown(report), summary(report)]
    assert report.findings, "the echo changed the 401 bodies, so there is something to report"
    assert all(secret not in output for output in outputs)
