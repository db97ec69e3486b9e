"""The inspector's endpoints under the hardening of issue 11: Host/Origin guard, JSON-only writes, tenants.

``/__mock__/ui``, ``/__mock__/journal``, ``/__mock__/journal/{sequence}``, ``/__mock__/state``,
``DELETE /__mock__/faults/{id}``, ``/__mock__/drifts`` (GET, DELETE) and ``DELETE /__mock__/drifts/{id}``
get the same protections as the rest of the admin API, and a tenant's key sees only its own tenant's
requests (tests/unit/serving/test_inspector.py has what they answer).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from mockserver import create_app
from mockserver.declarations.loading import discover_vendors
from mockserver.declarations.model import VendorSpec
from mockserver.engine.emulator import Emulator
from mockserver.engine.persistence import StateDir
from mockserver.engine.routing import HostPolicy
from mockserver.intercept.transport import EmulatorTransport
from mockserver.serving.server import HostGuard, Refusals
from mockserver.state.faults import FaultRule
from mockserver.state.journal import Journal, JournalBudget
from tests.conftest import SCHEMAS, data_config

BASE = "http://127.0.0.1:8080"
INSPECTOR = [
    ("GET", "/__mock__/ui"),
    ("GET", "/__mock__/ui/static/inspector.js"),
    ("GET", "/__mock__/journal"),
    ("GET", "/__mock__/journal/1"),
    ("GET", "/__mock__/state"),
    ("DELETE", "/__mock__/journal"),
    ("DELETE", "/__mock__/faults/1"),
    ("GET", "/__mock__/drifts"),
    ("DELETE", "/__mock__/drifts"),
    ("DELETE", "/__mock__/drifts/1"),
]
WRITES = [
    ("DELETE", "/__mock__/journal"),
    ("DELETE", "/__mock__/faults/1"),
    ("DELETE", "/__mock__/drifts"),
    ("DELETE", "/__mock__/drifts/1"),
]


class Guarded:
    """A synchronous client of the app behind ``serve``'s Host/Origin guard (httpx's ASGI transport is
    asynchronous only)."""

    def __init__(self, **changes: Any) -> None:
        app = create_app(data_config(**changes))
        self.guard = HostGuard(app, HostPolicy.for_server("127.0.0.1", [], []), Refusals(app.state.emulator))

    def request(self, method: str, path: str, **options: Any) -> httpx.Response:
        async def send() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.guard)
            async with httpx.AsyncClient(transport=transport, base_url=BASE) as client:
                return await client.request(method, path, **options)

        return asyncio.run(send())

    def get(self, path: str, **options: Any) -> httpx.Response:
        return self.request("GET", path, **options)


@pytest.fixture
def behind_guard() -> Guarded:
    return Guarded()


@pytest.mark.parametrize(("method", "path"), INSPECTOR)
def test_a_foreign_host_or_origin_is_refused_and_the_same_origin_is_not(
    behind_guard: Guarded, method: str, path: str
) -> None:
    rebinding = behind_guard.request(method, path, headers={"host": "attacker.example"})
    assert rebinding.status_code == 421
    cross_site = behind_guard.request(method, path, headers={"origin": "https://attacker.example"})
    assert cross_site.status_code == 403
    same_origin = behind_guard.request(method, path, headers={"origin": BASE})
    assert same_origin.status_code in (200, 404), same_origin.text  # 404: no entry or fault 1 yet


@pytest.mark.parametrize(("method", "path"), WRITES)
@pytest.mark.parametrize("kind", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data"])
def test_the_inspector_writes_take_only_json(
    behind_guard: Guarded, method: str, path: str, kind: str
) -> None:
    behind_guard.get("/butter/api/phone-numbers", headers={"X-API-Key": "bk_test_butter"})
    before = len(behind_guard.get("/__mock__/journal").json()["entries"])
    refused = behind_guard.request(method, path, content=b"{}", headers={"content-type": kind})
    assert (refused.status_code, refused.json()["error"]) == (415, "unsupported_media_type")
    assert len(behind_guard.get("/__mock__/journal").json()["entries"]) == before, "nothing was cleared"
    refused = behind_guard.request(method, path, content=b"{}")  # a body without saying what it is
    assert refused.status_code == 415
    accepted = behind_guard.request(method, path, json={})
    assert accepted.status_code in (200, 404)


def _tenant_headers(spec: VendorSpec, key: str, tenant: str) -> dict[str, str]:
    """The headers a registered key of ``tenant`` sends to the vendor itself."""
    if spec.auth.kind == "bearer":
        headers = {"Authorization": f"Bearer {key}"}
    else:
        headers = {spec.auth.header or "": key}
    if spec.auth.tenant_header:
        headers[spec.auth.tenant_header] = tenant
    return headers


def _endpoint(spec: VendorSpec) -> str:
    return f"/{spec.id}{spec.endpoints[0].path}"


VENDORS = sorted(discover_vendors(SCHEMAS))


@pytest.fixture
def served() -> Iterator[tuple[httpx.Client, Emulator]]:
    app = create_app(data_config())  # loopback default: no admin token, so tenants are told apart by key
    with httpx.Client(transport=EmulatorTransport(app), base_url=BASE) as client:
        yield client, app.state.emulator


@pytest.mark.parametrize("vendor", VENDORS)
def test_a_tenants_key_sees_only_its_own_tenants_journal(
    served: tuple[httpx.Client, Emulator], vendor: str
) -> None:
    client, emulator = served
    spec = emulator.vendors[vendor]
    keys = {"team-a": f"{vendor}-team-a-key-0001", "team-b": f"{vendor}-team-b-key-0002"}
    tenants = {}
    for name, key in keys.items():
        created = client.post(f"/__mock__/{vendor}/keys", json={"key": key, "tenant": name})
        assert created.status_code == 201, created.text
        tenants[name] = created.json()["tenant"]
    own = {name: _tenant_headers(spec, key, tenants[name]) for name, key in keys.items()}
    for name in keys:
        assert client.get(_endpoint(spec), headers=own[name]).status_code == 200
    client.get(_endpoint(spec), headers=own["team-a"], params={"mark": "a"})
    seen = client.get("/__mock__/journal", headers=own["team-a"])
    assert seen.status_code == 200, seen.text
    entries = seen.json()["entries"]
    assert {entry["tenant"] for entry in entries} == {tenants["team-a"]}
    assert len(entries) == 2
    for entry in entries:
        detail = client.get(f"/__mock__/journal/{entry['sequence']}", headers=own["team-a"]).json()
        assert keys["team-a"] not in str(detail), "the key is redacted"
    b_entry = emulator.journal.entries(vendor, tenants["team-b"])[0]  # it is there, just not for team-a
    hidden = client.get(f"/__mock__/journal/{b_entry.sequence}", headers=own["team-a"])
    assert (hidden.status_code, hidden.json()["error"]) == (404, "unknown_entry"), "as if it were not there"
    asked = client.get("/__mock__/journal", params={"tenant": tenants["team-b"]}, headers=own["team-a"])
    assert (asked.status_code, asked.json()["error"]) == (403, "tenant_scope")
    everyone = client.get("/__mock__/journal", params={"tenant": "*"}, headers=own["team-a"])
    assert (everyone.status_code, everyone.json()["error"]) == (403, "admin_token_required")
    state = client.get("/__mock__/state", headers=own["team-a"]).json()
    assert {(item["vendor"], item["tenant"]) for item in state["tenants"]} == {(vendor, tenants["team-a"])}
    seen_by_b = client.get("/__mock__/journal", headers=own["team-b"]).json()["entries"]
    assert [entry["sequence"] for entry in seen_by_b] == [b_entry.sequence]


def test_the_global_inspector_operations_need_the_token_once_there_are_tenants() -> None:
    app = create_app(data_config())  # loopback default: no admin token
    with httpx.Client(transport=EmulatorTransport(app), base_url=BASE) as client:
        butter = {"X-API-Key": "bk_test_butter", "X-Organization-Id": "org_test"}
        client.get("/butter/api/phone-numbers", headers=butter)
        assert client.get("/__mock__/journal").json()["entries"], "no tenants yet: open, as before"
        everyone = client.post("/__mock__/butter/faults", json={"status": 503, "tenant": "*"}).json()
        assert client.delete(f"/__mock__/faults/{everyone['id']}").status_code == 200
        assert client.post("/__mock__/mindhunters/keys", json={"key": "job-key-0001"}).status_code == 201
        refused = client.delete("/__mock__/journal")
        assert (refused.status_code, refused.json()["error"]) == (403, "admin_token_required")
        assert client.get("/__mock__/journal").json()["entries"], "nothing was cleared"
        everyone = client.get("/__mock__/journal", params={"tenant": "*"})
        assert (everyone.status_code, everyone.json()["error"]) == (403, "admin_token_required")
        for_all = app.state.emulator.apps["butter"].faults.add(_rule(tenant=None))
        removal = client.delete(f"/__mock__/faults/{for_all.id}")
        assert (removal.status_code, removal.json()["error"]) == (403, "admin_token_required")
        own = client.delete("/__mock__/journal", params={"tenant": "org_test"})  # its own tenant: fine
        assert own.status_code == 200
        assert client.get("/__mock__/journal", params={"vendor": "butter"}).json()["entries"] == []
        bad = client.get("/__mock__/journal", headers={"Authorization": "Bearer not-a-key"})
        assert (bad.status_code, bad.json()["error"]) == (401, "invalid_credentials")


def _rule(tenant: str | None = None) -> FaultRule:
    return FaultRule(status=503, tenant=tenant)


def test_fault_ids_stay_the_same_after_a_restart_and_are_never_given_twice(tmp_path: Path) -> None:
    first = create_app(data_config())
    emulator: Emulator = first.state.emulator
    ids = [
        emulator.apps[vendor].faults.add(_rule(tenant=None)).id
        for vendor in ("mindhunters", "butter", "mindhunters", "famulor")
    ]
    emulator.apps["butter"].faults.remove(ids[1])
    StateDir(tmp_path, emulator).save()
    second = create_app(data_config())
    restored: Emulator = second.state.emulator
    assert StateDir(tmp_path, restored).restore()
    kept = {vendor: [rule.id for rule in app.faults.rules()] for vendor, app in restored.apps.items()}
    assert kept["mindhunters"] == [ids[0], ids[2]]
    assert kept["famulor"] == [ids[3]]
    assert kept["butter"] == []
    new = restored.apps["butter"].faults.add(_rule()).id
    assert new > max(ids), "a new rule never takes an id a restored one has (or had)"
    with httpx.Client(transport=EmulatorTransport(second), base_url=BASE) as client:
        assert client.delete(f"/__mock__/faults/{ids[2]}").json() == {
            "removed": ids[2],
            "vendor": "mindhunters",
        }
        assert [rule.id for rule in restored.apps["mindhunters"].faults.rules()] == [ids[0]]


def test_kept_bodies_go_with_their_entries_and_their_queue_stays_bounded() -> None:
    journal = Journal(size=2, budget=JournalBudget(bodies_bytes=10**9))  # only the entry bound applies
    scope = {"method": "GET", "headers": [(b"x-api-key", b"secret-key-1234")], "query_string": b""}
    for number in range(1000):
        tenant = "a" if number % 10 else "b"
        journal.record(
            "v", tenant, scope, path="/p", status=200, secret_headers=frozenset(), response=b"r" * 100
        )
    assert len(journal) == 4
    kept, queued = journal.body_bytes
    assert kept == 4 * 100, "the bodies of entries that fell off are not held"
    assert queued <= 2 * 4 + 64
    assert all(entry.headers == (("x-api-key", "[redacted]"),) for entry in journal.entries())
    journal.clear("v", "a")
    assert journal.body_bytes == (200, 2)
