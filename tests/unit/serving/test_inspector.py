"""The inspector's page and JSON (``/__mock__/ui``, ``/__mock__/journal``, ``/__mock__/state``), in-process.

What a browser does with them is in tests/system/test_inspector_browser.py; here: what they answer, what they
refuse, and that the page needs nothing from another host.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from html.parser import HTMLParser

import httpx
import pytest

from mockserver import create_app
from mockserver.engine.emulator import Emulator, credential_headers
from mockserver.intercept.transport import EmulatorTransport
from mockserver.state.journal import MAX_KEPT_BODY, Journal, JournalBudget
from tests.conftest import data_config

TOKEN = "inspector-unit-token"
BUTTER = {"X-API-Key": "bk_test_butter", "X-Organization-Id": "org_test"}


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    app = create_app(data_config())
    with httpx.Client(transport=EmulatorTransport(app), base_url="http://127.0.0.1:8080") as opened:
        yield opened


@pytest.fixture
def guarded() -> Iterator[httpx.Client]:
    app = create_app(data_config(admin_token=TOKEN))
    with httpx.Client(transport=EmulatorTransport(app), base_url="http://127.0.0.1:8080") as opened:
        yield opened


class Links(HTMLParser):
    """Every URL a page would load or link to."""

    def __init__(self) -> None:
        super().__init__()
        self.loaded: list[str] = []
        self.linked: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag in ("script", "img", "iframe") and values.get("src"):
            self.loaded.append(str(values["src"]))
        if tag == "link" and values.get("href"):
            self.loaded.append(str(values["href"]))
        if tag == "a" and values.get("href"):
            self.linked.append(str(values["href"]))


def test_the_page_is_served_with_every_asset_from_the_emulator(client: httpx.Client) -> None:
    page = client.get("/__mock__/ui")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    policy = page.headers["content-security-policy"]
    assert "default-src 'none'" in policy
    assert "connect-src 'self'" in policy
    links = Links()
    links.feed(page.text)
    assert links.loaded, "the page loads its script and styles"
    for url in links.loaded:
        assert url.startswith(("/__mock__/ui/static/", "data:")), url
        if url.startswith("/"):
            asset = client.get(url)
            assert asset.status_code == 200, url
            assert asset.content
            assert not re.search(rb"https?://", asset.content), f"{url} names another host"
    assert client.get("/__mock__/ui/static/secrets.txt").status_code == 404
    assert client.get("/__mock__/ui/static/..%2Finspector.py").status_code == 404


def test_the_page_lists_each_vendor_endpoint_curl_and_option(
    client: httpx.Client, emulator: Emulator
) -> None:
    text = client.get("/__mock__/ui/").text
    for spec in emulator.vendors.values():
        assert f"data-vendor='{spec.id}'" in text
        assert spec.live_base_url in text
        for endpoint in spec.endpoints:
            assert f"http://127.0.0.1:8080/{spec.id}{endpoint.path}" in text
        for option in spec.options:
            assert option.name in text
        key = next(iter(credential_headers(spec)[0].values()))
        assert "curl -sS -H &#x27;" in text
        assert key in text
    assert text.count("badge assumption") == sum(len(spec.options) for spec in emulator.vendors.values())


def test_the_journal_is_newest_first_and_since_returns_only_newer(client: httpx.Client) -> None:
    client.get("/__mock__/journal")  # an open page: the journal keeps latency, fault and body
    client.get("/butter/api/phone-numbers", params={"limit": 2}, headers=BUTTER)
    client.get("/butter/api/phone-numbers", headers={"X-API-Key": "wrong", "X-Organization-Id": "org_test"})
    client.get("/contactship/v1/phone-numbers")
    listed = client.get("/__mock__/journal").json()
    sequences = [entry["sequence"] for entry in listed["entries"]]
    assert sequences == sorted(sequences, reverse=True)
    assert len(sequences) == 3
    assert listed["latest"] == sequences[0]
    newest = listed["entries"][-1]
    assert (newest["vendor"], newest["status"], newest["query"]) == ("butter", 200, [["limit", "2"]])
    assert newest["latency_ms"] > 0
    assert client.get("/__mock__/journal", params={"since": listed["latest"]}).json()["entries"] == []
    client.get("/butter/api/phone-numbers", headers=BUTTER)
    newer = client.get("/__mock__/journal", params={"since": listed["latest"]}).json()["entries"]
    assert [entry["sequence"] for entry in newer] == [listed["latest"] + 1]


def test_the_journal_filters_by_vendor_tenant_and_status(client: httpx.Client) -> None:
    client.get("/butter/api/phone-numbers", headers=BUTTER)
    client.get("/contactship/v1/phone-numbers")
    client.get("/contactship/v1/phone-numbers", headers={"x-api-key": "contactship-test-key"})

    def found(**params: str) -> list[tuple[str, int]]:
        entries = client.get("/__mock__/journal", params=params).json()["entries"]
        return [(entry["vendor"], entry["status"]) for entry in entries]

    assert found(vendor="contactship") == [("contactship", 200), ("contactship", 401)]
    assert found(status="4xx") == [("contactship", 401)]
    assert found(status="200", vendor="butter") == [("butter", 200)]
    assert found(tenant="org_test") == [("butter", 200)]
    assert found(limit="1") == [("contactship", 200)]


@pytest.mark.parametrize(
    ("query", "status", "error"),
    [
        ({"status": "2x"}, 400, "invalid_filter"),
        ({"status": "abc"}, 400, "invalid_filter"),
        ({"since": "-1"}, 400, "invalid_filter"),
        ({"since": "1e9"}, 400, "invalid_filter"),
        ({"limit": "0"}, 400, "invalid_filter"),
        ({"limit": "100000"}, 400, "invalid_filter"),
        ({"vendor": "acme"}, 404, "unknown_vendor"),
    ],
)
def test_a_bad_journal_query_is_a_clear_4xx(
    client: httpx.Client, query: dict[str, str], status: int, error: str
) -> None:
    response = client.get("/__mock__/journal", params=query)
    assert response.status_code == status
    assert response.json()["error"] == error
    assert response.json()["message"]


def test_an_entry_opens_with_redacted_headers_and_the_response_body(client: httpx.Client) -> None:
    client.get("/__mock__/state")
    answered = client.get("/butter/api/phone-numbers", params={"limit": 1, "api_key": "leak"}, headers=BUTTER)
    sequence = client.get("/__mock__/journal").json()["entries"][0]["sequence"]
    entry = client.get(f"/__mock__/journal/{sequence}").json()
    headers = dict(entry["headers"])
    assert headers["x-api-key"] == "[redacted]"
    assert headers["x-organization-id"] == "org_test"
    assert ["api_key", "[redacted]"] in entry["query"]
    assert "bk_test_butter" not in str(entry)
    assert "leak" not in str(entry)
    assert entry["response"]["body"] == answered.json()
    assert entry["response"]["bytes"] == len(answered.content)
    assert entry["response"]["content_type"].startswith("application/json")
    assert client.get("/__mock__/journal/999999").status_code == 404
    assert client.get("/__mock__/journal/abc").json()["error"] == "invalid_filter"


def test_a_fault_is_named_in_the_journal_and_removed_by_id(client: httpx.Client) -> None:
    client.get("/__mock__/journal")
    rule = client.post("/__mock__/butter/faults", json={"status": 503}).json()
    other = client.post("/__mock__/famulor/faults", json={"delay": 0.001}).json()
    assert rule["id"] != other["id"], "ids are unique across vendors"
    assert client.get("/butter/api/phone-numbers", headers=BUTTER).status_code == 503
    assert client.get("/__mock__/journal").json()["entries"][0]["fault"] == f"503 (rule {rule['id']})"
    client.get("/butter/api/phone-numbers", headers={**BUTTER, "Prefer": "code=429"})
    assert client.get("/__mock__/journal").json()["entries"][0]["fault"] == f"429 (Prefer, rule {rule['id']})"
    faults = client.get("/__mock__/state").json()["faults"]
    assert {(fault["vendor"], fault["id"]) for fault in faults} == {
        ("butter", rule["id"]),
        ("famulor", other["id"]),
    }
    assert client.delete(f"/__mock__/faults/{rule['id']}").json() == {
        "removed": rule["id"],
        "vendor": "butter",
    }
    assert client.get("/butter/api/phone-numbers", headers=BUTTER).status_code == 200
    assert client.get("/__mock__/journal").json()["entries"][0]["fault"] is None
    assert client.delete(f"/__mock__/faults/{rule['id']}").status_code == 404
    assert client.delete("/__mock__/faults/x").status_code == 400


def test_the_state_has_options_faults_and_tenants_with_counts(
    client: httpx.Client, emulator: Emulator
) -> None:
    client.post("/__mock__/butter/seed", json={"records": [{}, {}, {}], "tenant": "org_test"})
    client.get("/butter/api/phone-numbers", headers=BUTTER)
    state = client.get("/__mock__/state").json()
    assert state["admin_token_required"] is False
    assert [vendor["id"] for vendor in state["vendors"]] == list(emulator.vendors)
    butter = next(vendor for vendor in state["vendors"] if vendor["id"] == "butter")
    assert butter["emulator_url"] == "http://127.0.0.1:8080/butter"
    assert butter["test_credentials"] == credential_headers(emulator.vendors["butter"])
    assert {option["basis"] for option in butter["options"]} == {"assumption"}
    assert all(option["text"] for option in butter["options"])
    assert {item["basis"] for item in butter["documented"]} == {"documented"}
    tenants = {(t["vendor"], t["tenant"]): t for t in state["tenants"]}
    assert tenants[("butter", "org_test")]["records"] == {"phone-numbers": 3}
    assert tenants[("butter", "org_test")]["own_data"] is True
    assert tenants[("butter", "org_test")]["requests"] == 1
    contactship = tenants[("contactship", "default")]
    assert contactship["own_data"] is False
    assert contactship["records"]["phone-numbers"] == len(
        emulator.datasets["contactship"].dataset("default", "phone-numbers")
    )


def test_clearing_the_journal_from_the_page_clears_every_vendor(client: httpx.Client) -> None:
    client.get("/butter/api/phone-numbers", headers=BUTTER)
    client.get("/contactship/v1/phone-numbers")
    assert client.delete("/__mock__/journal", params={"vendor": "butter"}).json() == {"cleared": True}
    assert [e["vendor"] for e in client.get("/__mock__/journal").json()["entries"]] == ["contactship"]
    client.delete("/__mock__/journal")
    assert client.get("/__mock__/journal").json()["entries"] == []


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/__mock__/journal"),
        ("GET", "/__mock__/journal/1"),
        ("DELETE", "/__mock__/journal"),
        ("GET", "/__mock__/state"),
        ("DELETE", "/__mock__/faults/1"),
    ],
)
def test_the_json_behind_the_page_needs_the_admin_token(
    guarded: httpx.Client, method: str, path: str
) -> None:
    refused = guarded.request(method, path)
    assert refused.status_code == 401
    assert refused.json()["error"] == "admin_token_required"
    allowed = guarded.request(method, path, headers={"X-Mock-Admin-Token": TOKEN})
    assert allowed.status_code in (200, 404)


def test_the_page_itself_holds_only_the_declarations_and_asks_for_the_token(guarded: httpx.Client) -> None:
    page = guarded.get("/__mock__/ui")
    assert page.status_code == 200
    assert 'data-token-required="true"' in page.text
    assert "id='token'" in page.text
    assert TOKEN not in page.text


def test_the_journal_keeps_a_bounded_response_body() -> None:
    journal = Journal(size=2)
    scope = {"method": "GET", "headers": [], "query_string": b""}
    big = b"x" * (MAX_KEPT_BODY + 10)
    for _ in range(5):
        journal.record("v", "t", scope, path="/p", status=200, secret_headers=frozenset(), response=big)
    entries = journal.entries()
    assert len(entries) == 2
    assert all(len(entry.response) == MAX_KEPT_BODY for entry in entries)
    assert journal.find(entries[0].sequence) is entries[0]
    assert journal.find(1) is None, "fallen off"
    assert journal.latest() == 5


def test_the_banner_names_the_inspector() -> None:
    from mockserver.cli.serve import banner

    app = create_app(data_config())
    assert "inspector: http://127.0.0.1:9/__mock__/ui" in banner(app.state.emulator, "http://127.0.0.1:9")


def test_the_journal_lets_the_oldest_bodies_go_beyond_its_byte_budget() -> None:
    journal = Journal(size=100, budget=JournalBudget(bodies_bytes=250))
    scope = {"method": "GET", "headers": [], "query_string": b""}
    for tenant in ("a", "b", "c"):
        journal.record(
            "v", tenant, scope, path="/p", status=200, secret_headers=frozenset(), response=b"y" * 99
        )
    first, second, third = journal.entries()
    assert (first.response, first.body_dropped) == (b"", True)
    assert second.response == third.response == b"y" * 99
    journal.clear("v", "b")
    journal.record("v", "d", scope, path="/p", status=200, secret_headers=frozenset(), response=b"z" * 100)
    assert [len(entry.response) for entry in journal.entries()] == [0, 99, 100], "b's body no longer counts"


def test_without_an_inspector_the_journal_keeps_only_what_it_always_did(client: httpx.Client) -> None:
    app = client.get("/__mock__/health")  # not an inspector read
    assert app.status_code == 200
    client.post("/__mock__/butter/faults", json={"status": 503, "times": 1})
    client.get("/butter/api/phone-numbers", headers=BUTTER)
    entry = client.get("/__mock__/butter/journal").json()["entries"][-1]
    assert (entry["status"], entry["latency_ms"], entry["fault"]) == (503, None, None)
    latest = client.get("/__mock__/journal").json()["entries"][0]  # now somebody looks
    detail = client.get(f"/__mock__/journal/{latest['sequence']}").json()["response"]
    assert (detail["captured"], detail["bytes"]) == (False, 0)
    client.get("/butter/api/phone-numbers", headers=BUTTER)
    watched = client.get("/__mock__/journal").json()["entries"][0]
    assert watched["latency_ms"] is not None
    assert client.get(f"/__mock__/journal/{watched['sequence']}").json()["response"]["captured"] is True


def test_the_details_switch_off_when_nobody_has_looked_for_a_while() -> None:
    journal = Journal()
    scope = {"method": "GET", "headers": [], "query_string": b""}
    states = []
    for seconds in (-1.0, 5.0):  # a look that is already over, then a fresh one
        journal.watch(seconds=seconds)
        states.append(journal.watching)
        journal.record("v", "t", scope, path="/p", status=200, secret_headers=frozenset(), latency=0.001)
        states.append(journal.watching)
    assert states == [True, False, True, True]
