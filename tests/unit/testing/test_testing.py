"""mockserver.testing as a library: context manager, decorator, seeding from files, other hosts."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mockserver import EmulatorConfig
from mockserver.state.records import InvalidRecord
from mockserver.testing import CallsAssertionError, EmulatorMock, mock_vendors

CONTACTSHIP = "https://api.contactship.ai/v1/phone-numbers"
KEY = {"x-api-key": "contactship-test-key"}


def test_other_hosts_pass_through_when_allowed(local_server: str) -> None:
    with mock_vendors("contactship", other_hosts="allow"):
        assert httpx.get(local_server).text == "hello"
        assert httpx.get(CONTACTSHIP, headers=KEY).status_code == 200


def test_the_decorator_form_mocks_for_the_duration_of_the_call() -> None:
    @mock_vendors("contactship")
    def fetch() -> int:
        return httpx.get(CONTACTSHIP, headers=KEY).status_code

    assert fetch() == 200


def test_seeding_from_a_fixture_file(tmp_path: Path) -> None:
    path = tmp_path / "numbers.json"
    path.write_text(json.dumps({"records": [{"type": "outbound"}, {"type": "inbound"}]}))
    with mock_vendors("contactship") as vendors:
        stored = vendors.contactship.seed(path)
        assert [record["type"] for record in stored] == ["outbound", "inbound"]
        assert httpx.get(CONTACTSHIP, headers=KEY).json()["count"] == 2


def test_an_invalid_seed_names_the_field_and_rule_and_changes_nothing() -> None:
    with mock_vendors("butter") as vendors:
        before = vendors.butter.records()
        with pytest.raises(
            InvalidRecord, match=r"record 1: /provider: 'vonage' is not one of \['twilio', 'sip'\]"
        ):
            vendors.butter.seed([{"status": "free"}, {"provider": "vonage"}])
        assert vendors.butter.records() == before


def test_extend_keeps_the_fixtures_and_adds_fresh_keys() -> None:
    with mock_vendors("famulor") as vendors:
        added = vendors.famulor.seed([{"type": "sip"}], dataset="phone-numbers", mode="extend")
        assert len(added) == 31
        assert added[-1]["id"] == 31


def test_a_failed_call_assertion_lists_what_was_received() -> None:
    with mock_vendors("contactship") as vendors:
        httpx.get(CONTACTSHIP, params={"type": "inbound"}, headers=KEY)
        with pytest.raises(
            CallsAssertionError, match=r"received \['GET /v1/phone-numbers\?type=inbound -> 200'\]"
        ):
            vendors.contactship.assert_called(type="outbound")


def test_unknown_vendors_are_named() -> None:
    with pytest.raises(KeyError, match="known"):
        EmulatorMock()["twilio"]


def test_an_empty_seed_serves_no_records() -> None:
    with mock_vendors("contactship") as vendors:
        assert vendors.contactship.seed([]) == []
        assert httpx.get(CONTACTSHIP, headers=KEY).json() == {"data": [], "count": 0}


def test_records_handed_in_or_out_cannot_change_what_is_served() -> None:
    with mock_vendors("mindhunters") as vendors:
        mine: dict[str, Any] = {"country_code": "NL", "billing": {"monthly_fee": 2.5}}
        vendors.mindhunters.seed([mine])
        mine["billing"]["monthly_fee"] = -1
        vendors.mindhunters.records()[0]["billing"]["monthly_fee"] = -2
        served = httpx.get(
            "https://x.mindhunters.ai/api/v1/phone-numbers", headers=vendors.mindhunters.headers
        )
        assert served.json()["data"]["items"][0]["billing"]["monthly_fee"] == 2.5
        vendors.mindhunters.reset()
        assert all(r["billing"]["monthly_fee"] >= 0 for r in vendors.mindhunters.records())


def test_the_decorator_works_on_async_functions() -> None:
    import asyncio

    @mock_vendors("contactship")
    async def fetch() -> int:
        async with httpx.AsyncClient() as client:
            return (await client.get(CONTACTSHIP, headers=KEY)).status_code

    assert asyncio.run(fetch()) == 200


def test_a_decorated_function_starts_from_the_fixtures_every_call() -> None:
    mock = mock_vendors("contactship")

    @mock
    def seed_and_count() -> int:
        count = len(mock.contactship.records())
        mock.contactship.seed([{"type": "inbound"}])
        return count

    assert [seed_and_count(), seed_and_count()] == [24, 24]


def test_a_failed_start_leaves_httpx_unpatched(local_server: str) -> None:
    with pytest.raises(KeyError), mock_vendors("twilio"):
        pass
    assert httpx.get(local_server).text == "hello"


def test_a_mock_cannot_be_entered_twice() -> None:
    mock = mock_vendors("contactship")
    with mock, pytest.raises(RuntimeError, match="already active"), mock:
        pass


def test_other_hosts_must_be_refuse_or_allow() -> None:
    with pytest.raises(ValueError, match="other_hosts"):
        mock_vendors(other_hosts="Allow")  # type: ignore[arg-type]


def test_reset_switches_rate_limits_off_again() -> None:
    with mock_vendors("famulor") as vendors:
        vendors.famulor.rate_limits()
        vendors.famulor.reset()
        statuses = {
            httpx.get(
                "https://app.famulor.de/api/user/phone-numbers/all", headers=vendors.famulor.headers
            ).status_code
            for _ in range(25)
        }
        assert statuses == {200}


def test_concurrent_extends_lose_nothing() -> None:
    with mock_vendors("contactship") as vendors:
        vendors.contactship.seed([])

        def extend() -> None:
            for _ in range(20):
                vendors.contactship.seed([{"type": "inbound"}], mode="extend")

        threads = [threading.Thread(target=extend) for _ in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len(vendors.contactship.records()) == 120


def test_a_busy_tenant_never_evicts_another_tenants_journal() -> None:
    with mock_vendors("contactship", config=EmulatorConfig(journal_size=10)) as vendors:
        vendors.contactship.register_key("ck_other", "other")
        httpx.get(CONTACTSHIP, headers=KEY)
        for _ in range(30):
            httpx.get(CONTACTSHIP, headers={"x-api-key": "ck_other"})
        assert len(vendors.contactship.calls(tenant="default")) == 1
        assert len(vendors.contactship.calls(tenant="other")) == 10


def test_a_delay_beyond_the_clients_timeout_is_a_read_timeout() -> None:
    with mock_vendors("contactship") as vendors:
        vendors.contactship.slow(5)
        with pytest.raises(httpx.ReadTimeout):
            httpx.get(CONTACTSHIP, headers=KEY, timeout=0.05)


def test_a_delay_in_prefer_does_not_hide_a_planned_failure() -> None:
    with mock_vendors("contactship") as vendors:
        vendors.contactship.fail(503, times=1)
        response = httpx.get(CONTACTSHIP, headers={**KEY, "Prefer": "delay=10"})
        assert response.status_code == 503


def test_secrets_in_query_parameters_are_redacted_and_booleans_match() -> None:
    with mock_vendors("mindhunters") as vendors:
        url = "https://x.mindhunters.ai/api/v1/phone-numbers"
        httpx.get(
            url, params={"api_key": "s3cr3t", "include_external": True}, headers=vendors.mindhunters.headers
        )
        call = vendors.mindhunters.last_call
        assert call.param("api_key") == "[redacted]"
        assert vendors.mindhunters.calls(include_external=True) == [call]


def test_keys_must_be_usable() -> None:
    with mock_vendors("contactship") as vendors, pytest.raises(ValueError, match="non-empty"):
        vendors.contactship.register_key(" padded ")


def test_concurrent_seeding_and_reading_never_show_a_half_written_state() -> None:
    """Readers see either batch A (5 free numbers) or batch B (7 assigned), never a mix; invalid batches,
    seeded in between, change nothing."""
    with mock_vendors("butter") as vendors:
        butter = vendors.butter
        stop = threading.Event()
        seen: set[tuple[int, frozenset[str]]] = set()
        failures: list[str] = []

        def seed() -> None:
            while not stop.is_set():
                butter.seed([{"status": "free"}] * 5)
                with pytest.raises(InvalidRecord):
                    butter.seed([{"status": "assigned"}] * 6 + [{"provider": "nope"}])
                butter.seed([{"status": "assigned"}] * 7)

        def read() -> None:
            with httpx.Client() as client:
                while not stop.is_set():
                    body = client.get(
                        "https://api.getbutter.ai/api/phone-numbers", headers=butter.headers
                    ).json()
                    state = (
                        body["pagination"]["total_count"],
                        frozenset(item["status"] for item in body["data"]),
                    )
                    if state not in {
                        (5, frozenset({"free"})),
                        (7, frozenset({"assigned"})),
                        (62, frozenset({"free", "assigned"})),
                    }:
                        failures.append(repr(state))
                    seen.add(state)

        threads = [threading.Thread(target=seed), *(threading.Thread(target=read) for _ in range(3))]
        for thread in threads:
            thread.start()
        threading.Event().wait(2)
        stop.set()
        for thread in threads:
            thread.join()
        assert failures == []
        assert {(5, frozenset({"free"})), (7, frozenset({"assigned"}))} <= seen


@settings(max_examples=25, deadline=None)
@given(
    sizes=st.lists(st.integers(0, 6), min_size=2, max_size=5),
    failing=st.integers(0, 4),
    order=st.permutations(range(5)),
)
def test_no_tenant_ever_sees_another_tenants_records_calls_or_faults(
    sizes: list[int], failing: int, order: list[int]
) -> None:
    """Any number of tenants, any seeds, a fault on one of them, requests in any order, from threads."""
    with mock_vendors("contactship") as vendors:
        shop = vendors.contactship
        keys = {f"tenant-{n}": f"ck_key_{n}" for n in range(len(sizes))}
        for (tenant, key), size in zip(keys.items(), sizes, strict=True):
            shop.register_key(key, tenant)
            shop.seed([{"type": "inbound"}] * size, tenant=tenant)
        faulty = f"tenant-{failing % len(sizes)}"
        shop.fail(503, tenant=faulty)
        answers: dict[str, tuple[int, int]] = {}

        def ask(tenant: str) -> None:
            response = httpx.get(CONTACTSHIP, params={"limit": 100}, headers={"x-api-key": keys[tenant]})
            answers[tenant] = (response.status_code, response.json().get("count", -1))

        tenants = [f"tenant-{n}" for n in order if n < len(sizes)]
        threads = [threading.Thread(target=ask, args=(tenant,)) for tenant in tenants]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        for tenant, size in zip(keys, sizes, strict=True):
            assert answers[tenant] == ((503, -1) if tenant == faulty else (200, size))
            assert {call.tenant for call in shop.calls(tenant=tenant)} == {tenant}
            assert len(shop.calls(tenant=tenant)) == 1


def test_clear_faults_ends_every_planned_failure_and_assert_not_called_sees_silence() -> None:
    with mock_vendors("contactship") as vendors:
        vendors.contactship.assert_not_called()
        vendors.contactship.fail(503)
        assert httpx.get(CONTACTSHIP, headers=KEY).status_code == 503
        vendors.contactship.clear_faults()
        assert httpx.get(CONTACTSHIP, headers=KEY).status_code == 200
        with pytest.raises(CallsAssertionError, match="received 2 request"):
            vendors.contactship.assert_not_called()
