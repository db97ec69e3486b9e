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
- the options ``--vendor-drift=ID[,ID...]|all`` (a rehearsal, :mod:`mockserver.testing.rehearsal`): each test
  that uses a vendor's mock runs once plain and once under each drift of those vendors (its id gets
  ``[drift=VENDOR:ID]``), bounded by ``--vendor-drift-max-requests`` and ``--vendor-drift-timeout``; the
  resilience matrix is printed at the end and written by ``--vendor-drift-report=PATH.json|PATH.md``.
  Drifted failures do not fail the session unless ``--vendor-drift-strict``.

httpx, ``requests`` and aiohttp are answered in-process (see :mod:`mockserver.intercept`); any other way
to a vendor host fails at once.

The emulator is built once per session (per xdist worker) and reset before every test, so each test
starts from the fixtures with no faults and an empty journal. The interception is built once too (its
routes for each vendor): a test only patches the clients and unpatches them when it ends. Requests to
hosts that are not mocked are refused; set ``vendor_emulator_other_hosts = allow`` in the pytest ini
file to let them through.

Importing this module does nothing but define the hooks and fixtures, and imports nothing of the engine
(pytest loads it in every session of a project that installs the package, through its ``pytest11`` entry
point): the vendor fixtures are made in ``pytest_configure`` (from the folder names under ``schemas/``),
and the emulator, the mocks and the drifts are imported and built when a test first asks for them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any, cast

import pytest

from mockserver.declarations.discovery import discover_vendors
from mockserver.documents.resources import shipped_dir
from mockserver.installation import clash_messages
from mockserver.testing.rehearsal import (
    DEFAULT_MAX_REQUESTS,
    DEFAULT_TIMEOUT,
    PLAIN,
    REPORT_FORMATS,
    DriftCase,
    Matrix,
    RequestBudget,
    expand,
    parse_option,
    write_report,
)

if TYPE_CHECKING:
    from mockserver.engine.emulator import Emulator
    from mockserver.testing.mocks import ActiveDrift, EmulatorMock, OtherHosts, VendorMock

# What EmulatorConfig's default schemas_dir is (mockserver.engine.config), without importing the engine.
SCHEMAS_DIR = shipped_dir("schemas")
OTHER_HOSTS_OPTION = "vendor_emulator_other_hosts"
OPTIONS_FILE_OPTION = "vendor_emulator_options_file"
MARKER = "mock_vendors"
DRIFT_MARKER = "vendor_drift"
VENDOR_FIXTURES_PLUGIN = "vendor_emulator_vendors"
DRIFT_CASE_FIXTURE = "_vendor_drift_case"
MATRIX_KEY: pytest.StashKey[Matrix] = pytest.StashKey()
BUDGET_KEY: pytest.StashKey[RequestBudget] = pytest.StashKey()
COLUMN_KEY: pytest.StashKey[tuple[str, str]] = pytest.StashKey()  # (test id without the drift, column)
PLAIN_FAILURES_KEY: pytest.StashKey[int] = pytest.StashKey()
ROUTING_MARKER_KEY: pytest.StashKey[pytest.Mark | None] = pytest.StashKey()  # the closest mock_vendors
MISSING: Any = object()


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
        config.pluginmanager.register(vendor_fixtures(SCHEMAS_DIR), VENDOR_FIXTURES_PLUGIN)
    _configure_rehearsal(config)


