"""The inspector's drifts (issue 24 part 5): what ``/__mock__/state``, ``/__mock__/drifts`` and the journal
say of them, and switching them off, under the inspector's tenant rules.

The page switches a drift on through the admin API (``POST /__mock__/{vendor}/drifts``), as it adds a
fault; it is tested here as the page calls it. What a browser does with all of it is in
tests/system/test_inspector_browser.py.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from mockserver import create_app
from mockserver.engine.config import DriftSetting
from mockserver.engine.emulator import Emulator
from mockserver.intercept.transport import EmulatorTransport
from mockserver.limits import Limits
from mockserver.serving.inspector import Inspector
from tests.conftest import data_config

BASE = "http://127.0.0.1:8080"
TOKEN = "inspector-drift-token"
BUTTER = {"X-API-Key": "bk_test_butter", "X-Organization-Id": "org_test"}
LIST = "/butter/api/phone-numbers"


def _client(**changes: Any) -> tuple[httpx.Client, Emulator]:
    app = create_app(data_config(**changes))
    return httpx.Client(transport=EmulatorTransport(app), base_url=BASE), app.state.emulator


@pytest.fixture
def served() -> Iterator[tuple[httpx.Client, Emulator]]:
    client, emulator = _client()
    with client:
        yield client, emulator


def test_the_journal_names_the_drifts_of_each_answer_and_filters_on_them(
    served: tuple[httpx.Client, Emulator],
) -> None:
    client, emulator = served
    assert client.get(LIST, headers=BUTTER).status_code == 200  # before: not drifted
    on = client.post("/__mock__/butter/drifts", json={"drift": "field.renamed", "params": {"to": "num"}})
    assert on.status_code == 201, on.text
    assert "num" in client.get(LIST, headers=BUTTER).json()["data"][0]
    entries = client.get("/__mock__/journal").json()["entries"]  # newest first
    assert [entry["drifts"] for entry in entries] == [["field.renamed"], []]
    drifted = client.get("/__mock__/journal", params={"drifted": "true"}).json()
    assert [entry["drifts"] for entry in drifted["entries"]] == [["field.renamed"]]
    assert drifted["matched"] == 1
    plain = client.get("/__mock__/journal", params={"drifted": "false"}).json()["entries"]
    assert [entry["drifts"] for entry in plain] == [[]]
    bad = client.get("/__mock__/journal", params={"drifted": "maybe"})
    assert (bad.status_code, bad.json()["error"]) == (400, "invalid_filter")
    assert client.get("/__mock__/journal/events", params={"drifted": "maybe"}).status_code == 400
    one = client.get(f"/__mock__/journal/{entries[0]['sequence']}").json()
    assert one["drifts"] == ["field.renamed"]
    newest = emulator.journal.entries("butter")[-1]
    events = Inspector(emulator).events
    assert events.summary(newest)["drifts"] == ["field.renamed"], "the live event stream carries them"  # type: ignore[index]


def test_the_state_lists_active_drifts_apart_from_faults_standing_ones_marked() -> None:
    standing = DriftSetting("mindhunters", "transport.latency", {"ms": 1, "jitter_ms": 0})
    client, _ = _client(drifts=(standing,))
    with client:
        fault = client.post("/__mock__/butter/faults", json={"status": 503, "times": 5}).json()
        body = {"drift": "paging.total-is-page-length", "endpoint": "/api/phone-numbers", "times": 3}
        rule = client.post("/__mock__/butter/drifts", json={**body, "probability": 0.5}).json()
        state = client.get("/__mock__/state").json()
        assert [item["id"] for item in state["faults"]] == [fault["id"]], "a drift rule is not a fault"
        assert state["drifts"] == [  # vendor by vendor
            {
                "vendor": "butter", "id": rule["id"], "status": None, "delay": 0.0, "remaining": 3,
                "path": "/api/phone-numbers", "tenant": "org_test", "drift": "paging.total-is-page-length",
                "params": {}, "probability": 0.5, "standing": False,
            },
            {
                "vendor": "mindhunters", "id": None, "status": None, "delay": 0.0, "remaining": None,
                "path": None, "tenant": None, "drift": "transport.latency",
                "params": {"ms": 1, "jitter_ms": 0}, "standing": True,
            },
        ]  # fmt: skip
        listed = client.get("/__mock__/drifts").json()
        assert listed["drifts"] == state["drifts"]
        off = client.delete("/__mock__/drifts").json()
        assert off == {"removed": [rule["id"]], "kept": []}
        assert [item["standing"] for item in client.get("/__mock__/state").json()["drifts"]] == [True]
        assert [item["id"] for item in client.get("/__mock__/state").json()["faults"]] == [fault["id"]]


def test_the_catalogue_lists_each_vendors_drifts_with_their_defaults(
    served: tuple[httpx.Client, Emulator],
) -> None:
    client, emulator = served
    catalogue = client.get("/__mock__/drifts").json()["catalogue"]
    assert set(catalogue) == set(emulator.apps)
    assert [item["id"] for item in catalogue["butter"]] == sorted(emulator.apps["butter"].drifts.listings)
    famulor = {item["id"] for item in catalogue["famulor"]}
    assert "paging.end-flag-never-false" not in famulor, "a drift Famulor cannot express is not offered"
    renamed = next(item for item in catalogue["butter"] if item["id"] == "field.renamed")
    assert [param["name"] for param in renamed["params"]] == ["field", "to"]
    assert renamed["applies"][0]["defaults"] == {"field": "phone_number", "to": "phoneNumber"}
    one = client.get("/__mock__/drifts", params={"vendor": "butter"}).json()["catalogue"]
    assert list(one) == ["butter"]
    unknown = client.get("/__mock__/drifts", params={"vendor": "acme"})
    assert (unknown.status_code, unknown.json()["error"]) == (404, "unknown_vendor")


def test_switching_on_refuses_a_bad_drift_in_the_admin_error_shape_and_keeps_to_the_cap() -> None:
    client, _ = _client(limits=Limits(max_faults=2))
    with client:
        unknown = client.post("/__mock__/butter/drifts", json={"drift": "field.teleported"})
        assert unknown.status_code == 400
        assert unknown.json()["error"] == "invalid_drift"
        assert "field.renamed" in unknown.json()["drifts"], "the answer names what is allowed"
        bad = client.post("/__mock__/butter/drifts", json={"drift": "field.renamed", "params": {"to": 5}})
        assert (bad.status_code, bad.json()["error"]) == (400, "invalid_drift")
        assert "to" in bad.json()["message"]
        for _ in range(2):
            assert client.post("/__mock__/butter/drifts", json={"drift": "field.null"}).status_code == 201
        over = client.post("/__mock__/butter/drifts", json={"drift": "field.null"})
        assert (over.status_code, over.json()["error"]) == (429, "too_many_faults")
        assert len(client.get("/__mock__/state").json()["drifts"]) == 2


def test_switching_one_off_takes_a_drift_rule_id(served: tuple[httpx.Client, Emulator]) -> None:
    client, _ = served
    fault = client.post("/__mock__/butter/faults", json={"status": 503}).json()
    rule = client.post("/__mock__/butter/drifts", json={"drift": "field.null"}).json()
    not_a_drift = client.delete(f"/__mock__/drifts/{fault['id']}")
    assert (not_a_drift.status_code, not_a_drift.json()["error"]) == (404, "unknown_drift")
    for text in ("abc", "0", "-1"):
        bad = client.delete(f"/__mock__/drifts/{text}")
        assert (bad.status_code, bad.json()["error"]) == (400, "invalid_filter")
    done = client.delete(f"/__mock__/drifts/{rule['id']}")
    assert done.json() == {"removed": rule["id"], "vendor": "butter", "drift": "field.null"}
    again = client.delete(f"/__mock__/drifts/{rule['id']}")
    assert (again.status_code, again.json()["error"]) == (404, "unknown_drift")
    assert client.get("/__mock__/state").json()["faults"] != [], "the fault stays"


def _own(emulator: Emulator, tenant: str, key: str) -> dict[str, str]:
    spec = emulator.vendors["butter"]
    return {spec.auth.header or "": key, spec.auth.tenant_header or "": tenant}


def test_a_tenant_sees_and_switches_off_only_its_own_drifts(served: tuple[httpx.Client, Emulator]) -> None:
    client, emulator = served
    own = {}
    for name in ("team-a", "team-b"):
        key = f"butter-{name}-key-0001"
        tenant = client.post("/__mock__/butter/keys", json={"key": key, "tenant": name}).json()["tenant"]
        own[name] = _own(emulator, tenant, key)
    rules = {
        name: client.post("/__mock__/butter/drifts", json={"drift": "field.null"}, headers=own[name]).json()
        for name in own
    }
    assert rules["team-a"]["tenant"] != rules["team-b"]["tenant"]
    everyone = emulator.apps["butter"].add_drift("field.undocumented", tenant=None)
    seen = {item["id"] for item in client.get("/__mock__/state", headers=own["team-a"]).json()["drifts"]}
    assert seen == {rules["team-a"]["id"], everyone.id}, "another tenant's drift is not shown"
    listed = client.get("/__mock__/drifts", headers=own["team-a"]).json()["drifts"]
    assert {item["id"] for item in listed} == seen
    hidden = client.delete(f"/__mock__/drifts/{rules['team-b']['id']}", headers=own["team-a"])
    assert (hidden.status_code, hidden.json()["error"]) == (404, "unknown_drift"), "as if it were not there"
    shared = client.delete(f"/__mock__/drifts/{everyone.id}", headers=own["team-a"])
    assert (shared.status_code, shared.json()["error"]) == (403, "admin_token_required")
    asked = client.delete("/__mock__/drifts", params={"tenant": "*"}, headers=own["team-a"])
    assert (asked.status_code, asked.json()["error"]) == (403, "admin_token_required")
    other = client.delete(
        "/__mock__/drifts", params={"tenant": rules["team-b"]["tenant"]}, headers=own["team-a"]
    )
    assert (other.status_code, other.json()["error"]) == (403, "tenant_scope")
    off = client.delete("/__mock__/drifts", headers=own["team-a"]).json()
    assert off == {"removed": [rules["team-a"]["id"]], "kept": [everyone.id]}
    left = {rule.id for rule in emulator.apps["butter"].faults.rules()}
    assert left == {rules["team-b"]["id"], everyone.id}, "team-b's drift and the one for everyone stay"


def test_the_drift_endpoints_need_the_admin_token_and_with_it_reach_every_tenant() -> None:
    client, emulator = _client(admin_token=TOKEN)
    with client:
        for method, path in (
            ("GET", "/__mock__/drifts"),
            ("DELETE", "/__mock__/drifts"),
            ("DELETE", "/__mock__/drifts/1"),
        ):
            refused = client.request(method, path)
            assert (refused.status_code, refused.json()["error"]) == (401, "admin_token_required")
        app = emulator.apps["butter"]
        ids = [app.add_drift("field.null", tenant=tenant).id for tenant in ("org_test", "someone", None)]
        token = {"X-Mock-Admin-Token": TOKEN}
        assert {item["id"] for item in client.get("/__mock__/drifts", headers=token).json()["drifts"]} == set(
            ids
        )
        assert client.delete("/__mock__/drifts", headers=token).json() == {"removed": ids, "kept": []}
        assert app.faults.rules() == []


def test_switching_off_runs_off_the_event_loop(
    served: tuple[httpx.Client, Emulator], monkeypatch: pytest.MonkeyPatch
) -> None:
    client, emulator = served
    faults = emulator.apps["butter"].faults
    ids = [
        client.post("/__mock__/butter/drifts", json={"drift": "field.null"}).json()["id"] for _ in range(3)
    ]
    on_loop: list[bool] = []
    remove = faults.remove

    def watched(rule_id: int) -> bool:
        try:
            asyncio.get_running_loop()
            on_loop.append(True)
        except RuntimeError:  # a worker thread: no running loop
            on_loop.append(False)
        return remove(rule_id)

    monkeypatch.setattr(faults, "remove", watched)
    assert client.delete(f"/__mock__/drifts/{ids[0]}").status_code == 200
    assert client.delete("/__mock__/drifts").json()["removed"] == ids[1:]
    fault = client.post("/__mock__/butter/faults", json={"status": 503}).json()
    assert client.delete(f"/__mock__/faults/{fault['id']}").status_code == 200
    assert on_loop == [False, False, False, False], "each removal ran in a thread"
