"""mockserver.testing.plugin: importing it is free; a pytest run gets one fixture per declared vendor."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import httpx
import pytest

from mockserver.declarations.loading import discover_vendors
from mockserver.engine.config import DEFAULT_FIXTURES_DIR, DEFAULT_SCHEMAS_DIR
from mockserver.testing import plugin
from tests.conftest import ROOT
from tests.pytest_session import run_pytest

# Every file opened and folder listed under the vendor data while the plugin module is imported.
AUDIT = textwrap.dedent(
    """
    import sys
    data = (sys.argv[1], sys.argv[2])
    touched = []

    def audit(event, args):
        if event in ("open", "os.scandir", "os.listdir") and args and isinstance(args[0], str):
            if args[0].startswith(data):
                touched.append(f"{event} {args[0]}")

    sys.addaudithook(audit)
    import mockserver.testing.plugin as plugin
    for line in touched:
        print(line)
    print("module fixtures:", sorted(name for name in vars(plugin) if name.endswith("_mock")))
    """
)


def test_importing_the_plugin_reads_no_declaration_and_makes_no_fixture() -> None:
    """Any pytest run in an environment with the package installed imports the plugin: that must be free."""
    result = subprocess.run(
        [sys.executable, "-c", AUDIT, str(DEFAULT_SCHEMAS_DIR), str(DEFAULT_FIXTURES_DIR)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert result.stdout.splitlines() == ["module fixtures: []"]


# The modules importing the plugin loaded, beyond those the interpreter and pytest load by themselves.
IMPORTS = textwrap.dedent(
    """
    import sys
    import pytest
    before = set(sys.modules)
    import mockserver.testing.plugin
    print("\\n".join(sorted(set(sys.modules) - before)))
    """
)


def test_importing_the_plugin_imports_neither_the_engine_nor_a_client() -> None:
    """Its import is paid by every pytest session, fixtures used or not: the engine, the declarations'
    loader, the mocks, the drifts and the HTTP clients (with their interception) wait for a test."""
    result = subprocess.run(
        [sys.executable, "-c", IMPORTS], cwd=ROOT, capture_output=True, text=True, timeout=60, check=True
    )
    loaded = result.stdout.split()
    assert "mockserver.testing.plugin" in loaded
    heavy = (
        *("mockserver.engine", "mockserver.intercept", "mockserver.testing.mocks", "mockserver.drifts"),
        *("mockserver.declarations.loading", "mockserver.serving", "jsonschema", "starlette"),
        *("httpx", "respx", "requests", "responses", "aiohttp", "aioresponses"),
    )
    assert [name for name in loaded if name.split(".")[0] in heavy or name.startswith(heavy)] == []


# The modules a first fixture use loads: the emulator's build, a mock's start and one vendor request.
FIRST_USE = textwrap.dedent(
    """
    import sys
    import httpx
    from mockserver.testing import mock_vendors
    with mock_vendors("contactship") as vendors:
        reply = httpx.get("https://api.contactship.ai/v1/phone-numbers", headers=vendors.contactship.headers)
    print(reply.status_code)
    print("\\n".join(sorted(sys.modules)))
    """
)


def test_a_first_vendor_request_imports_no_python_jsonschema_control_app_or_drift() -> None:
    """A session that uses a fixture pays for its imports once: the declarations are checked with
    jsonschema-rs (the Python library only explains a refusal), vendor requests skip Starlette's app, and
    the drifts wait for a test that switches one on."""
    result = subprocess.run(
        [sys.executable, "-c", FIRST_USE], cwd=ROOT, capture_output=True, text=True, timeout=60, check=True
    )
    status, *loaded = result.stdout.split()
    assert status == "200"
    assert "mockserver.engine.emulator" in loaded
    heavy = ("jsonschema", "referencing", "starlette.applications", "mockserver.serving", "mockserver.drifts")
    assert [name for name in loaded if name in heavy or name.startswith(tuple(h + "." for h in heavy))] == []


def test_a_test_that_uses_no_fixture_pays_for_one_of_the_plugins(tmp_path: Path) -> None:
    """Each autouse fixture is set up and torn down for every test of every session: the plugin has one."""
    plain = {"test_plain.py": "def test_plain():\n    pass\n"}
    result = run_pytest(tmp_path, plain, "--setup-plan", env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    used = [line for line in result.stdout.splitlines() if "fixtures used:" in line]
    assert len(used) == 1
    assert [
        name for name in used[0].split("fixtures used: ")[1].rstrip(")").split(", ") if "vendor" in name
    ] == ["_vendor_drift_case"]


def test_the_plugin_finds_the_vendors_where_the_engine_does() -> None:
    assert plugin.SCHEMAS_DIR == DEFAULT_SCHEMAS_DIR


def test_the_vendor_fixtures_follow_the_declared_folders(tmp_path: Path) -> None:
    for folder in ("acme", "zeta", "_shared"):
        (tmp_path / folder).mkdir()
    (tmp_path / "acme" / "openapi.json").write_text("not read", encoding="utf-8")
    (tmp_path / "zeta" / "openapi.json").write_text("not read", encoding="utf-8")
    holder = plugin.vendor_fixtures(tmp_path)
    assert sorted(name for name in vars(holder) if name.endswith("_mock")) == ["acme_mock", "zeta_mock"]


@pytest.mark.parametrize("vendor_id", discover_vendors(DEFAULT_SCHEMAS_DIR))
def test_every_declared_vendor_has_its_fixture(vendor_id: str, request: pytest.FixtureRequest) -> None:
    vendor = request.getfixturevalue(f"{vendor_id}_mock")
    assert vendor.id == vendor_id
    answer = httpx.get(vendor.base_url + vendor.spec.endpoints[0].path, headers=vendor.headers)
    assert answer.status_code == 200
    vendor.assert_called(times=1)


# Run in this order in one session: the first test changes every kind of state a test can change, the
# next ones must see none of it (the emulator and its interception are shared by the whole session).
SESSION = textwrap.dedent(
    """
    import aiohttp
    import asyncio
    import httpcore
    import httpx
    import pytest
    import requests
    import socket

    CONTACTSHIP = "https://api.contactship.ai/v1/phone-numbers"
    BUTTER = "https://api.getbutter.ai/api/phone-numbers"
    FAMULOR = "https://app.famulor.de/api/user/phone-numbers/all"
    ORIGINAL = {
        "getaddrinfo": socket.getaddrinfo,
        "connect": socket.socket.connect,
        "send": requests.adapters.HTTPAdapter.send,
        "aiohttp": aiohttp.ClientSession._request,
        "httpx": httpcore.ConnectionPool.handle_request,
    }
    FIRST = {}


    def state(vendors):
        return {
            vendor: {
                "records": {name: mock.records(name) for name in mock.spec.datasets},
                "tenants": mock.app.tenancy.registered_tenants(),
                "faults": mock.app.faults.rules(),
                "rate_limits": mock.app.tenancy.rate_limits,
                "writes": mock.app.writes.exported(),
            }
            for vendor, mock in ((vendor, vendors[vendor]) for vendor in vendors.emulator.vendors)
        }


    def test_1_changes_every_kind_of_state(vendor_mocks):
        FIRST.update(state(vendor_mocks))
        butter, shop, famulor = vendor_mocks.butter, vendor_mocks.contactship, vendor_mocks.famulor
        butter.seed([{"status": "free"}])
        butter.register_key("bk_extra", "org_extra")
        butter.seed([{"status": "free"}] * 2, tenant="org_extra")
        assert shop.revoke("contactship-test-key")
        shop.register_key("ck_other")
        famulor.fail(503, times=5)
        famulor.slow(0.01, path="/nowhere")
        famulor.rate_limits()
        famulor.advance(days=40)
        famulor.switch("payment_failed")
        assert httpx.get(CONTACTSHIP, headers={"x-api-key": "contactship-test-key"}).status_code == 401
        assert httpx.get(FAMULOR, headers=famulor.headers).status_code == 503
        assert requests.get(BUTTER, headers=butter.headers, timeout=5).status_code == 200
        assert len(vendor_mocks.calls) == 3
        assert state(vendor_mocks) != FIRST


    def test_2_sees_none_of_it(vendor_mocks):
        assert state(vendor_mocks) == FIRST
        assert vendor_mocks.calls == []
        assert httpx.get(CONTACTSHIP, headers=vendor_mocks.contactship.headers).status_code == 200
        assert httpx.get(FAMULOR, headers=vendor_mocks.famulor.headers).status_code == 200
        extra = {"X-API-Key": "bk_extra", "X-Organization-Id": "org_extra"}
        assert httpx.get(BUTTER, headers=extra).status_code == 401
        assert httpx.get(CONTACTSHIP, headers={"x-api-key": "ck_other"}).status_code == 401


    def test_3_routes_only_the_vendor_it_asks_for(contactship_mock):
        assert httpx.get(CONTACTSHIP, headers=contactship_mock.headers).status_code == 200
        with pytest.raises(httpx.ConnectError):
            httpx.get(BUTTER)
        with pytest.raises(requests.ConnectionError):
            requests.get(BUTTER, timeout=5)

        async def aiohttp_get():
            async with aiohttp.ClientSession() as session:
                await session.get(BUTTER)

        with pytest.raises(aiohttp.ClientConnectionError):
            asyncio.run(aiohttp_get())
        contactship_mock.assert_called(times=1)


    def test_4_without_a_fixture_every_client_is_as_before():
        assert socket.getaddrinfo is ORIGINAL["getaddrinfo"]
        assert socket.socket.connect is ORIGINAL["connect"]
        assert requests.adapters.HTTPAdapter.send is ORIGINAL["send"]
        assert aiohttp.ClientSession._request is ORIGINAL["aiohttp"]
        assert httpcore.ConnectionPool.handle_request is ORIGINAL["httpx"]


    def test_5_again_from_the_fixtures(vendor_mocks):
        assert state(vendor_mocks) == FIRST
        assert vendor_mocks.calls == []
    """
)


def test_no_state_and_no_route_passes_from_one_test_to_the_next(tmp_path: Path) -> None:
    """The session's emulator and interception are reused: each test still starts from nothing."""
    result = run_pytest(tmp_path, {"test_session.py": SESSION})
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "5 passed" in result.stdout