def _configure_rehearsal(config: pytest.Config) -> None:
    """Check the ``--vendor-drift`` options (UsageError naming what is allowed) and keep their cases."""
    values = config.getoption("vendor_drift") or []
    reports = config.getoption("vendor_drift_report") or []
    if not values:
        if reports:
            raise pytest.UsageError("vendor-emulator: --vendor-drift-report needs --vendor-drift")
        return
    for path in reports:
        if not str(path).endswith(REPORT_FORMATS):
            raise pytest.UsageError(
                f"vendor-emulator: --vendor-drift-report={path}: the file's suffix names the format:"
                f" {' or '.join(REPORT_FORMATS)}"
            )
    if config.getoption("vendor_drift_max_requests") < 1 or config.getoption("vendor_drift_timeout") <= 0:
        raise pytest.UsageError(
            "vendor-emulator: --vendor-drift-max-requests and --vendor-drift-timeout are > 0"
        )
    from mockserver.engine.config import EmulatorConfig  # noqa: PLC0415 - see the module's docstring
    from mockserver.engine.emulator import build_emulator  # noqa: PLC0415

    emulator = build_emulator(EmulatorConfig())
    catalogues = {vendor_id: app.drifts for vendor_id, app in emulator.apps.items()}
    try:
        cases = expand(parse_option(values), catalogues)
    except ValueError as error:
        raise pytest.UsageError(f"vendor-emulator: --vendor-drift: {error}") from None
    config.stash[MATRIX_KEY] = Matrix(cases)


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
    group = parser.getgroup("vendor-emulator", "drift rehearsal (docs/drifts.md)")
    group.addoption(
        "--vendor-drift",
        action="append",
        metavar="ID[,ID...]|all",
        help="run each test that uses a vendor's mock once plain and once under each drift: 'all', or"
        " ids (ID: every vendor where it applies; VENDOR:ID[:param=value,...]); repeatable",
    )
    group.addoption(
        "--vendor-drift-report",
        action="append",
        metavar="PATH",
        help="write the resilience matrix to PATH: JSON for .json, Markdown for .md (repeatable)",
    )
    group.addoption(
        "--vendor-drift-strict",
        action="store_true",
        help="a test failing under a drift fails the session (default: only the plain runs decide)",
    )
    group.addoption(
        "--vendor-drift-max-requests",
        type=int,
        default=DEFAULT_MAX_REQUESTS,
        metavar="N",
        help=f"cut a drifted test after N requests to the vendors (default {DEFAULT_MAX_REQUESTS})",
    )
    group.addoption(
        "--vendor-drift-timeout",
        type=float,
        default=DEFAULT_TIMEOUT,
        metavar="SECONDS",
        help=f"cut a drifted test at its first request after SECONDS (default {DEFAULT_TIMEOUT:g})",
    )


@pytest.fixture(scope="session")
def vendor_emulator(pytestconfig: pytest.Config) -> Emulator:
    """The emulator of this session (or xdist worker), built once (with the ini's options file, if any)."""
    from mockserver.engine.config import EmulatorConfig  # noqa: PLC0415 - see the module's docstring
    from mockserver.engine.emulator import build_emulator  # noqa: PLC0415
    from mockserver.engine.options_file import read_options_file  # noqa: PLC0415
    from mockserver.errors import EmulatorError  # noqa: PLC0415

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
def _vendor_routers(vendor_emulator: Emulator, pytestconfig: pytest.Config) -> VendorRouters:
    """One mock per ``other_hosts`` value, entered anew by each test: its routes are built once."""
    return VendorRouters(vendor_emulator, cast("OtherHosts", pytestconfig.getini(OTHER_HOSTS_OPTION)))


class VendorRouters:
    """The session's mocks, one per ``other_hosts`` value (the ini file's, read once, unless a marker
    names another), each built on its first use."""

    def __init__(self, emulator: Emulator, configured: OtherHosts) -> None:
        self.emulator = emulator
        self.configured = configured
        self._mocks: dict[OtherHosts, EmulatorMock] = {}

    def mock(self, other_hosts: OtherHosts) -> EmulatorMock:
        """The mock that treats other hosts as ``other_hosts`` says."""
        mock = self._mocks.get(other_hosts)
        if mock is None:
            from mockserver.testing.mocks import EmulatorMock  # noqa: PLC0415 - see the module's docstring

            mock = EmulatorMock((), other_hosts=other_hosts, emulator=self.emulator)
            self._mocks[other_hosts] = mock
        return mock


@pytest.fixture
def _vendor_routing(
    vendor_emulator: Emulator, _vendor_routers: VendorRouters, request: pytest.FixtureRequest
) -> Iterator[EmulatorMock]:
    marker = request.node.stash.get(ROUTING_MARKER_KEY, MISSING)  # what _vendor_drift_case looked up
    if marker is MISSING:
        marker = request.node.get_closest_marker(MARKER)
    configured = _vendor_routers.configured
    mock = _vendor_routers.mock(marker.kwargs.get("other_hosts", configured) if marker else configured)
    vendor_emulator.reset()
    # No vendor is routed yet: each vendor fixture the test asks for adds its own routes.
    with mock:
        yield mock


