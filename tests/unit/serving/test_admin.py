"""The admin API under /__mock__/: the consumer kit's controls over HTTP, for server mode."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator

import httpx
import pytest

from mockserver import EmulatorConfig, create_app
from mockserver.documents.reading import read_json
from mockserver.intercept.transport import EmulatorTransport
from tests.conftest import ROOT, wait_until_serving

BUTTER = {"X-API-Key": "bk_test_butter", "X-Organization-Id": "org_test"}


def fixture_count(vendor: str, dataset: str = "phone-numbers", **where: object) -> int:
    """How many fixture records of ``vendor`` (matching ``where``) the emulator starts from."""
    records = read_json(ROOT / "fixtures" / vendor / f"{dataset}.json")["records"]
    return len([r for r in records if all(r[k] == v for k, v in where.items())])


@pytest.fixture
def admin() -> Iterator[httpx.Client]:
    with httpx.Client(transport=EmulatorTransport(create_app()), base_url="http://e") as client:
        yield client


def test_seed_then_list_then_journal_then_reset(admin: httpx.Client) -> None:
    seeded = admin.post(
        "/__mock__/butter/seed", json={"records": [{"status": "free"}, {"status": "assigned"}]}
    )
    assert seeded.status_code == 200
    assert len(seeded.json()["records"]) == 2
    listed = admin.get("/butter/api/phone-numbers", params={"status": "free"}, headers=BUTTER).json()
    assert listed["pagination"]["total_count"] == 1
    journal = admin.get("/__mock__/butter/journal", params={"status": "free"}).json()["entries"]
    assert admin.get("/__mock__/butter/journal", params={"status": "assigned"}).json()["entries"] == []
    assert [(e["path"], e["status"], e["headers"]["x-api-key"]) for e in journal] == [
        ("/api/phone-numbers", 200, "[redacted]")
    ]
    assert admin.post("/__mock__/reset").json() == {"reset": "all"}
    assert admin.get("/__mock__/butter/journal").json()["entries"] == []
    listed_again = admin.get("/butter/api/phone-numbers", headers=BUTTER).json()
    assert listed_again["pagination"]["total_count"] == fixture_count("butter"), "back to the fixtures"


def test_an_invalid_seed_is_a_422_naming_the_field_and_changes_nothing(admin: httpx.Client) -> None:
    response = admin.post(
        "/__mock__/contactship/seed", json={"records": [{"type": "inbound"}, {"type": "both"}]}
    )
    assert response.status_code == 422
    assert response.json()["error"] == "invalid_record"
    assert "record 1: /type: 'both' is not one of ['inbound', 'outbound']" in response.json()["message"]
    listed = admin.get("/contactship/v1/phone-numbers", headers={"x-api-key": "contactship-test-key"}).json()
    assert listed["count"] == fixture_count("contactship"), "still the fixtures"


def test_faults_over_http(admin: httpx.Client) -> None:
    rule = admin.post("/__mock__/famulor/faults", json={"status": 503, "times": 1}).json()
    assert rule["remaining"] == 1
    famulor = {"Authorization": "Bearer famulor-test-key"}
    statuses = [
        admin.get("/famulor/api/user/phone-numbers/all", headers=famulor).status_code for _ in range(2)
    ]
    assert statuses == [503, 200]
    assert admin.get("/__mock__/famulor/faults").json() == {"faults": []}
    assert admin.post("/__mock__/famulor/faults", json={"status": 200}).status_code == 400


def test_a_registered_key_is_an_isolated_tenant(admin: httpx.Client) -> None:
    created = admin.post("/__mock__/mindhunters/keys", json={"key": "ci-job-7-token"})
    assert created.status_code == 201
    tenant = created.json()["tenant"]
    assert "ci-job-7-token" not in tenant
    job = {"Authorization": "Bearer ci-job-7-token"}
    seed = {"records": [{"country_code": "NL", "number": "+31201234567"}], "tenant": tenant}
    refused = admin.post("/__mock__/mindhunters/seed", json=seed)
    assert (refused.status_code, refused.json()["error"]) == (403, "tenant_scope"), "not without its key"
    assert admin.post("/__mock__/mindhunters/seed", json=seed, headers=job).status_code == 200
    own = admin.get(
        "/mindhunters/api/v1/phone-numbers", headers={"Authorization": "Bearer ci-job-7-token"}
    ).json()
    shared = admin.get(
        "/mindhunters/api/v1/phone-numbers", headers={"Authorization": "Bearer mindhunters-test-token"}
    ).json()
    assert own["data"]["pagination"]["total"] == 1
    assert shared["data"]["pagination"]["total"] == fixture_count("mindhunters", is_external=False)
    assert admin.get("/__mock__/mindhunters/journal", headers=job).json()["entries"][0]["tenant"] == tenant


def test_unknown_vendor_and_bad_bodies_are_clear_4xx(admin: httpx.Client) -> None:
    assert admin.post("/__mock__/twilio/seed", json={"records": []}).json()["error"] == "unknown_vendor"
    json_type = {"content-type": "application/json"}
    assert (
        admin.post("/__mock__/butter/seed", content=b"{", headers=json_type).json()["error"] == "invalid_json"
    )
    assert admin.post("/__mock__/butter/seed", json={"records": "x"}).status_code == 400
    assert admin.post("/__mock__/famulor/seed", json={"records": []}).status_code == 400, (
        "famulor has two datasets"
    )
    assert admin.post("/__mock__/butter/keys", json={"key": "k"}).json()["error"] == "invalid_key"


def test_with_an_admin_token_every_control_requires_it() -> None:
    app = create_app(EmulatorConfig(admin_token="s3cret-admin"))
    with httpx.Client(transport=EmulatorTransport(app), base_url="http://e") as client:
        assert client.post("/__mock__/reset").status_code == 401
        assert (
            client.get("/__mock__/butter/journal", headers={"X-Mock-Admin-Token": "wrong"}).status_code == 401
        )
        assert (
            client.post("/__mock__/reset", headers={"X-Mock-Admin-Token": "s3cret-admin"}).status_code == 200
        )
        assert client.get("/__mock__").status_code == 200, "the index stays public"


@pytest.fixture
def server() -> Iterator[str]:
    """``python -m mockserver serve`` on a free loopback port; its base URL."""
    process = subprocess.Popen(
        [sys.executable, "-m", "mockserver", "serve", "--port", "0", "--no-access-log"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip
    assert process.stdout is not None
    match = re.search(r"on (http://127\.0\.0\.1:\d+)", process.stdout.readline())
    assert match
    base = match.group(1)
    wait_until_serving(base)
    yield base
    process.terminate()
    process.communicate(timeout=10)


def test_the_same_scenario_against_make_serve(server: str) -> None:
    """Seeding, journal and faults through the HTTP admin API of a running server."""
    with httpx.Client(base_url=server) as client:
        client.post("/__mock__/butter/seed", json={"records": [{"status": "free"}] * 3})
        client.post("/__mock__/butter/faults", json={"status": 429, "times": 1})
        first = client.get("/butter/api/phone-numbers", headers=BUTTER)
        second = client.get("/butter/api/phone-numbers", headers=BUTTER)
        journal = client.get("/__mock__/butter/journal").json()["entries"]
    assert (first.status_code, first.headers["retry-after"]) == (429, "60")
    assert second.json()["pagination"]["total_count"] == 3
    assert [entry["status"] for entry in journal] == [429, 200]


@pytest.mark.parametrize(
    ("path", "body", "error"),
    [
        ("/__mock__/butter/seed", {"records": ["x"]}, "invalid_seed"),
        ("/__mock__/butter/seed", {"records": [1]}, "invalid_seed"),
        ("/__mock__/famulor/seed", {"records": [{}]}, "invalid_seed"),
        ("/__mock__/butter/faults", {"status": "503"}, "invalid_fault"),
        ("/__mock__/butter/faults", {"status": 503.5}, "invalid_fault"),
        ("/__mock__/butter/faults", {"status": 503, "times": 1.5}, "invalid_fault"),
        ("/__mock__/butter/faults", {"status": 503, "path": 5}, "invalid_fault"),
        ("/__mock__/contactship/keys", {"key": "k", "tenant": 5}, "invalid_key"),
        ("/__mock__/famulor/rate-limits", {"enabled": "false"}, "invalid_body"),
    ],
)
def test_bad_admin_input_is_a_clear_400_never_a_500(
    admin: httpx.Client, path: str, body: object, error: str
) -> None:
    response = admin.post(path, json=body)
    assert response.status_code == 400, response.text
    assert response.json()["error"] == error


def test_deeply_nested_or_huge_bodies_are_refused(admin: httpx.Client) -> None:
    nested = b'{"records": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    json_type = {"content-type": "application/json"}
    assert admin.post("/__mock__/butter/seed", content=nested, headers=json_type).status_code == 400
    huge = admin.post(
        "/__mock__/butter/seed",
        content=b" " * 10,
        headers={**json_type, "content-length": str(64 * 1024 * 1024)},
    )
    assert huge.status_code == 413


def test_the_405_of_an_admin_route_names_its_methods(admin: httpx.Client) -> None:
    assert admin.get("/__mock__/reset").headers["allow"] == "POST"


def test_clocks_and_switches_for_more_tenants_than_the_budget_are_a_429_never_a_500() -> None:
    app = create_app(EmulatorConfig(admin_token="s3cret-admin"))  # the admin may name any tenant
    app.state.emulator.apps["famulor"].writes.max_tenants = 1
    token = {"X-Mock-Admin-Token": "s3cret-admin"}
    with httpx.Client(transport=EmulatorTransport(app), base_url="http://e", headers=token) as admin:
        assert admin.post("/__mock__/famulor/clock", json={"days": 1, "tenant": "one"}).status_code == 200
        refused = admin.post("/__mock__/famulor/clock", json={"days": 1, "tenant": "two"})
        assert (refused.status_code, refused.json()["error"]) == (429, "too_many_tenants")
        switched = admin.post("/__mock__/famulor/switches", json={"name": "payment_failed", "tenant": "two"})
        assert (switched.status_code, switched.json()["error"]) == (429, "too_many_tenants")
        assert admin.post("/__mock__/famulor/clock", json={"days": 1, "tenant": "one"}).status_code == 200