# One kind of state changed per test, by what changes nothing else (no request where a control will do),
# each followed by a test that must find the vendors as seeded: a reset that skipped a vendor it took for
# untouched, or a step it took for done, fails on the kind it missed. The first test notes the seeded
# state; each "change" test checks that its change took.
ONE_KIND_AT_A_TIME = textwrap.dedent(
    """
    import httpx
    import pytest

    from mockserver.kinds.auth import DEFAULT_TENANT

    FAMULOR = "https://app.famulor.de/api/user/phone-numbers"
    LISTS = {
        "butter": "https://api.getbutter.ai/api/phone-numbers",
        "contactship": "https://api.contactship.ai/v1/phone-numbers",
        "famulor": FAMULOR + "/all",
        "mindhunters": "https://api.mindhunters.ai/api/v1/phone-numbers",
    }
    SEEDED = {}


    def held(vendors):  # what the vendors hold, read without changing anything
        taken = {
            vendor: {
                "records": {name: mock.records(name) for name in mock.spec.datasets},
                "keys": mock.app.tenancy.authenticator.snapshot(),
                "tenants": mock.app.tenancy.registered_tenants(),
                "faults": mock.app.faults.rules(),
                "rate_limits": mock.app.tenancy.rate_limits,
                "writes": mock.app.writes.exported(),
            }
            for vendor, mock in ((vendor, vendors[vendor]) for vendor in vendors.emulator.vendors)
        }
        taken["journal"] = vendors.calls
        return taken


    # What a client sees (this makes requests): each list, the answer cache included, and how many
    # requests Famulor's rate-limit windows have left.
    def seen(vendors):
        answers = {name: httpx.get(url, headers=vendors[name].headers).content for name, url in LISTS.items()}
        vendors.famulor.rate_limits()
        limited = httpx.get(LISTS["famulor"], headers=vendors.famulor.headers)
        return answers, limited.headers.get("x-ratelimit-remaining")


    def purchase(famulor):
        offer = httpx.get(FAMULOR + "/search?country_code=GB", headers=famulor.headers).json()["data"][0]
        bought = httpx.post(
            FAMULOR + "/purchase", headers=famulor.headers, json={"phone_number": offer["phone_number"]}
        )
        assert bought.status_code == 201, bought.text


    def counted(famulor):
        tenant = famulor.spec.auth.test_credentials[0].tenant or DEFAULT_TENANT
        first = [famulor.app.limiter.check(tenant).remaining for _ in range(3)]
        assert first[0] > first[-1]  # the windows count (no request made: nothing journaled)


    CHANGES = {
        "journal": lambda v: httpx.get(LISTS["mindhunters"], headers=v.mindhunters.headers),
        "records": lambda v: v.butter.seed([{"status": "free"}]),
        "tenant records": lambda v: (
            v.butter.register_key("bk_extra", "org_extra"), v.butter.seed([{}] * 2, tenant="org_extra")
        ),
        "key registered": lambda v: v.contactship.register_key("ck_other"),
        "key revoked": lambda v: v.contactship.revoke("contactship-test-key"),
        "fault": lambda v: v.famulor.fail(503, times=5),
        "slow": lambda v: v.mindhunters.slow(0.01, path="/nowhere"),
        "drift": lambda v: v.butter.drift("field.renamed", to="msisdn"),
        "rate limits on": lambda v: v.famulor.rate_limits(),
        "rate-limit windows": lambda v: counted(v.famulor),
        "clock": lambda v: v.famulor.advance(days=40),
        "switch": lambda v: v.famulor.switch("payment_failed"),
        "purchase": lambda v: purchase(v.famulor),
    }


    def test_0_seeded(vendor_mocks):
        SEEDED["held"] = held(vendor_mocks)
        SEEDED["seen"] = seen(vendor_mocks)


    @pytest.mark.parametrize(
        "kind, phase", [(kind, phase) for kind in CHANGES for phase in ("change", "next test")]
    )
    def test_1_one_kind(vendor_mocks, kind, phase):
        if phase == "change":
            assert held(vendor_mocks) == SEEDED["held"]
            CHANGES[kind](vendor_mocks)
            assert kind == "rate-limit windows" or held(vendor_mocks) != SEEDED["held"]
        else:
            assert held(vendor_mocks) == SEEDED["held"], kind
            assert seen(vendor_mocks) == SEEDED["seen"], kind
    """
)


