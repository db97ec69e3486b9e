"""The write operations keep their state like the rest of the emulator's: one purchase of a number wins,
every process mirrors a tenant's clock, switches and scheduled releases, a reset or a freed tenant drops
them, and each vendor write tells the emulator's ``changed`` listeners (``--state-dir`` saves then).

Two emulators in this process stand for two workers: a small backend links them the way Redis does (a
change is applied by the other before ``put`` returns; one lock for both).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import orjson
import pytest

from mockserver.engine.config import EmulatorConfig
from mockserver.engine.emulator import Emulator, build_emulator
from mockserver.engine.vendor_app import VendorApp
from mockserver.engine.writes import WriteStateLimitError, writes_part
from mockserver.state.backends import InMemory
from mockserver.state.backends.base import Applier
from mockserver.testing.mocks import mock_vendors

KEY = {"Authorization": "Bearer famulor-test-key"}
API = "/api/user/phone-numbers"
IN_USE = {"error": "This phone number is already in use."}


class Bus:
    """What the linked backends share: the appliers of every member, one lock, who is applying."""

    def __init__(self) -> None:
        self.appliers: dict[int, Applier] = {}
        self.lock = threading.RLock()
        self.local = threading.local()


class Linked(InMemory):
    """A shared backend in one process: what one emulator puts, the others apply at once."""

    shared = True

    def __init__(self, bus: Bus) -> None:
        self.bus = bus
        self.parts: list[str] = []

    def put(self, vendor: str, part: str, value: Any, *, wait: bool = True) -> None:
        if getattr(self.bus.local, "applying", False):
            return
        self.parts.append(part)
        loaded = orjson.loads(value) if isinstance(value, bytes) else value
        for member, applier in self.bus.appliers.items():
            if member != id(self):
                applier(vendor, part, loaded)

    @contextlib.contextmanager
    def _applying(self) -> Iterator[None]:
        before = getattr(self.bus.local, "applying", False)
        self.bus.local.applying = True
        try:
            yield
        finally:
            self.bus.local.applying = before

    def applying(self) -> contextlib.AbstractContextManager[None]:
        return self._applying()

    @contextlib.contextmanager
    def _exclusive(self) -> Iterator[None]:
        with self.bus.lock:
            yield

    def exclusive(self, vendor: str) -> contextlib.AbstractContextManager[None]:
        return self._exclusive()

    def start(self, applier: Applier, vendors: Any) -> None:
        self.bus.appliers[id(self)] = applier


@pytest.fixture
def pair(monkeypatch: pytest.MonkeyPatch) -> tuple[Emulator, Emulator]:
    bus = Bus()
    monkeypatch.setattr("mockserver.engine.emulator.open_state", lambda url: Linked(bus))
    config = EmulatorConfig(vendors=("famulor",))
    return build_emulator(config), build_emulator(config)


def call(app: VendorApp, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    """One request to a vendor app, as the ASGI server or the plugin hands it over."""
    path, _, query = path.partition("?")
    scope = {
        "type": "http", "method": method, "path": path, "raw_path": path.encode(), "root_path": "",
        "query_string": query.encode(), "headers": [(b"authorization", KEY["Authorization"].encode())],
    }  # fmt: skip
    reply = app.reply(scope, orjson.dumps(body) if body is not None else b"")
    return reply.status, orjson.loads(reply.body)


def listed(app: VendorApp) -> dict[int, dict[str, Any]]:
    status, body = call(app, "GET", f"{API}/all")
    assert status == 200
    return {item["id"]: item for item in body["data"]}


def offered(app: VendorApp) -> list[str]:
    return [item["phone_number"] for item in call(app, "GET", f"{API}/search?country_code=GB")[1]["data"]]


def test_of_eight_threads_buying_one_number_at_once_exactly_one_gets_it() -> None:
    with mock_vendors("famulor") as mock:
        number = httpx.get(
            "https://app.famulor.de/api/user/phone-numbers/search", headers=mock.famulor.headers
        ).json()["data"][0]["phone_number"]
        start = threading.Barrier(8)
        answers: list[tuple[int, Any]] = []

        def buy() -> None:
            start.wait()
            response = httpx.post(
                "https://app.famulor.de/api/user/phone-numbers/purchase",
                json={"phone_number": number},
                headers=mock.famulor.headers,
            )
            answers.append((response.status_code, response.json()))

        threads = [threading.Thread(target=buy) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert sorted(status for status, _ in answers) == [201] + [400] * 7
        assert [body for status, body in answers if status == 400] == [IN_USE] * 7
        held = [item["phone_number"] for item in mock.famulor.records("phone-numbers")]
        assert held.count(number) == 1


def test_a_second_process_sees_the_purchase_the_scheduled_release_the_clock_and_the_switches(
    pair: tuple[Emulator, Emulator],
) -> None:
    one, two = (emulator.apps["famulor"] for emulator in pair)
    number = offered(one)[0]
    status, bought = call(one, "POST", f"{API}/purchase", {"phone_number": number})
    assert status == 201
    number_id = bought["data"]["id"]
    assert listed(two)[number_id]["phone_number"] == number
    assert call(two, "POST", f"{API}/purchase", {"phone_number": number}) == (400, IN_USE)

    assert call(two, "DELETE", f"{API}/{number_id}")[0] == 200
    assert call(one, "DELETE", f"{API}/{number_id}") == (
        400, {"error": "Phone number is already scheduled for release."},
    )  # fmt: skip
    tenant = one.spec.auth.test_credentials[0].tenant or "default"
    one.writes.advance(tenant, days=10)
    assert abs(two.writes.now(tenant) - one.writes.now(tenant)) < 1, "the clock offset is shared"
    one.writes.advance(tenant, days=21)
    assert number_id not in listed(two), "released for every process when the period ended"

    one.writes.switch(tenant, "payment_failed")
    assert call(two, "POST", f"{API}/purchase", {"phone_number": offered(two)[0]})[0] == 402
    one.writes.switch(tenant, "payment_failed", on=False)
    assert call(two, "POST", f"{API}/purchase", {"phone_number": offered(two)[0]})[0] == 201


def test_a_reset_and_a_freed_tenant_drop_the_write_state_in_every_process(
    pair: tuple[Emulator, Emulator],
) -> None:
    one, two = (emulator.apps["famulor"] for emulator in pair)
    tenant = one.tenancy.register("famulor-other-key")
    one.writes.advance(tenant, days=3)
    one.writes.switch(tenant, "payment_failed")
    assert two.writes.state(tenant).offset == 3 * 86_400
    assert two.writes.state(tenant).switches == {"payment_failed": True}
    assert one.tenancy.revoke("famulor-other-key")
    assert two.writes.state(tenant).empty
    assert one.writes.state(tenant).empty
    store = pair[0].shared
    assert isinstance(store, Linked)
    assert writes_part(tenant) in store.parts, "gone from the store too"

    default = one.spec.auth.test_credentials[0].tenant or "default"
    two.writes.advance(default, days=5)
    assert one.writes.now(default) > one.writes.wall() + 4 * 86_400
    pair[0].reset()
    assert one.writes.state(default).empty
    assert two.writes.state(default).empty


def test_each_successful_vendor_write_tells_the_changed_listeners_and_a_refused_one_does_not() -> None:
    emulator = build_emulator(EmulatorConfig(vendors=("famulor",)))
    app = emulator.apps["famulor"]
    told: list[int] = []
    emulator.changed.append(lambda: told.append(1))  # e.g. serve --state-dir's save, added after start
    number = offered(app)[0]
    assert call(app, "POST", f"{API}/purchase", {"phone_number": number})[0] == 201
    assert len(told) == 1
    assert call(app, "POST", f"{API}/purchase", {"phone_number": number}) == (400, IN_USE)
    assert call(app, "GET", f"{API}/all")[0] == 200
    assert len(told) == 1, "neither a refused write nor a read is a change"
    number_id = max(listed(app))
    assert call(app, "PUT", f"{API}/{number_id}", {"nickname": "Desk"})[0] == 200
    assert call(app, "DELETE", f"{API}/{number_id}")[0] == 200
    assert len(told) == 3


def test_the_write_state_survives_its_json_form() -> None:
    emulator = build_emulator(EmulatorConfig(vendors=("famulor",)))
    writes = emulator.apps["famulor"].writes
    writes.advance("t", days=2)
    writes.switch("t", "payment_failed")
    saved = orjson.loads(orjson.dumps(writes.exported()))
    again = build_emulator(EmulatorConfig(vendors=("famulor",))).apps["famulor"].writes
    again.restore(saved)
    assert again.state("t") == writes.state("t")


def test_the_write_state_is_kept_for_a_bounded_number_of_tenants() -> None:
    emulator = build_emulator(EmulatorConfig(vendors=("famulor",)))
    writes = emulator.apps["famulor"].writes
    writes.max_tenants = 2
    writes.advance("a", days=1)
    writes.switch("b", "payment_failed")
    with pytest.raises(WriteStateLimitError, match="--max-tenants"):
        writes.advance("c", days=1)
    assert writes.state("c").empty
    writes.advance("a", days=1)  # a tenant that holds one already may change it
    writes.switch("b", "payment_failed", on=False)  # back to nothing: its place is free again
    writes.advance("c", days=1)