@pytest.fixture
def vendor_mocks(_vendor_routing: EmulatorMock) -> EmulatorMock:
    """Every vendor behind its real hosts; ``vendor_mocks.famulor`` etc. are the controls."""
    for vendor_id in _vendor_routing.emulator.vendors:
        _vendor_routing.activate(vendor_id)
    return _vendor_routing


def mocked_vendors(metafunc: pytest.Metafunc, vendors: Iterable[str]) -> list[str]:
    """The vendors whose mock a test uses: its ``<vendor>_mock`` fixtures, all for ``vendor_mocks``, and
    those its ``mock_vendors`` marker names (all, if none). A drift is served to the tests of its vendor."""
    known = list(vendors)
    names = set(metafunc.fixturenames)
    used = {vendor for vendor in known if f"{vendor}_mock" in names}
    if "vendor_mocks" in names:
        used.update(known)
    marker = metafunc.definition.get_closest_marker(MARKER)
    if marker is not None:
        used.update(str(vendor) for vendor in marker.args or known)
    return [vendor for vendor in known if vendor in used]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """In a rehearsal, a test that uses a vendor's mock runs plain, then under each drift of its vendors."""
    matrix = metafunc.config.stash.get(MATRIX_KEY, None)
    if matrix is None or DRIFT_CASE_FIXTURE not in metafunc.fixturenames:
        return
    vendors = mocked_vendors(metafunc, discover_vendors(SCHEMAS_DIR))
    cases = [case for case in matrix.cases if case.vendor in vendors]
    if not cases:
        return
    metafunc.parametrize(
        DRIFT_CASE_FIXTURE,
        [None, *cases],
        ids=[PLAIN, *(f"drift={case.label}" for case in cases)],
        indirect=True,
    )


def _marked(request: pytest.FixtureRequest) -> list[pytest.Mark]:
    """The test's ``vendor_drift`` markers, closest first; its closest ``mock_vendors`` marker is kept for
    ``_vendor_routing`` (one walk of the test's markers instead of three)."""
    drifts, routing = [], None
    for mark in request.node.iter_markers():
        if mark.name == DRIFT_MARKER:
            drifts.append(mark)
        elif mark.name == MARKER and routing is None:
            routing = mark
    request.node.stash[ROUTING_MARKER_KEY] = routing
    return drifts


def _route_marked_vendors(request: pytest.FixtureRequest) -> None:
    """Tests marked ``mock_vendors`` get the named vendors (or all) routed, with no fixture asked for."""
    marker = request.node.stash.get(ROUTING_MARKER_KEY, None)
    if marker is None:
        return
    routing: EmulatorMock = request.getfixturevalue("_vendor_routing")
    for vendor_id in marker.args or tuple(routing.emulator.vendors):
        routing.activate(vendor_id)


def _switch_marked_drifts(request: pytest.FixtureRequest, markers: list[pytest.Mark]) -> None:
    """Tests marked ``vendor_drift`` get those drifts switched on (the reset before each test ends them)."""
    if not markers:
        return
    routing: EmulatorMock = request.getfixturevalue("_vendor_routing")
    for marker in markers:
        for spec in marker.args:
            try:
                switch_on(routing, str(spec), marker.kwargs)
            except ValueError as error:
                raise pytest.UsageError(f"@pytest.mark.{DRIFT_MARKER}({spec!r}): {error}") from None


@pytest.fixture(autouse=True)
def _vendor_drift_case(request: pytest.FixtureRequest) -> Iterator[None]:
    """The plugin's one fixture for every test (each autouse fixture costs every test of the session).

    In this order (that of the three fixtures it replaces): in a rehearsal, this run's drift switched on
    and the test bounded (requests, time); the drifts of ``vendor_drift`` markers switched on; the vendors
    of a ``mock_vendors`` marker routed.
    """
    case: DriftCase | None = getattr(request, "param", None)
    drifts = _marked(request)
    if case is None:
        _switch_marked_drifts(request, drifts)
        _route_marked_vendors(request)
        yield
        return
    routing: EmulatorMock = request.getfixturevalue("_vendor_routing")
    switch_on(routing, case.label)
    budget = RequestBudget(
        case,
        max_requests=request.config.getoption("vendor_drift_max_requests"),
        timeout=request.config.getoption("vendor_drift_timeout"),
    )
    request.node.stash[BUDGET_KEY] = budget
    apps = list(routing.emulator.apps.values())
    for app in apps:
        setattr(app, "reply", _bounded(app.reply, budget))  # noqa: B010 - an instance's own, for this test
    try:
        _switch_marked_drifts(request, drifts)
        _route_marked_vendors(request)
        yield
    finally:
        for app in apps:
            if "reply" in vars(app):
                delattr(app, "reply")


