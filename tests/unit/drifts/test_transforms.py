"""Each drift family does what its catalogue entry says, in-process, for every vendor where it applies."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Iterator
from typing import Any

import aiohttp
import httpx
import pytest
import requests

from mockserver.drifts.families.paging import PAST_THE_END
from mockserver.drifts.view import read
from mockserver.testing import EmulatorMock, VendorMock, mock_vendors

BUTTER = "https://api.getbutter.ai/api/phone-numbers"
MINDHUNTERS = "https://api.mindhunters.ai/api/v1/phone-numbers"
CONTACTSHIP = "https://api.contactship.ai/v1/phone-numbers"
SENDERS = "https://app.famulor.de/api/user/whatsapp/senders"


@pytest.fixture(scope="module")
def vendors() -> Iterator[EmulatorMock]:
    with mock_vendors() as mocks:
        yield mocks


@pytest.fixture(autouse=True)
def _fresh(vendors: EmulatorMock) -> None:
    vendors.reset()


def url_of(mock: VendorMock, path: str) -> str:
    return mock.base_url + path


def get(mock: VendorMock, path: str, **params: Any) -> httpx.Response:
    return httpx.get(url_of(mock, path), params=params, headers=mock.headers)


def items(mock: VendorMock, path: str, body: Any) -> list[dict[str, Any]]:
    pointer = mock.app.drifts.view.endpoint(path).items  # type: ignore[union-attr]
    found = read(body, pointer) if pointer else body
    assert isinstance(found, list)
    return found


def dotted(item: dict[str, Any], path: str) -> tuple[dict[str, Any], str]:
    *parents, name = path.split(".")
    for part in parents:
        item = item[part]
    return item, name


def field_cases(vendors: EmulatorMock) -> Iterator[tuple[VendorMock, str, dict[str, Any]]]:
    for vendor_id in vendors.emulator.vendors:
        mock = vendors[vendor_id]
        for drift_id, listing in mock.app.drifts.listings.items():
            if drift_id.split(".")[0] in ("field", "format", "enum"):
                for target in listing.targets:
                    yield mock, drift_id, {"path": target.path, **target.defaults}


EXPECTED: dict[str, Callable[[Any, str, dict[str, Any]], Any]] = {
    "field.removed": lambda before, name, params: None,
    "field.removed-optional": lambda before, name, params: None,
    "field.null": lambda before, name, params: None,
    "field.number-as-string": lambda before, name, params: str(before),
    "field.integer-as-float": lambda before, name, params: float(before),
    "format.e164-without-plus": lambda before, name, params: before.lstrip("+"),
    "format.timestamp-offset-dropped": lambda before, name, params: re.sub(r"(Z|[+-]\d\d:\d\d)$", "", before),
    "format.timestamp-precision": lambda before, name, params: re.sub(
        r"(T\d\d:\d\d:\d\d)(\.\d+)?", r"\1.123456", before, count=1
    ),
    "enum.new-value": lambda before, name, params: params["value"],
}


def test_field_drifts_change_that_field_of_every_item_and_nothing_else(vendors: EmulatorMock) -> None:
    checked = set()
    for mock, drift_id, params in field_cases(vendors):
        path = params.pop("path")
        plain = items(mock, path, get(mock, path).json())
        with mock.drift(drift_id, endpoint=path, **params):
            drifted = items(mock, path, get(mock, path).json())
        assert len(plain) == len(drifted), (mock.id, drift_id)
        for before, after in zip(plain, drifted, strict=True):
            if drift_id == "field.undocumented":
                assert after == {**before, params["name"]: params["value"]}
                continue
            held, name = dotted(before, params["field"])
            if name not in held:  # an optional field this record does not have
                continue
            changed, _ = dotted(after, params["field"])
            if drift_id.startswith("field.removed"):
                assert name not in changed
            elif drift_id == "field.renamed":
                assert name not in changed
                assert changed[params["to"]] == held[name]
            elif held[name] is not None:
                assert changed[name] == EXPECTED[drift_id](held[name], name, params), (mock.id, drift_id)
            held.pop(name)
            changed.pop(name, None)
            changed.pop(params.get("to", ""), None)
            assert before == after, (mock.id, drift_id)  # nothing else changed
        checked.add(drift_id)
    assert {"field.removed", "field.renamed", "field.null", "format.e164-without-plus"} <= checked


def test_the_envelope_wrapped_and_unwrapped(vendors: EmulatorMock) -> None:
    for vendor_id in vendors.emulator.vendors:
        mock = vendors[vendor_id]
        for endpoint in mock.app.drifts.view.endpoints:
            plain = get(mock, endpoint.path).json()
            with mock.drift("envelope.wrapped", endpoint=endpoint.path, key="payload"):
                assert get(mock, endpoint.path).json() == {"payload": plain}
            if endpoint.items:
                with mock.drift("envelope.unwrapped", endpoint=endpoint.path):
                    assert get(mock, endpoint.path).json() == items(mock, endpoint.path, plain)


def butter_walk(mock: VendorMock, size: int = 25) -> list[dict[str, Any]]:
    pages: list[dict[str, Any]] = []
    cursor = None
    while len(pages) < 10:
        params: dict[str, Any] = {"page_size": size, **({"cursor": cursor} if cursor else {})}
        pages.append(get(mock, "/api/phone-numbers", **params).json())
        cursor = pages[-1]["pagination"]["next_cursor"]
        if cursor is None:
            break
    return pages


def test_paging_signals_that_lie(vendors: EmulatorMock) -> None:
    butter = vendors.butter
    with butter.drift("paging.total-is-page-length"):
        page = get(butter, "/api/phone-numbers", page_size=5).json()
        assert page["pagination"]["total_count"] == 5
    last = butter_walk(butter)[-1]
    assert last["pagination"]["has_more"] is False
    with butter.drift("paging.end-flag-never-false"):
        assert butter_walk(butter)[-1]["pagination"]["has_more"] is True
    with butter.drift("paging.end-flag-always-false"):
        assert butter_walk(butter)[0]["pagination"]["has_more"] is False
    mindhunters = vendors.mindhunters
    with mindhunters.drift("paging.end-flag-never-false"):
        last_page = get(mindhunters, "/api/v1/phone-numbers", page=999).json()
        assert last_page["data"]["pagination"]["has_more"] is True


def test_a_next_cursor_on_the_last_page_leads_to_an_empty_page(vendors: EmulatorMock) -> None:
    butter = vendors.butter
    plain = butter_walk(butter)
    with butter.drift("paging.next-on-last-page"):
        pages = butter_walk(butter)
    assert [page["data"] for page in pages[: len(plain)]] == [page["data"] for page in plain]
    assert pages[len(plain) - 1]["pagination"]["next_cursor"] == PAST_THE_END
    assert pages[-1]["data"] == []
    assert pages[-1]["pagination"]["next_cursor"] is None
    assert pages[-1]["pagination"]["has_more"] is False


def test_the_cursor_ignored_serves_the_first_page_again(vendors: EmulatorMock) -> None:
    butter, mindhunters = vendors.butter, vendors.mindhunters
    first = get(butter, "/api/phone-numbers", page_size=5).json()
    with butter.drift("paging.cursor-ignored"):
        again = get(butter, "/api/phone-numbers", page_size=5, cursor=first["pagination"]["next_cursor"])
        assert again.json()["data"] == first["data"]
    first = get(mindhunters, "/api/v1/phone-numbers", per_page=5).json()
    with mindhunters.drift("paging.cursor-ignored"):
        again = get(mindhunters, "/api/v1/phone-numbers", per_page=5, page=3)
        assert again.json()["data"]["items"] == first["data"]["items"]


def test_a_size_above_the_new_maximum_is_silently_clamped(vendors: EmulatorMock) -> None:
    butter = vendors.butter
    with butter.drift("paging.size-clamped", max=7):
        response = get(butter, "/api/phone-numbers", page_size=20)
        assert response.status_code == 200
        assert len(response.json()["data"]) == 7
        assert len(get(butter, "/api/phone-numbers", page_size=5).json()["data"]) == 5


def test_semantic_drifts_change_what_the_same_request_means(vendors: EmulatorMock) -> None:
    contactship, butter, famulor = vendors.contactship, vendors.butter, vendors.famulor
    unfiltered = get(contactship, "/v1/phone-numbers", limit=100).json()["data"]
    filtered = get(contactship, "/v1/phone-numbers", limit=100, type="inbound").json()["data"]
    assert filtered != unfiltered
    with contactship.drift("semantics.filter-ignored", filter="type"):
        assert get(contactship, "/v1/phone-numbers", limit=100, type="inbound").json()["data"] == unfiltered
    ascending = get(contactship, "/v1/phone-numbers", order="asc").json()["data"]
    with contactship.drift("semantics.default-order-changed"):
        assert get(contactship, "/v1/phone-numbers").json()["data"] == ascending
    plain = get(butter, "/api/phone-numbers", page_size=5).json()["data"]
    with butter.drift("semantics.default-order-changed"):  # a fixed order: each page reversed
        assert get(butter, "/api/phone-numbers", page_size=5).json()["data"] == plain[::-1]
    with butter.drift("semantics.default-page-size-changed", size=3):
        assert len(get(butter, "/api/phone-numbers").json()["data"]) == 3
        assert len(get(butter, "/api/phone-numbers", page_size=5).json()["data"]) == 5
    every = get(famulor, "/api/user/whatsapp/senders", status="all").json()["data"]
    assert len(get(famulor, "/api/user/whatsapp/senders").json()["data"]) < len(every)
    with famulor.drift("semantics.default-filter-changed"):  # online by default no more: all
        assert get(famulor, "/api/user/whatsapp/senders").json()["data"] == every


def test_bursts_answer_the_vendor_s_error_then_end(vendors: EmulatorMock) -> None:
    mindhunters = vendors.mindhunters
    fault = httpx.get(MINDHUNTERS, headers={**mindhunters.headers, "Prefer": "code=429"})
    mindhunters.drift("transport.burst", status=429, retry_after=7, times=2)
    first, second, third = (httpx.get(MINDHUNTERS, headers=mindhunters.headers) for _ in range(3))
    assert [first.status_code, second.status_code, third.status_code] == [429, 429, 200]
    assert first.headers["retry-after"] == "7"
    assert first.json().keys() == fault.json().keys()  # the vendor's own 429 shape
    with mindhunters.drift("transport.burst", status=502, retry_after=0):
        response = httpx.get(MINDHUNTERS, headers=mindhunters.headers)
        assert response.status_code == 502
        assert "retry-after" not in response.headers


def test_answers_that_are_not_json_any_more(vendors: EmulatorMock) -> None:
    famulor = vendors.famulor
    plain = httpx.get(SENDERS, headers=famulor.headers)
    with famulor.drift("transport.login-redirect"):
        response = httpx.get(SENDERS, headers=famulor.headers)
        assert response.status_code == 302
        assert response.headers["location"] == "/login"
        assert response.headers["content-type"].startswith("text/html")
    with famulor.drift("transport.html-body"):
        response = httpx.get(SENDERS, headers=famulor.headers)
        assert response.status_code == 200
        assert response.text.startswith("<!DOCTYPE html>")
    with famulor.drift("transport.media-type", type="text/csv"):
        response = httpx.get(SENDERS, headers=famulor.headers)
        assert response.headers["content-type"] == "text/csv"
        assert response.content == plain.content


def test_latency_makes_a_short_read_timeout_expire(vendors: EmulatorMock) -> None:
    butter = vendors.butter
    with butter.drift("transport.latency", ms=400, jitter_ms=0), pytest.raises(httpx.ReadTimeout):
        httpx.get(BUTTER, headers=butter.headers, timeout=0.05)


def test_a_body_cut_short_is_each_client_s_own_incomplete_body_error(vendors: EmulatorMock) -> None:
    butter = vendors.butter
    butter.drift("transport.body-cut-short", fraction=0.25)
    with pytest.raises(httpx.RemoteProtocolError, match="received"):
        httpx.get(BUTTER, headers=butter.headers)
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        requests.get(BUTTER, headers=butter.headers, timeout=5)

    async def fetch() -> None:
        async with (
            aiohttp.ClientSession() as session,
            session.get(BUTTER, headers=butter.headers) as response,
        ):
            await response.read()

    with pytest.raises(aiohttp.ClientPayloadError):
        asyncio.run(fetch())


def test_auth_drifts_for_every_vendor(vendors: EmulatorMock) -> None:
    for vendor_id in vendors.emulator.vendors:
        mock = vendors[vendor_id]
        path = mock.spec.endpoints[0].path
        assert httpx.get(url_of(mock, path)).status_code == 401
        with mock.drift("auth.unauthorized-is-forbidden"):
            assert httpx.get(url_of(mock, path)).status_code == 403
            assert get(mock, path).status_code == 200
        renamed = mock.app.drifts.listings["auth.header-renamed"].targets[0].defaults["header"]
        with mock.drift("auth.header-renamed"):
            assert get(mock, path).status_code == 401, vendor_id
            key = mock.spec.auth.test_credentials[0].key
            moved = {
                name: value
                for name, value in mock.headers.items()
                if name.lower() != mock.app.drifts.view.auth_header.lower()
            }
            assert httpx.get(url_of(mock, path), headers={**moved, renamed: key}).status_code == 200, (
                vendor_id
            )


def test_error_bodies_of_another_shape_keep_their_status(vendors: EmulatorMock) -> None:
    contactship = vendors.contactship
    plain = httpx.get(CONTACTSHIP, params={"limit": "many"}, headers=contactship.headers)
    assert plain.status_code >= 400
    with contactship.drift("errors.other-shape", shape="jsonapi"):
        response = httpx.get(CONTACTSHIP, params={"limit": "many"}, headers=contactship.headers)
        assert response.status_code == plain.status_code
        assert response.json() == {
            "errors": [
                {"status": str(plain.status_code), "title": f"Request failed with status {plain.status_code}"}
            ]
        }
        assert httpx.get(CONTACTSHIP).json()["errors"][0]["status"] == "401"  # refusals too
        assert "errors" not in get(contactship, "/v1/phone-numbers").json()  # successes untouched
