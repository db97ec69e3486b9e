"""Shared fixtures: one emulator app per session, clients per vendor, Hypothesis profiles.

The generic test modules (meta, pagination properties, strategies, drift round trips, hostile inputs,
fuzzing, no-Python-needed) take their vendors from the declarations under ``SCHEMAS``. Point the suite at
other data with ``VENDOR_EMULATOR_TEST_SCHEMAS`` and ``VENDOR_EMULATOR_TEST_FIXTURES`` (how
tests/promises/test_new_vendor.py proves that a vendor added later gets all of them, with no test edited).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, settings
from starlette.applications import Starlette

from mockserver import EmulatorConfig, create_app
from mockserver.declarations.loading import discover_vendors
from mockserver.documents.schemas import SchemaStore
from mockserver.engine.emulator import Emulator, credential_headers
from mockserver.intercept.transport import EmulatorTransport

ROOT = Path(__file__).resolve().parent.parent
SCHEMAS_ENV = "VENDOR_EMULATOR_TEST_SCHEMAS"
FIXTURES_ENV = "VENDOR_EMULATOR_TEST_FIXTURES"
SCHEMAS = Path(os.environ.get(SCHEMAS_ENV) or ROOT / "schemas")
FIXTURES = Path(os.environ.get(FIXTURES_ENV) or ROOT / "fixtures")
VENDORS = discover_vendors(SCHEMAS)


def data_config(**changes: Any) -> EmulatorConfig:
    """An EmulatorConfig serving the data under test (SCHEMAS and FIXTURES), with ``changes``."""
    return EmulatorConfig(schemas_dir=SCHEMAS, fixtures_dir=FIXTURES, **changes)


# Named profiles (schemathesis and attrs do the same): fast while editing, deterministic in CI,
# deep for occasional runs (`make fuzz`).
settings.register_profile("dev", max_examples=25, deadline=None)
settings.register_profile(
    "ci", max_examples=40, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(  # the made-up vendor's run inside the suite (tests/promises/test_new_vendor.py)
    "quick", max_examples=10, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "deep", max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture
def anyio_backend() -> str:
    """Async tests run on asyncio (the event loop uvicorn uses)."""
    return "asyncio"


@pytest.fixture(scope="session")
def app() -> Starlette:
    """The emulator with the repository's declarations and fixtures."""
    return create_app(data_config())


@pytest.fixture(scope="session")
def emulator(app: Starlette) -> Emulator:
    """The loaded vendors and their state."""
    loaded: Emulator = app.state.emulator
    return loaded


@pytest.fixture(scope="session")
def store() -> SchemaStore:
    """Every schema file of the repository."""
    return SchemaStore(SCHEMAS)


class VendorClient:
    """A client for one vendor's mount, authenticated with its first test credential by default."""

    def __init__(self, client: httpx.Client, emulator: Emulator, vendor_id: str) -> None:
        self.client = client
        self.vendor_id = vendor_id
        self.spec = emulator.vendors[vendor_id]
        self.state = emulator.datasets[vendor_id]
        self.auth = credential_headers(self.spec)[0]

    def records(self, dataset: str) -> list[Any]:
        """The fixture records of ``dataset``, in file order."""
        return [dict(record) for record in self.state.dataset("default", dataset).records]

    def get(
        self, path: str, params: Any = None, headers: dict[str, str] | None = None, auth: bool = True
    ) -> httpx.Response:
        """GET ``path`` (the vendor's real path) through the vendor's mount."""
        sent = {**(self.auth if auth else {}), **(headers or {})}
        return self.client.get(f"/{self.vendor_id}{path}", params=params, headers=sent)

    def request(self, method: str, path: str) -> httpx.Response:
        """Any method, authenticated."""
        return self.client.request(method, f"/{self.vendor_id}{path}", headers=self.auth)


@pytest.fixture(scope="session")
def http(app: Starlette) -> Iterator[httpx.Client]:
    """A synchronous in-process client of the whole emulator."""
    with httpx.Client(transport=EmulatorTransport(app), base_url="http://emulator.test") as client:
        yield client


@pytest.fixture(scope="session")
def famulor(http: httpx.Client, emulator: Emulator) -> VendorClient:
    return VendorClient(http, emulator, "famulor")


@pytest.fixture(scope="session")
def butter(http: httpx.Client, emulator: Emulator) -> VendorClient:
    return VendorClient(http, emulator, "butter")


@pytest.fixture(scope="session")
def contactship(http: httpx.Client, emulator: Emulator) -> VendorClient:
    return VendorClient(http, emulator, "contactship")


@pytest.fixture(scope="session")
def mindhunters(http: httpx.Client, emulator: Emulator) -> VendorClient:
    return VendorClient(http, emulator, "mindhunters")


def strictly_valid(store: SchemaStore, client: VendorClient, path: str, body: Any) -> Any:
    """``body`` if it validates strictly (closed objects, formats) against the endpoint's response schema."""
    endpoint = next(e for e in client.spec.endpoints if e.path == path)
    errors = store.errors(endpoint.response_schema, body, strict=True)
    assert not errors, errors[0].message
    return body


def wait_until_serving(base: str, seconds: float = 15) -> None:
    """Block until the server at ``base`` answers its index (a started CLI server binds before serving)."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            httpx.get(f"{base}/__mock__")
        except httpx.ConnectError:
            assert time.monotonic() < deadline, f"{base} did not come up within {seconds} s"
            time.sleep(0.05)
        else:
            return


class _Hello(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("content-length", "5")
        self.end_headers()
        self.wfile.write(b"hello")

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the stdlib's name
        """Quiet."""


@pytest.fixture
def local_server() -> Iterator[str]:
    """A real HTTP server on 127.0.0.1 (a host the emulator does not mock)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Hello)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


_IMPORTED = time.time()  # when this run began (the controller imports this file first)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Print the container measurements (tests/system/test_container_run.py) when this run wrote them."""
    report = ROOT / "reports" / "container.json"
    if report.exists() and report.stat().st_mtime >= _IMPORTED:
        terminalreporter.write_sep("-", "container image (reports/container.json)")
        terminalreporter.write_line(report.read_text(encoding="utf-8").strip())
