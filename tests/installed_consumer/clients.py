"""A consumer project's tests, run by tests/system/test_distribution.py against the *installed* package.

They use nothing but the installed pytest plugin (no import of this repository) and reach every declared
vendor's real URL in-process with httpx (sync and async), requests and aiohttp.
"""

from __future__ import annotations

import asyncio
import json
import socket
import urllib.error
import urllib.request
from typing import Any

import aiohttp
import httpx
import pytest
import requests

UNMOCKED = "https://unmocked.example.com/"


def _targets(vendor_mocks: Any) -> list[tuple[Any, str]]:
    """(vendor controls, live URL) for every endpoint of every vendor the plugin serves."""
    return [
        (vendor_mocks[vendor_id], vendor_mocks[vendor_id].base_url + endpoint.path)
        for vendor_id, spec in vendor_mocks.emulator.vendors.items()
        for endpoint in spec.endpoints
    ]


def _httpx_sync(url: str, headers: dict[str, str]) -> tuple[int, Any]:
    response = httpx.get(url, headers=headers)
    return response.status_code, response.json()


def _httpx_async(url: str, headers: dict[str, str]) -> tuple[int, Any]:
    async def fetch() -> tuple[int, Any]:
        async with httpx.AsyncClient() as client:
            response = await client.get(url, headers=headers)
            return response.status_code, response.json()

    return asyncio.run(fetch())


def _requests(url: str, headers: dict[str, str]) -> tuple[int, Any]:
    with requests.Session() as session:
        response = session.get(url, headers=headers, stream=True)
        return response.status_code, json.loads(b"".join(response.iter_content(64)))


def _aiohttp(url: str, headers: dict[str, str]) -> tuple[int, Any]:
    async def fetch() -> tuple[int, Any]:
        async with aiohttp.ClientSession(headers=headers) as session, session.get(url) as response:
            return response.status, await response.json(content_type=None)

    return asyncio.run(fetch())


CLIENTS = {"httpx": _httpx_sync, "httpx-async": _httpx_async, "requests": _requests, "aiohttp": _aiohttp}


@pytest.mark.parametrize("client", list(CLIENTS))
def test_every_vendor_url_answers_in_process(vendor_mocks: Any, client: str) -> None:
    """Each client gets the same 200 body from every endpoint, and the journal saw each request."""
    targets = _targets(vendor_mocks)
    assert len(targets) >= 6
    for vendor, url in targets:
        status, body = CLIENTS[client](url, vendor.headers)
        expected = httpx.get(url, headers=vendor.headers).json()
        assert (status, body) == (200, expected), url
        assert vendor.calls(path=url.split(vendor.base_url, 1)[1]), url


@pytest.mark.parametrize("client", list(CLIENTS))
def test_every_client_gets_the_vendors_401(vendor_mocks: Any, client: str) -> None:
    """Without credentials, each client sees the vendor's own 401 body."""
    for _vendor, url in _targets(vendor_mocks):
        status, body = CLIENTS[client](url, {})
        assert status == 401, url
        assert body == httpx.get(url).json(), url


@pytest.mark.parametrize("client", list(CLIENTS))
def test_faults_reach_every_client(butter_mock: Any, client: str) -> None:
    """A fault set through the controls is answered to whichever client asks next."""
    butter_mock.fail(503, times=1)
    status, _ = CLIENTS[client](butter_mock.base_url + "/api/phone-numbers", butter_mock.headers)
    assert status == 503
    butter_mock.assert_called(times=1)


@pytest.mark.mock_vendors("contactship")
def test_the_marker_mocks_without_a_fixture() -> None:
    """@pytest.mark.mock_vendors routes the named vendor for the test."""
    response = requests.get(
        "https://api.contactship.ai/v1/phone-numbers", headers={"x-api-key": "contactship-test-key"}
    )
    assert response.status_code == 200
    assert "data" in response.json()


def test_unmocked_hosts_are_refused_by_every_client(vendor_mocks: Any) -> None:
    """Another host never leaves the process: each client gets a connection error."""
    with pytest.raises(httpx.HTTPError):
        httpx.get(UNMOCKED)
    with pytest.raises(requests.ConnectionError):
        requests.get(UNMOCKED)

    async def aiohttp_get() -> None:
        async with aiohttp.ClientSession() as session:
            await session.get(UNMOCKED)

    with pytest.raises(aiohttp.ClientConnectionError):
        asyncio.run(aiohttp_get())


def test_other_clients_cannot_reach_a_vendor_host(vendor_mocks: Any) -> None:
    """urllib and raw sockets are not intercepted, so they fail at once with advice, never the network."""
    with pytest.raises(
        urllib.error.URLError, match=r"vendor-emulator refused a connection to api\.getbutter\.ai"
    ):
        urllib.request.urlopen("https://api.getbutter.ai/api/phone-numbers", timeout=5)
    with pytest.raises(ConnectionRefusedError, match="httpx, requests, aiohttp"):
        socket.create_connection(("app.famulor.de", 443), timeout=5)
