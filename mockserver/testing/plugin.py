"""pytest plugin (entry point ``pytest11``): fixtures that put the emulator behind the vendors' hosts.

- ``vendor_mocks``: every vendor; ``vendor_mocks.butter`` etc. are their controls.
- ``<vendor id>_mock`` for each vendor in ``schemas/`` (e.g. ``famulor_mock``, ``butter_mock``,
  ``contactship_mock``, ``mindhunters_mock``): one vendor each; the other vendors' hosts are refused unless
  their fixtures are requested too.
- the marker ``@pytest.mark.mock_vendors("butter", ..., other_hosts="allow")``: the named vendors (all,
  if none is named) are mocked for the test without asking for a fixture.
- the marker ``@pytest.mark.vendor_drift("butter:field.renamed:field=phone_number", ...)``: the test runs
  against tomorrow's vendor (docs/drifts.md); each drift's vendor is mocked, and keyword arguments are
  parameters of every drift named. ``butter_mock.drift(ID, **params)`` does the same inside a test.

httpx, ``requests`` and aiohttp are answered in-process (see :mod:`mockserver.intercept`); any other way
to a vendor host fails at once.

The emulator is built once per session (per xdist worker) and reset before every test, so each test
starts from the fixtures with no faults and an empty journal. The interception is built once too (its
routes for each vendor): a test only patches the clients and unpatches them when it ends. Requests to
hosts that are not mocked are refused; set ``vendor_emulator_other_hosts = allow`` in the pytest ini
file to let them through.

Importing this module does nothing but define the hooks and fixtures: the vendor fixtures are made in
``pytest_configure`` (from the folder names under ``schemas/``) and the emulator when a test first asks.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from types import ModuleType
from typing import Any, cast

import pytest

from mockserver.declarations.loading import discover_vendors
from mockserver.drifts import parse_spec
from mockserver.engine.config import DEFAULT_SCHEMAS_DIR, EmulatorConfig
from mockserver.engine.emulator import Emulator, build_emulator
from mockserver.engine.options_file import read_options_file
from mockserver.errors import EmulatorError
from mockserver.installation import clash_messages
from mockserver.testing import EmulatorMock, OtherHosts, VendorMock
from mockserver.testing.mocks import ActiveDrift

OTHER_HOSTS_OPTION = "vendor_emulator_other_hosts"
OPTIONS_FILE_OPTION = "vendor_emulator_options_file"
MARKER = "mock_vendors"
DRIFT_MARKER = "vendor_drift"
VENDOR_FIXTURES_PLUGIN = "vendor_emulator_vendors"


def pytest_configure(config: pytest.Config) -> None:
    """Register the marker and the ``<vendor id>_mock`` fixtures; stop on a clashing distribution."""
    config.addinivalue_line(
        "markers",
        f"{MARKER}(*vendor_ids, other_hosts='refuse'): answer these vendors' hosts in-process (all if none)",
    )
    config.addinivalue_line(
        "markers",
        f"{DRIFT_MARKER}(*'VENDOR:ID[:param=value,...]', **params): serve these drifts to the test"
        " (docs/drifts.md)",
    )
    messages = clash_messages()
    if messages:
        raise pytest.UsageError("vendor-emulator: " + "\n".join(messages))
    if not config.pluginmanager.has_plugin(VENDOR_FIXTURES_PLUGIN):
        config.pluginmanager.register(vendor_fixtures(DEFAULT_SCHEMAS_DIR), VENDOR_FIXTURES_PLUGIN)


def pytest_addoption(parser: pytest.Parser) -> None:
    """Register the ini option that decides what happens to requests for other hosts."""
    parser.addini(
        OTHER_HOSTS_OPTION,
        "refuse (default) or allow requests to hosts the emulator does not mock",
        default="refuse",
    )
    parser.addini(
        OPTIONS_FILE_OPTION,
        "options file (VENDOR.OPTION=VALUE lines, as contracts calibrate writes), relative to the ini file",
        default="",
    )


@pytest.fixture(scope="session")
def vendor_emulator(pytestconfig: pytest.Config) -> Emulator:
    """The emulator of this session (or xdist worker), built once (with the ini's options file, if any)."""
    named = str(pytestconfig.getini(OPTIONS_FILE_OPTION) or "")
    if not named:
        return build_emulator(EmulatorConfig())
    path = Path(named)
    if not path.is_absolute() and pytestconfig.inipath is not None:
        path = pytestconfig.inipath.parent / path
    try:
        options = read_options_file(path)
        return build_emulator(EmulatorConfig(options=options))
    except EmulatorError as error:
        raise pytest.UsageError(f"vendor-emulator: {OPTIONS_FILE_OPTION}: {error}") from None


@pytest.fixture(scope="session")
def _vendor_routers(vendor_emulator: Emulator) -> dict[str, EmulatorMock]:
    """One mock per ``other_hosts`` value, entered anew by each test: its routes are built once."""
    return {}


@pytest.fixture
def _vendor_routing(
    vendor_emulator: Emulator, _vendor_routers: dict[str, EmulatorMock], request: pytest.FixtureRequest
) -> Iterator[EmulatorMock]:
    marker = request.node.get_closest_marker(MARKER)
    configured = request.config.getini(OTHER_HOSTS_OPTION)
    other_hosts = cast(OtherHosts, marker.kwargs.get("other_hosts", configured) if marker else configured)
    vendor_emulator.reset()
    mock = _vendor_routers.get(other_hosts)
    if mock is None:
        mock = _vendor_routers[other_hosts] = EmulatorMock(
            (), other_hosts=other_hosts, emulator=vendor_emulator
        )
    # No vendor is routed yet: each vendor fixture the test asks for adds its own routes.
    with mock:
        yield mock


@pytest.fixture
def vendor_mocks(_vendor_routing: EmulatorMock) -> EmulatorMock:
    """Every vendor behind its real hosts; ``vendor_mocks.famulor`` etc. are the controls."""
    for vendor_id in _vendor_routing.emulator.vendors:
        _vendor_routing.activate(vendor_id)
    return _vendor_routing


@pytest.fixture(autouse=True)
def _vendor_emulator_marker(request: pytest.FixtureRequest) -> None:
    """Tests marked ``mock_vendors`` get the named vendors (or all) routed, with no fixture asked for."""
    marker = request.node.get_closest_marker(MARKER)
    if marker is None:
        return
    routing: EmulatorMock = request.getfixturevalue("_vendor_routing")
    for vendor_id in marker.args or tuple(routing.emulator.vendors):
        routing.activate(vendor_id)


@pytest.fixture(autouse=True)
def _vendor_drift_marker(request: pytest.FixtureRequest) -> None:
    """Tests marked ``vendor_drift`` get those drifts switched on (the reset before each test ends them)."""
    markers = list(request.node.iter_markers(DRIFT_MARKER))
    if not markers:
        return
    routing: EmulatorMock = request.getfixturevalue("_vendor_routing")
    for marker in markers:
        for spec in marker.args:
            try:
                switch_on(routing, str(spec), marker.kwargs)
            except ValueError as error:
                raise pytest.UsageError(f"@pytest.mark.{DRIFT_MARKER}({spec!r}): {error}") from None


def switch_on(routing: EmulatorMock, spec: str, params: Mapping[str, Any] | None = None) -> ActiveDrift:
    """Switch on the drift ``VENDOR:ID[:param=value,...]`` (``params`` added) for the current test.

    The one way the plugin switches a drift on: the marker uses it, and a run-wide ``--vendor-drift``
    (issue 24 part 4) is meant to. ValueError names what is allowed.
    """
    vendor_id, drift_id, given = parse_spec(spec)
    if vendor_id not in routing.emulator.vendors:
        raise ValueError(f"no vendor {vendor_id!r}; known: {sorted(routing.emulator.vendors)}")
    return routing.activate(vendor_id).drift(drift_id, **{**given, **(params or {})})


def _vendor_fixture(vendor_id: str) -> Callable[[EmulatorMock], VendorMock]:
    def fixture(_vendor_routing: EmulatorMock) -> VendorMock:
        return _vendor_routing.activate(vendor_id)

    fixture.__name__ = fixture.__qualname__ = f"{vendor_id}_mock"
    fixture.__doc__ = f"{vendor_id} behind its hosts (the x-emulator hosts of its openapi.json)."
    return pytest.fixture(name=f"{vendor_id}_mock")(fixture)


def vendor_fixtures(schemas_dir: Path) -> ModuleType:
    """A plugin holding one ``<vendor id>_mock`` fixture per vendor declared under ``schemas_dir``.

    Only the folder names are read (no declaration is parsed), so a new vendor gets its fixture too.
    """
    holder = ModuleType(VENDOR_FIXTURES_PLUGIN, "One <vendor id>_mock fixture per declared vendor.")
    for vendor_id in discover_vendors(schemas_dir):
        setattr(holder, f"{vendor_id}_mock", _vendor_fixture(vendor_id))
    return holder