def test_each_kind_of_state_changed_alone_is_undone_before_the_next_test(tmp_path: Path) -> None:
    """A reset leaves what it takes for untouched as it is: each kind of change, alone, is still undone."""
    result = run_pytest(tmp_path, {"test_kinds.py": ONE_KIND_AT_A_TIME})
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "27 passed" in result.stdout


OTHER_HOSTS = textwrap.dedent(
    """
    import pytest

    SEEN = []


    def test_1_the_ini_value(contactship_mock, _vendor_routing):
        SEEN.append(_vendor_routing)
        assert _vendor_routing.other_hosts == "allow"


    @pytest.mark.mock_vendors("contactship", other_hosts="refuse")
    def test_2_the_marker_wins(_vendor_routing):
        assert _vendor_routing.other_hosts == "refuse"


    @pytest.mark.mock_vendors(other_hosts="allow")
    def test_3_the_same_value_the_same_mock(_vendor_routing):
        assert _vendor_routing is SEEN[0]


    def test_4_the_ini_value_again(contactship_mock, _vendor_routing):
        assert _vendor_routing is SEEN[0]


    @pytest.mark.mock_vendors(other_hosts="Allow")
    def test_5_a_bad_value(_vendor_routing):
        pass
    """
)


def test_other_hosts_come_from_the_marker_else_the_ini_file_one_mock_per_value(tmp_path: Path) -> None:
    """The ini file's other_hosts (read once per session) unless the test's marker says otherwise."""
    result = run_pytest(
        tmp_path, {"test_other_hosts.py": OTHER_HOSTS}, "-o", "vendor_emulator_other_hosts=allow"
    )
    assert "4 passed, 1 error" in result.stdout, result.stdout[-4000:]
    assert "other_hosts must be 'refuse' or 'allow', got 'Allow'" in result.stdout
