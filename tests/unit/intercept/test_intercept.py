"""Every supported client gets what httpx gets, in-process; everything else is stopped before the network.

The promise of ``mock_vendors()`` and the plugin: the vendors' real URLs answer httpx (sync, async),
``requests`` and aiohttp alike (same status, headers, body, journal, faults, tenants), and a request to
a vendor host from any other client fails at once with an error that says what to do.
"""

from __future__ import annotations

import asyncio
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any

import aiohttp
import httpx
import pytest
import requests

from mockserver.engine.routing import url_pattern
from mockserver.intercept import SocketGuard, VendorHostNotInterceptedError, available_interceptors
from mockserver.intercept.exchange import read_timeout
from mockserver.testing import EmulatorMock, mock_vendors

Fetch = Callable[..., tuple[int, dict[str, str], bytes]]


def _httpx(
    url: str, headers: dict[str, str], method: str = "GET", **options: Any
) -> tuple[int, dict[str, str], bytes]:
    response = httpx.request(method, url, headers=headers, **options)
    return response.status_code, dict(response.headers), response.content


def _httpx_async(
    url: str, headers: dict[str, str], method: str = "GET", **options: Any
) -> tuple[int, dict[str, str], bytes]:
    async def fetch() -> tuple[int, dict[str, str], bytes]:
        async with httpx.AsyncClient() as client:
            response = await client.request(method, url, headers=headers, **options)
            return response.status_code, dict(response.headers), response.content

    return asyncio.run(fetch())


def _requests(
    url: str, headers: dict[str, str], method: str = "GET", **options: Any
) -> tuple[int, dict[str, str], bytes]:
    response = requests.request(method, url, headers=headers, **options)
    return response.status_code, {k.lower(): v for k, v in response.headers.items()}, response.content


def _aiohttp(
    url: str, headers: dict[str, str], method: str = "GET", **options: Any
) -> tuple[int, dict[str, str], bytes]:
    async def fetch() -> tuple[int, dict[str, str], bytes]:
        seconds = options.get("timeout")
        timeout = aiohttp.ClientTimeout(total=seconds) if seconds else None
        async with (
            aiohttp.ClientSession() as session,
            session.request(method, url, headers=headers, timeout=timeout) as response,
        ):
            body = await response.read()
            return response.status, {k.lower(): v for k, v in response.headers.items()}, body

    return asyncio.run(fetch())


CLIENTS: dict[str, Fetch] = {"httpx-async": _httpx_async, "requests": _requests, "aiohttp": _aiohttp}


@pytest.fixture
def vendors() -> Iterator[EmulatorMock]:
    with mock_vendors() as mock:
        yield mock


def _every_endpoint(mock: EmulatorMock) -> list[tuple[str, str, dict[str, str]]]:
    return [
        (vendor_id, mock[vendor_id].base_url + endpoint.path, mock[vendor_id].headers)
        for vendor_id, spec in mock.emulator.vendors.items()
        for endpoint in spec.endpoints
    ]


def test_all_three_clients_are_intercepted_when_their_libraries_are_installed(vendors: EmulatorMock) -> None:
    assert vendors.clients == ["httpx", "requests", "aiohttp"]


@pytest.mark.parametrize("client", list(CLIENTS))
def test_each_client_gets_what_httpx_gets_from_every_endpoint(vendors: EmulatorMock, client: str) -> None:
    """Same status, content type, body and vendor headers; with and without credentials; with a query."""
    for _vendor_id, url, headers in _every_endpoint(vendors):
        for sent, params in ((headers, ""), ({}, ""), (headers, "?page=2&limit=2&status=free")):
            status, got_headers, body = CLIENTS[client](url + params, sent)
            want_status, want_headers, want_body = _httpx(url + params, sent)
            assert (status, body) == (want_status, want_body), (client, url + params)
            assert got_headers["content-type"] == want_headers["content-type"]
            for name in ("retry-after", "x-ratelimit-limit", "allow"):
                assert got_headers.get(name) == want_headers.get(name), name


@pytest.mark.parametrize("client", list(CLIENTS))
def test_each_client_is_journaled_with_its_query_and_redacted_credentials(
    vendors: EmulatorMock, client: str
) -> None:
    butter = vendors.butter
    CLIENTS[client](f"{butter.base_url}/api/phone-numbers?status=free", butter.headers)
    (call,) = butter.assert_called(times=1, status="free")
    assert "bk_test_butter" not in repr(call)


