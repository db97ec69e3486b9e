"""``pytest contracts/ --target mock|url|live``: the contract as a pytest suite, one test per endpoint."""

from __future__ import annotations

import pytest

from contracts.checks.findings import Severity
from contracts.checks.runner import Report, run
from contracts.checks.writes import label
from mockserver.declarations.loading import discover_vendors, load_vendor
from mockserver.documents.schemas import SchemaStore
from mockserver.engine.config import DEFAULT_SCHEMAS_DIR


def pytest_addoption(parser: pytest.Parser) -> None:
    """The contract suite's options."""
    group = parser.getgroup("contracts", "vendor contract checks")
    group.addoption(
        "--target", choices=["mock", "url", "live"], default="mock", help="where to check (default: mock)"
    )
    group.addoption("--url", default=None, help="base URL of a running emulator, with --target url")
    group.addoption("--contract-vendor", action="append", default=None, help="only this vendor (repeatable)")
    group.addoption(
        "--allow-writes",
        action="store_true",
        default=False,
        help="with --target live: also run the write checks (buying a number costs money)",
    )
    group.addoption(
        "--fail-on", choices=[s.value for s in Severity], default="error", help="lowest failing severity"
    )


def _endpoints(vendors: list[str] | None) -> list[tuple[str, str]]:
    store = SchemaStore(DEFAULT_SCHEMAS_DIR)
    found = []
    for vendor_id in vendors or discover_vendors(DEFAULT_SCHEMAS_DIR):
        spec = load_vendor(DEFAULT_SCHEMAS_DIR / vendor_id, store)
        found += [(vendor_id, f"GET {endpoint.path}") for endpoint in spec.endpoints]
        found += [(vendor_id, label(write)) for write in spec.writes]
    return found


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """One test per (vendor, endpoint), and per declared write (skipped on live without --allow-writes)."""
    if "contract_endpoint" in metafunc.fixturenames:
        pairs = _endpoints(metafunc.config.getoption("--contract-vendor"))
        metafunc.parametrize(
            "contract_endpoint", pairs, ids=[f"{vendor}:{endpoint}" for vendor, endpoint in pairs]
        )


@pytest.fixture(scope="session")
def contract_report(pytestconfig: pytest.Config) -> Report:
    """The contract run, once per session, on the chosen target."""
    return run(
        pytestconfig.getoption("--target"),
        url=pytestconfig.getoption("--url"),
        vendors=pytestconfig.getoption("--contract-vendor"),
        allow_writes=pytestconfig.getoption("--allow-writes"),
    )


@pytest.fixture(scope="session")
def fail_on(pytestconfig: pytest.Config) -> Severity:
    """The lowest severity that fails a test."""
    return Severity(pytestconfig.getoption("--fail-on"))