def _bounded(reply: Callable[..., Any], budget: RequestBudget) -> Callable[..., Any]:
    def bounded(*args: Any, **kwargs: Any) -> Any:
        budget.charge()
        return reply(*args, **kwargs)

    return bounded


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Note each rehearsed test's row (its id without the drift part) and column in the matrix."""
    if MATRIX_KEY not in config.stash:
        return
    for item in items:
        callspec = getattr(item, "callspec", None)
        if callspec is None or DRIFT_CASE_FIXTURE not in callspec.params:
            continue
        case: DriftCase | None = callspec.params[DRIFT_CASE_FIXTURE]
        part = PLAIN if case is None else f"drift={case.label}"
        test = item.nodeid.replace(f"[{part}]", "").replace(f"-{part}]", "]").replace(f"[{part}-", "[")
        item.stash[COLUMN_KEY] = (test, PLAIN if case is None else case.label)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """Record rehearsed outcomes; a cut test fails even when the client swallowed the error."""
    outcome: Any = yield
    if MATRIX_KEY not in item.config.stash:
        return
    report: pytest.TestReport = outcome.get_result()
    place = item.stash.get(COLUMN_KEY, None)
    if place is None or place[1] == PLAIN:
        if report.failed:  # the failures that decide the exit status
            item.config.stash[PLAIN_FAILURES_KEY] = item.config.stash.get(PLAIN_FAILURES_KEY, 0) + 1
        if place is None:
            return
    budget = item.stash.get(BUDGET_KEY, None)
    cut = budget.cut if budget is not None else None
    if cut is not None and report.when == "call" and report.passed:
        report.outcome = "failed"
        report.longrepr = cut
    matrix = item.config.stash[MATRIX_KEY]
    if report.failed and cut is not None:
        matrix.record(*place, "cut", cut)
    elif report.failed:
        matrix.record(*place, "failed")
    elif report.skipped:
        matrix.record(*place, "skipped")
    elif report.when == "call":
        matrix.record(*place, "passed")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Write the matrix's reports; unless strict, failures under drifts do not fail the session."""
    matrix = session.config.stash.get(MATRIX_KEY, None)
    if matrix is None:
        return
    for path in session.config.getoption("vendor_drift_report") or []:
        write_report(matrix, str(path))
    if session.config.getoption("vendor_drift_strict") or exitstatus != pytest.ExitCode.TESTS_FAILED:
        return
    if session.config.stash.get(PLAIN_FAILURES_KEY, 0) == 0:
        session.exitstatus = pytest.ExitCode.OK


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    """Print the resilience matrix: drift x test, with the plain run as the baseline."""
    matrix = config.stash.get(MATRIX_KEY, None)
    if matrix is None:
        return
    terminalreporter.write_sep("=", "vendor drift rehearsal: resilience matrix")
    for line in matrix.to_text():
        terminalreporter.write_line(line)
    if not config.getoption("vendor_drift_strict"):
        terminalreporter.write_line(
            "failures under a drift do not fail the session (--vendor-drift-strict makes them)"
        )


def switch_on(routing: EmulatorMock, spec: str, params: Mapping[str, Any] | None = None) -> ActiveDrift:
    """Switch on the drift ``VENDOR:ID[:param=value,...]`` (``params`` added) for the current test.

    The one way the plugin switches a drift on: the marker and a ``--vendor-drift`` rehearsal use it.
    ValueError names what is allowed.
    """
    from mockserver.drifts import parse_spec  # noqa: PLC0415 - see the module's docstring

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
