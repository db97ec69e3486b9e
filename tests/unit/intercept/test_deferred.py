"""A client imported while the mock is active is intercepted all the same; one never imported is not imported.

The mocks (and the pytest plugin's fixtures) import and patch a client only when the process has imported
it, at the start or later: each case runs in a fresh interpreter, where no client is imported yet.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.pytest_session import run_pytest

URL = "https://api.contactship.ai/v1/phone-numbers"

# Each client's request, made by code that imports the client only then (inside the mock's lifetime).
REQUESTS = {
    "httpx": """
        import httpx
        status = httpx.get(URL, headers=HEADERS).status_code
        try:
            httpx.get("https://example.org/")
            other = "reached"
        except httpx.ConnectError:
            other = "refused"
    """,
    "requests": """
        import requests
        status = requests.get(URL, headers=HEADERS).status_code
        try:
            requests.get("https://example.org/")
            other = "reached"
        except requests.ConnectionError:
            other = "refused"
    """,
    "aiohttp": """
        import asyncio
        import aiohttp

        async def fetch(url, headers=None):
            async with aiohttp.ClientSession() as session:
                async with session.get(url, headers=headers) as response:
                    return response.status

        status = asyncio.run(fetch(URL, HEADERS))
        try:
            asyncio.run(fetch("https://example.org/"))
            other = "reached"
        except aiohttp.ClientConnectionError:
            other = "refused"
    """,
}
MOCKING_LIBRARY = {"httpx": "respx", "aiohttp": "aioresponses"}  # requests is answered without one
CLIENTS = ("httpx", "requests", "aiohttp")

SCRIPT = """\
import sys
from mockserver.testing import mock_vendors

URL = {url!r}
CLIENTS = {clients!r}
assert not [name for name in CLIENTS if name in sys.modules], "a client is imported already"
hooks = list(sys.meta_path)
with mock_vendors("contactship") as vendors:
    assert not [name for name in CLIENTS if name in sys.modules], "the mock imported a client"
    HEADERS = vendors.contactship.headers
    {first}
{request}
    print("status", status, other, len(vendors.contactship.calls()))
assert sys.meta_path == hooks, "the import hook outlived the mock"
print("imported", sorted(name for name in CLIENTS if name in sys.modules))
"""


def run(client: str, first: str = "pass") -> list[str]:
    request = textwrap.indent(textwrap.dedent(REQUESTS[client]), "    ")
    script = SCRIPT.format(url=URL, clients=CLIENTS, first=first, request=request)
    environment = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=120,
        env=environment,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout.splitlines()


@pytest.mark.parametrize("client", CLIENTS)
def test_a_client_imported_inside_the_mock_is_answered_by_the_emulator(client: str) -> None:
    assert run(client) == ["status 200 refused 1", f"imported ['{client}']"]


@pytest.mark.parametrize("client", list(MOCKING_LIBRARY))
def test_importing_the_mocking_library_first_changes_nothing(client: str) -> None:
    """``import aioresponses`` imports aiohttp on its way: the interception waits for both to be whole."""
    lines = run(client, first=f"import {MOCKING_LIBRARY[client]}")
    assert lines == ["status 200 refused 1", f"imported ['{client}']"]


# A pytest run with no other plugin (they import clients of their own): the fixture's test imports the
# client itself.
PLUGIN_TESTS = """\
import sys

CLIENTS = {clients!r}
URL = {url!r}


def test_0_no_client_is_imported_before():
    assert not [name for name in CLIENTS if name in sys.modules]


def test_1_imported_inside_a_test(contactship_mock):
    HEADERS = contactship_mock.headers
{requests}
    contactship_mock.assert_called(times=len(CLIENTS))


def test_2_imported_before_the_next_test(vendor_mocks):
    HEADERS = vendor_mocks.contactship.headers
{requests}
    vendor_mocks.contactship.assert_called(times=len(CLIENTS))
"""


def test_the_plugins_fixtures_answer_a_client_the_test_imports(tmp_path: Path) -> None:
    body = "\n".join(
        textwrap.indent(textwrap.dedent(REQUESTS[client]), "    ")
        + '    assert (status, other) == (200, "refused")\n'
        for client in CLIENTS
    )
    late = {"test_late.py": PLUGIN_TESTS.format(clients=CLIENTS, url=URL, requests=body)}
    environment = {**os.environ, "PYTHONPATH": str(ROOT), "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    done = run_pytest(tmp_path, late, "-p", "mockserver.testing.plugin", env=environment)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "3 passed" in done.stdout


NESTED = """\
import asyncio
from mockserver.testing import mock_vendors

CONTACTSHIP = {url!r}
BUTTER = "https://api.getbutter.ai/api/phone-numbers"


async def fetch(url, headers):
    import aiohttp

    async with aiohttp.ClientSession() as session:
        try:
            async with session.get(url, headers=headers) as response:
                return response.status
        except aiohttp.ClientConnectionError:
            return "refused"


with mock_vendors("contactship") as outer:
    with mock_vendors("butter") as inner:
        butter = asyncio.run(fetch(BUTTER, inner.butter.headers))
        print(butter, asyncio.run(fetch(CONTACTSHIP, outer.contactship.headers)))
    print(asyncio.run(fetch(CONTACTSHIP, outer.contactship.headers)))
"""


def test_nested_mocks_waiting_for_a_client_stack_as_if_it_had_been_imported_first() -> None:
    """Both start at its import, outer first: the inner mock answers (and refuses) until it ends."""
    environment = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", NESTED.format(url=URL)],
        capture_output=True,
        text=True,
        timeout=120,
        env=environment,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.splitlines() == ["200 refused", "200"]