@pytest.mark.parametrize("client", list(CLIENTS))
def test_faults_and_delays_apply_to_each_client(vendors: EmulatorMock, client: str) -> None:
    contactship = vendors.contactship
    url = f"{contactship.base_url}/v1/phone-numbers"
    contactship.fail(429, times=1)
    assert CLIENTS[client](url, contactship.headers)[0] == 429
    contactship.slow(0.2, times=1)
    started = time.monotonic()
    assert CLIENTS[client](url, contactship.headers)[0] == 200
    assert time.monotonic() - started >= 0.2


@pytest.mark.parametrize(
    ("client", "error"),
    [
        ("httpx-async", httpx.ReadTimeout),
        ("requests", requests.exceptions.ReadTimeout),
        ("aiohttp", asyncio.TimeoutError),
    ],
)
def test_a_vendor_slower_than_the_clients_timeout_times_out(
    vendors: EmulatorMock, client: str, error: type[BaseException]
) -> None:
    famulor = vendors.famulor
    url = f"{famulor.base_url}/api/user/phone-numbers/all"
    famulor.slow(5, times=1)
    started = time.monotonic()
    with pytest.raises(error):
        CLIENTS[client](url, famulor.headers, timeout=0.2)
    assert 0.2 <= time.monotonic() - started < 3, "the client waits its own timeout, not the delay"
    assert CLIENTS[client](url, famulor.headers, timeout=0.2)[0] == 200, "the fault was used up"


@pytest.mark.parametrize("client", list(CLIENTS))
def test_a_head_request_gets_the_status_and_headers_of_a_get_and_no_body(
    vendors: EmulatorMock, client: str
) -> None:
    for _vendor_id, url, headers in _every_endpoint(vendors):
        for sent in (headers, {}):
            status, got_headers, body = CLIENTS[client](url, sent, method="HEAD")
            want_status, want_headers, want_body = _httpx(url, sent, method="HEAD")
            assert (status, body) == (want_status, want_body), (client, url)
            assert body == b"", "no body for HEAD"
            assert status == _httpx(url, sent)[0], "the status of a GET"
            assert got_headers["content-type"] == want_headers["content-type"]


@pytest.mark.parametrize("client", list(CLIENTS))
def test_a_delay_within_the_clients_timeout_only_delays_the_answer(
    vendors: EmulatorMock, client: str
) -> None:
    famulor = vendors.famulor
    url = f"{famulor.base_url}/api/user/phone-numbers/all"
    want = _httpx(url, famulor.headers)
    famulor.slow(0.3, times=1)
    started = time.monotonic()
    status, _, body = CLIENTS[client](url, famulor.headers, timeout=5)
    assert time.monotonic() - started >= 0.3
    assert (status, body) == (want[0], want[2])


@pytest.mark.parametrize("client", list(CLIENTS))
def test_a_registered_key_is_its_own_tenant_for_each_client(vendors: EmulatorMock, client: str) -> None:
    famulor = vendors.famulor
    tenant = famulor.register_key("famulor-tenant-key")
    famulor.seed([{}], tenant=tenant, dataset="phone-numbers")
    url = f"{famulor.base_url}/api/user/phone-numbers/all"
    _, _, mine = CLIENTS[client](url, {"Authorization": "Bearer famulor-tenant-key"})
    _, _, default = CLIENTS[client](url, famulor.headers)
    assert mine != default
    assert len(famulor.calls(tenant=tenant)) == 1


def test_requests_sessions_custom_adapters_and_streaming_are_answered(vendors: EmulatorMock) -> None:
    mindhunters = vendors.mindhunters

    class Retrying(requests.adapters.HTTPAdapter):
        """A custom adapter, as teams mount for retries."""

    with requests.Session() as session:
        session.mount("https://", Retrying(max_retries=2))
        session.headers.update(mindhunters.headers)
        response = session.get("https://acme.mindhunters.ai/api/v1/phone-numbers", stream=True)
        chunks = list(response.iter_content(chunk_size=100))
    assert response.status_code == 200
    assert len(chunks) > 1
    assert (
        b"".join(chunks) == _httpx("https://acme.mindhunters.ai/api/v1/phone-numbers", mindhunters.headers)[2]
    )


def test_aiohttp_session_headers_base_url_and_params_are_applied(vendors: EmulatorMock) -> None:
    butter = vendors.butter

    async def fetch() -> Any:
        async with (
            aiohttp.ClientSession(base_url=butter.base_url, headers=butter.headers) as session,
            session.get("/api/phone-numbers", params={"status": "assigned", "page_size": 3}) as response,
        ):
            return response.status, await response.json()

    status, body = asyncio.run(fetch())
    assert status == 200
    assert len(body["data"]) == 3
    assert {record["status"] for record in body["data"]} == {"assigned"}


