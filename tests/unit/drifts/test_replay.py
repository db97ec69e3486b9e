"""Replaying a monitor report (``serve --drift-from``): each finding a drift can express becomes that drift,
with the parameters read from the finding; the rest are listed, each with the reason; a bad report is one
line and exit status 2.

The findings below have the shape of ``contracts check --report-json`` (see docs/drift-monitor.md), with
the values the monitor reports under each drift (tests/promises/test_drift_replay.py makes them for real).
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from mockserver.cli import main
from mockserver.drifts import DriftError, VendorDrifts
from mockserver.drifts.replay import declared_drifts, findings_of, read_report, replay
from tests.conftest import SCHEMAS

CONTACTSHIP = "GET /v1/phone-numbers"
BUTTER = "GET /api/phone-numbers"
MINDHUNTERS = "GET /api/v1/phone-numbers"
SENDERS = "GET /api/user/whatsapp/senders"


def finding(
    vendor: str, endpoint: str, kind: str, path: str = "", message: str = "", **more: Any
) -> dict[str, Any]:
    return {"vendor": vendor, "endpoint": endpoint, "kind": kind, "path": path, "message": message, **more}


MAPPED = [  # (finding, the drift and parameters that replay it)
    (
        finding(
            "contactship",
            CONTACTSHIP,
            "probable-rename",
            "/data/*/phone_number",
            expected="phone_number",
            observed="msisdn",
        ),
        ("field.renamed", {"field": "phone_number", "to": "msisdn"}),
    ),
    (
        finding("butter", BUTTER, "required-property-missing", "/data/3/phone_number", observed=None),
        ("field.removed", {"field": "phone_number"}),
    ),
    (
        finding("butter", BUTTER, "unexpected-null", "/data/*/phone_number", expected="string"),
        ("field.null", {"field": "phone_number"}),
    ),
    (
        finding(
            "butter",
            BUTTER,
            "enum-value-unknown",
            "/data/*/provider",
            expected=["twilio", "sip"],
            observed="vonage",
        ),
        ("enum.new-value", {"field": "provider", "value": "vonage"}),
    ),
    (
        finding(
            "mindhunters",
            MINDHUNTERS,
            "type-mismatch",
            "/data/items/*/channel_settings/voice/channel_limit",
            expected="integer",
            observed="20",
        ),
        ("field.number-as-string", {"field": "channel_settings.voice.channel_limit"}),
    ),
    (
        finding(
            "famulor", SENDERS, "format-mismatch", "/data/*/phone_number", expected="e164", observed="4930123"
        ),
        ("format.e164-without-plus", {"field": "phone_number"}),
    ),
    (
        finding("contactship", CONTACTSHIP, "format-mismatch", "/data/*/created_at", expected="date-time"),
        ("format.timestamp-offset-dropped", {"field": "created_at"}),
    ),
    (
        finding("butter", BUTTER, "undocumented-property", "/data/*/region", observed="eu"),
        ("field.undocumented", {"name": "region", "value": "eu"}),
    ),
    (
        finding("butter", BUTTER, "type-mismatch", "/", expected="object", observed="array of 20"),
        ("envelope.unwrapped", {}),
    ),
    (
        finding(
            "contactship",
            CONTACTSHIP,
            "pagination-contract-broken",
            "/data",
            "limit=100 listed 5 items while the total is 24: a page of 24 was asked for and 5 served "
            "(the page size is clamped)",
            expected=24,
            observed=5,
        ),
        ("paging.size-clamped", {"max": 5}),
    ),
    (
        finding(
            "butter",
            BUTTER,
            "pagination-contract-broken",
            "/pagination/has_more",
            "page 11: has_more and next_cursor disagree",
            observed={"has_more": True, "next_cursor": None},
        ),
        ("paging.end-flag-never-false", {}),
    ),
    (
        finding(
            "butter",
            BUTTER,
            "pagination-contract-broken",
            "/pagination/has_more",
            "page 1: has_more and next_cursor disagree",
            observed={"has_more": False, "next_cursor": "eyJ"},
        ),
        ("paging.end-flag-always-false", {}),
    ),
    (
        finding(
            "contactship",
            CONTACTSHIP,
            "pagination-contract-broken",
            "",
            "2 item(s) listed on more than one page",
            expected="each item once",
            observed=["a", "b"],
        ),
        ("paging.cursor-ignored", {}),
    ),
    (
        finding(
            "contactship",
            CONTACTSHIP,
            "pagination-contract-broken",
            "/count",
            "offset 1 lists 1 items; a total of 1 at limit 1 means 0",
            expected=0,
            observed=1,
        ),
        ("paging.total-is-page-length", {}),
    ),
    (
        finding(
            "contactship",
            CONTACTSHIP,
            "pagination-contract-broken",
            "/data",
            "the default page lists 2 items; the documented default limit is 5",
            expected=5,
            observed=2,
        ),
        ("semantics.default-page-size-changed", {"size": 2}),
    ),
    (
        finding(
            "contactship",
            CONTACTSHIP,
            "filter-semantics-changed",
            "/data/*",
            "type='inbound' listed an item that does not match",
            expected="inbound",
        ),
        ("semantics.filter-ignored", {"filter": "type"}),
    ),
    (
        finding(
            "contactship",
            CONTACTSHIP,
            "sort-order-changed",
            "/data",
            "the default order (no order: desc) is not by created_at desc (documented)",
        ),
        ("semantics.default-order-changed", {"order": "asc"}),
    ),
    (
        finding(
            "butter", BUTTER, "status-unexpected", "", "expected 200, got 502", expected=200, observed=502
        ),
        ("transport.burst", {"status": 502}),
    ),
    (
        finding(
            "butter",
            BUTTER,
            "status-unexpected",
            "",
            "expected 200, got 302 (redirect to /login)",
            expected=200,
            observed=302,
        ),
        ("transport.login-redirect", {}),
    ),
    (
        finding(
            "butter", BUTTER, "status-unexpected", "", "expected 200, got 401", expected=200, observed=401
        ),
        ("auth.header-renamed", {}),
    ),
    (
        finding("butter", BUTTER, "media-type-changed", "", observed="text/html; charset=utf-8"),
        ("transport.html-body", {}),
    ),
    (
        finding("butter", BUTTER, "media-type-changed", "", observed="application/xml"),
        ("transport.media-type", {"type": "application/xml"}),
    ),
    (
        finding("butter", BUTTER, "auth-semantics-changed", "", expected=401, observed=403),
        ("auth.unauthorized-is-forbidden", {}),
    ),
    (
        finding("butter", BUTTER, "error-shape-changed", "", observed={"object with keys": ["errors"]}),
        ("errors.other-shape", {"shape": "jsonapi"}),
    ),
]


@cache
def vendors() -> dict[str, VendorDrifts]:
    return declared_drifts(SCHEMAS)


@pytest.mark.parametrize(("given", "expected"), MAPPED, ids=[f"{f['kind']}->{d[0]}" for f, d in MAPPED])
def test_a_finding_a_drift_can_express_is_served_as_that_drift(
    given: dict[str, Any], expected: tuple[str, dict[str, Any]]
) -> None:
    result = replay(findings_of({"findings": [given]}), vendors())
    assert not result.unexpressed, result.lines()
    [served] = result.served
    drift, params = expected
    assert (served.drift, {k: v for k, v in served.params.items() if k in params}) == (drift, params)
    assert served.endpoint in (None, given["endpoint"].split(" ", 1)[1])


def test_findings_no_drift_expresses_are_listed_with_the_reason() -> None:
    findings = [
        finding(
            "butter",
            BUTTER,
            "assumption-differs",
            "",
            "the listing is asc",
            option="butter.sort_direction",
            fix="--option butter.sort_direction=asc",
        ),
        finding("butter", BUTTER, "constraint-violation", "/data/*/phone_number"),
        finding("butter", BUTTER, "required-property-missing", "/pagination"),  # an envelope member
        finding("acme", "GET /x", "unexpected-null", "/data/*/x"),
    ]
    result = replay(findings_of({"findings": findings}), vendors())
    assert not result.served
    reasons = {left.finding.kind: left.reason for left in result.unexpressed}
    assert "--option butter.sort_direction=asc" in reasons["assumption-differs"]
    assert reasons["constraint-violation"] == "no drift produces constraint-violation"
    assert "no drift reads this finding's detail" in reasons["required-property-missing"]
    assert "no vendor 'acme'" in reasons["unexpected-null"]
    assert all(line.startswith("  cannot ") for line in result.lines()[1:])


def test_the_same_drift_is_served_once_for_many_findings() -> None:
    pages = [
        finding("mindhunters", MINDHUNTERS, "status-unexpected", "", expected=200, observed=503),
        finding("butter", BUTTER, "status-unexpected", "", expected=200, observed=503),
        finding("butter", "POST /api/phone-numbers", "status-unexpected", "", expected=201, observed=503),
    ]
    result = replay(findings_of({"findings": pages}), vendors())
    assert sorted(item.spec for item in result.served) == [
        "butter:transport.burst:status=503",
        "mindhunters:transport.burst:status=503",
    ]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"{not json", "not JSON"),
        (b'["a list"]', "not a report of `contracts check --format json`"),
        (
            b'{"findings": [{"vendor": "butter"}]}',
            'finding 1 is not an object with "vendor", "endpoint" and "kind"',
        ),
    ],
)
def test_a_bad_report_is_one_line_and_exit_status_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes, message: str
) -> None:
    report = tmp_path / "report.json"
    report.write_bytes(content)
    with pytest.raises(DriftError, match=message):
        read_report(report)
    for argv in (["drifts", "--from", str(report)], ["serve", "--port", "0", "--drift-from", str(report)]):
        assert main(argv) == 2
        error = capsys.readouterr().err
        assert error.count("\n") == 1, error
        assert message in error


def test_a_missing_report_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["drifts", "--from", str(tmp_path / "absent.json")]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1
    assert "absent.json" in error


def test_drifts_from_prints_what_serve_would_serve(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = tmp_path / "report.json"
    report.write_text(
        json.dumps({"findings": [MAPPED[0][0], finding("butter", BUTTER, "constraint-violation")]})
    )
    assert main(["drifts", "--from", str(report), "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["served"] == [
        {
            "vendor": "contactship",
            "drift": "field.renamed",
            "params": {"field": "phone_number", "to": "msisdn"},
            "endpoint": "/v1/phone-numbers",
        }
    ]
    assert [left["kind"] for left in printed["cannot"]] == ["constraint-violation"]
