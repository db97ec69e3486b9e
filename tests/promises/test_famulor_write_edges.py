"""Famulor's writes have what its lists have: a journal that shows what was sent, faults, body limits.

A purchase or rename is journaled with its request body (secret-looking fields redacted, cut to a
budget), so the admin journal, the plugin's ``calls()`` and the inspector show which number was bought.
A fault rule on a write path applies to the write (the number is not bought); an oversized body gets a
413 in the vendor's error shape, a malformed one the documented 422, never a 500.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import orjson
import pytest

from mockserver import create_app
from mockserver.engine.writes import MAX_BODY_BYTES
from mockserver.intercept.transport import EmulatorTransport
from mockserver.state.backends.redis_journal import _decode, _encode
from mockserver.state.journal import MAX_KEPT_REQUEST, REDACTED, TRUNCATED, Journal, redacted_body
from mockserver.testing.mocks import mock_vendors
from tests.conftest import data_config

FAMULOR = {"Authorization": "Bearer famulor-test-key"}
PURCHASE = "/famulor/api/user/phone-numbers/purchase"
TOO_LARGE = {"message": "Content Too Large"}
FAULT_BODIES = {500: {"message": "Server Error"}, 503: {"message": "Service Unavailable"}}
NUMBER_REQUIRED = {
    "message": "The phone number field is required.",
    "errors": {"phone_number": ["The phone number field is required."]},
}


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    app = create_app(data_config())
    with httpx.Client(transport=EmulatorTransport(app), base_url="http://127.0.0.1:8080") as opened:
        yield opened


def _offered(client: httpx.Client) -> str:
    found = client.get("/famulor/api/user/phone-numbers/search", headers=FAMULOR).json()["data"]
    return str(found[0]["phone_number"])


def _held(client: httpx.Client) -> list[str]:
    listed = client.get("/famulor/api/user/phone-numbers/all", headers=FAMULOR).json()["data"]
    return [item["phone_number"] for item in listed]


# ---------------------------------------------------------------------------------------------- journal


def test_the_plugin_shows_which_number_was_bought_and_how_it_was_renamed() -> None:
    with mock_vendors("famulor") as mock:
        client = httpx.Client(base_url="https://app.famulor.de", headers=mock.famulor.headers)
        number = client.get("/api/user/phone-numbers/search").json()["data"][0]["phone_number"]
        bought = client.post("/api/user/phone-numbers/purchase", json={"phone_number": number}).json()
        client.put(f"/api/user/phone-numbers/{bought['data']['id']}", json={"nickname": "Sales line"})
        [purchase] = mock.famulor.calls(method="POST")
        assert purchase.json() == {"phone_number": number}
        assert purchase.as_dict()["body"] == orjson.dumps({"phone_number": number}).decode()
        assert mock.famulor.last_call.json() == {"nickname": "Sales line"}
        assert mock.famulor.calls(method="GET")[0].body is None, "a GET carries no body"


def test_the_admin_journal_and_the_inspector_show_the_body_with_secrets_redacted(
    client: httpx.Client,
) -> None:
    number = _offered(client)
    sent = {"phone_number": number, "api_key": "sk-live-secret", "meta": {"password": "hunter2"}}
    assert client.post(PURCHASE, json=sent, headers=FAMULOR).status_code == 201
    entry = client.get("/__mock__/famulor/journal").json()["entries"][-1]
    assert orjson.loads(entry["body"]) == {
        "phone_number": number, "api_key": REDACTED, "meta": {"password": REDACTED},
    }  # fmt: skip
    detail = client.get(f"/__mock__/journal/{entry['sequence']}").json()
    assert detail["request"]["body"] == orjson.loads(entry["body"])
    assert "sk-live-secret" not in str(detail)
    assert "hunter2" not in str(detail)
    search = next(
        item for item in client.get("/__mock__/journal").json()["entries"] if item["method"] == "GET"
    )
    assert client.get(f"/__mock__/journal/{search['sequence']}").json()["request"] is None, "a GET: none"


def test_a_large_body_is_cut_to_the_entry_budget_and_counted_in_the_journal_bytes() -> None:
    app = create_app(data_config())
    journal: Journal = app.state.emulator.journal
    with httpx.Client(transport=EmulatorTransport(app), base_url="http://127.0.0.1:8080") as client:
        before = journal.stored_bytes
        sent = {"nickname": "a", "padding": "x" * (MAX_BODY_BYTES - 100)}
        renamed = client.put("/famulor/api/user/phone-numbers/1", json=sent, headers=FAMULOR)
        assert renamed.status_code == 200
        entry = journal.entries("famulor")[-1]
        assert len(entry.request) == MAX_KEPT_REQUEST + len(TRUNCATED)
        assert entry.request.endswith(TRUNCATED)
        assert MAX_KEPT_REQUEST < journal.stored_bytes - before < MAX_KEPT_REQUEST + 2048


def test_a_body_cut_short_still_has_its_secrets_redacted() -> None:
    cut = redacted_body(b'{"phone_number":"+4930","token":"' + b"s" * 100 + b'"}', limit=40)
    assert cut == b'{"phone_number":"+4930","token":"' + REDACTED.encode() + b'"' + TRUNCATED
    assert redacted_body(b"phone=1&access_token=abc") == b"phone=1&access_token=" + REDACTED.encode()
    assert redacted_body(b'{"nickname":"Office"}') == b'{"nickname":"Office"}', "kept as sent"


def test_the_shared_journal_stores_the_request_body_with_the_entry() -> None:
    journal = Journal()
    scope = {"method": "POST", "headers": [], "query_string": b""}
    entry = journal.compact(
        "famulor", "t", scope, path="/p", status=201, secret_headers=frozenset(),
        request=b'{"phone_number":"+4930","secret":"x"}',
    )  # fmt: skip
    stored = _encode(entry)
    assert b'"secret\\":\\"x' not in stored
    assert _decode(b"7 " + stored).json() == {"phone_number": "+4930", "secret": REDACTED}


# ---------------------------------------------------------------------------------------------- faults


@pytest.mark.parametrize("status", [500, 503])
def test_a_fault_on_the_purchase_path_answers_the_vendors_body_and_buys_nothing(
    client: httpx.Client, status: int
) -> None:
    number = _offered(client)
    path = "/api/user/phone-numbers/purchase"
    client.post("/__mock__/famulor/faults", json={"status": status, "path": path, "times": 1})
    answered = client.post(PURCHASE, json={"phone_number": number}, headers=FAMULOR)
    assert answered.status_code == status
    assert answered.json() == FAULT_BODIES[status]
    assert number not in _held(client)
    assert client.post(PURCHASE, json={"phone_number": number}, headers=FAMULOR).status_code == 201
    assert number in _held(client)


def test_the_plugins_fault_on_a_write_path_applies_to_that_write_only() -> None:
    with mock_vendors("famulor") as mock:
        client = httpx.Client(base_url="https://app.famulor.de", headers=mock.famulor.headers)
        mock.famulor.fail(503, path="/api/user/phone-numbers/1", times=1)
        assert client.get("/api/user/phone-numbers/all").status_code == 200, "another path"
        assert client.put("/api/user/phone-numbers/1", json={"nickname": "Mine"}).status_code == 503
        assert mock.famulor.records("phone-numbers")[0].get("nickname") != "Mine"


def test_a_delay_fault_delays_the_purchase(client: httpx.Client) -> None:
    number = _offered(client)
    path = "/api/user/phone-numbers/purchase"
    client.post("/__mock__/famulor/faults", json={"delay": 0.3, "path": path, "times": 1})
    started = time.perf_counter()
    answered = client.post(PURCHASE, json={"phone_number": number}, headers=FAMULOR)
    assert time.perf_counter() - started >= 0.3
    assert answered.status_code == 201, "a delay still buys"


# ---------------------------------------------------------------------------------------------- bodies


@pytest.mark.parametrize(
    ("method", "path"),
    [("POST", PURCHASE), ("PUT", "/famulor/api/user/phone-numbers/1")],
    ids=["purchase", "update"],
)
def test_a_body_over_64_kib_is_refused_with_413_and_changes_nothing(
    client: httpx.Client, method: str, path: str
) -> None:
    number = _offered(client)
    body = orjson.dumps({"phone_number": number, "nickname": "n", "padding": "x" * (1024 * 1024)})
    answered = client.request(
        method, path, content=body, headers={**FAMULOR, "Content-Type": "application/json"}
    )
    assert (answered.status_code, answered.json()) == (413, TOO_LARGE)
    assert number not in _held(client)
    first = client.get("/famulor/api/user/phone-numbers/all", headers=FAMULOR).json()["data"][0]
    assert first.get("nickname") != "n"


def test_a_body_of_exactly_64_kib_is_read() -> None:
    with mock_vendors("famulor") as mock:
        client = httpx.Client(base_url="https://app.famulor.de", headers=mock.famulor.headers)
        body = orjson.dumps({"nickname": "Exact", "padding": ""})
        body = body[:-2] + b"x" * (MAX_BODY_BYTES - len(body)) + b'"}'
        assert len(body) == MAX_BODY_BYTES
        answered = client.put("/api/user/phone-numbers/1", content=body)
        assert (answered.status_code, answered.json()["data"]["nickname"]) == (200, "Exact")


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        (b'{"phone_number": "+49', "application/json"),
        (b"[1, 2]", "application/json"),
        (b"phone_number=%2B4930", "application/x-www-form-urlencoded"),
        (b"\xff\xfe not text", "text/plain"),
        (b"", "application/json"),
    ],
    ids=["truncated-json", "not-an-object", "form", "binary", "empty"],
)
def test_a_malformed_purchase_is_the_documented_422(
    client: httpx.Client, content: bytes, content_type: str
) -> None:
    answered = client.post(PURCHASE, content=content, headers={**FAMULOR, "Content-Type": content_type})
    assert (answered.status_code, answered.json()) == (422, NUMBER_REQUIRED)


@pytest.mark.parametrize(
    "content", [b'{"nickname": ', b'"just a string"', b"nickname=x"], ids=["truncated", "string", "form"]
)
def test_a_malformed_update_is_laravels_422_and_changes_nothing(client: httpx.Client, content: bytes) -> None:
    answered = client.put(
        "/famulor/api/user/phone-numbers/1",
        content=content,
        headers={**FAMULOR, "Content-Type": "text/plain"},
    )
    assert answered.status_code == 422, "Laravel reads an unparseable body as no input: no nickname given"
    assert answered.json()["errors"] == {"nickname": ["The nickname field is required."]}
    listed = client.get("/famulor/api/user/phone-numbers/all", headers=FAMULOR).json()["data"]
    assert next(item for item in listed if item["id"] == 1).get("nickname") == _first_nickname()


def _first_nickname() -> Any:
    with mock_vendors("famulor") as mock:
        return mock.famulor.records("phone-numbers")[0].get("nickname")