def test_only_the_named_vendors_are_answered_and_other_vendor_hosts_are_refused() -> None:
    with mock_vendors("butter") as only_butter:
        assert requests.get("https://api.getbutter.ai/api/phone-numbers").status_code == 401
        with pytest.raises(requests.ConnectionError):
            requests.get("https://api.contactship.ai/v1/phone-numbers")
        with pytest.raises(VendorHostNotInterceptedError):
            socket.getaddrinfo("api.contactship.ai", 443)
        assert only_butter.clients[0] == "httpx"


def test_other_hosts_pass_through_for_every_client_when_allowed(local_server: str) -> None:
    with mock_vendors(other_hosts="allow") as vendors:
        for client in (_httpx, *CLIENTS.values()):
            assert client(local_server, {})[2] == b"hello"
        assert _requests(f"{vendors.butter.base_url}/api/phone-numbers", vendors.butter.headers)[0] == 200


def test_other_hosts_are_refused_by_every_client_by_default(vendors: EmulatorMock, local_server: str) -> None:
    with pytest.raises(httpx.ConnectError, match="only the emulated vendors' hosts"):
        httpx.get(local_server)
    with pytest.raises(requests.ConnectionError):
        requests.get(local_server)
    with pytest.raises(aiohttp.ClientConnectionError):
        _aiohttp(local_server, {})


def test_urllib_and_raw_sockets_to_a_vendor_host_fail_at_once_with_advice(vendors: EmulatorMock) -> None:
    started = time.monotonic()
    with pytest.raises(urllib.error.URLError) as caught:
        urllib.request.urlopen("https://app.famulor.de/api/user/phone-numbers/all", timeout=5)
    reason = str(caught.value.reason)
    assert "app.famulor.de" in reason
    assert "httpx, requests, aiohttp" in reason
    assert "vendor-emulator serve" in reason
    with pytest.raises(VendorHostNotInterceptedError):
        socket.create_connection(("demo.mindhunters.ai", 443))
    with pytest.raises(VendorHostNotInterceptedError):
        socket.gethostbyname("api.contactship.ai")
    with socket.socket() as raw, pytest.raises(VendorHostNotInterceptedError):
        raw.connect(("api.getbutter.ai", 443))
    assert time.monotonic() - started < 1


def test_the_guard_lets_loopback_through_and_is_gone_after_the_block(local_server: str) -> None:
    original = socket.getaddrinfo
    with mock_vendors():
        assert socket.getaddrinfo("127.0.0.1", 80)
        assert socket.getaddrinfo is not original
    assert socket.getaddrinfo is original
    assert "connect" not in vars(socket.socket)
    assert urllib.request.urlopen(local_server, timeout=5).read() == b"hello"


def test_nested_guards_unwind_in_any_order() -> None:
    original = socket.getaddrinfo
    outer, inner = SocketGuard(["httpx"]), SocketGuard(["httpx"])
    outer.block("api.getbutter.ai")
    inner.block("app.famulor.de")
    outer.start()
    inner.start()
    outer.stop()
    with pytest.raises(VendorHostNotInterceptedError):
        socket.getaddrinfo("app.famulor.de", 443)
    assert socket.getaddrinfo("127.0.0.1", 80)
    inner.stop()
    assert socket.getaddrinfo is original


def test_url_patterns_match_declared_hosts_on_any_port_and_wildcard_subdomains() -> None:
    butter, mindhunters = url_pattern("api.getbutter.ai"), url_pattern("*.mindhunters.ai")
    assert butter.match("https://api.getbutter.ai/api/phone-numbers?x=1")
    assert butter.match("http://API.getbutter.ai:8443")
    assert not butter.match("https://api.getbutter.ai.evil.test/")
    assert mindhunters.match("https://acme.mindhunters.ai/api/v1/phone-numbers")
    assert not mindhunters.match("https://mindhunters.ai/")
    assert not mindhunters.match("https://a.b.mindhunters.ai/")


def test_read_timeouts_are_taken_from_every_form_a_client_accepts() -> None:
    assert [read_timeout(value) for value in (2, 1.5, (3, 4), None, True, "x")] == [
        2.0,
        1.5,
        4.0,
        None,
        None,
        None,
    ]


def test_interceptors_follow_what_is_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("mockserver.intercept._installed", lambda module: module != "aioresponses")
    assert [kit.client for kit in available_interceptors("refuse")] == ["httpx", "requests"]
