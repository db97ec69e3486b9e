"""The sample consumer (tests/consumer) tested with the pytest plugin, as an integrating team would.

Nothing here starts a server: the plugin's fixtures route the vendors' real hosts to the emulator.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from mockserver.documents.reading import read_json
from mockserver.testing import EmulatorMock, VendorMock
from tests.consumer import inventory

FAMULOR_KEY = "famulor-test-key"
BUTTER = ("bk_test_butter", "org_test")


def no_sleep(seconds: float) -> None:
    """Retries in these tests must not wait for real."""


def test_famulor_sms_numbers_come_from_the_legacy_endpoint(famulor_mock: VendorMock) -> None:
    famulor_mock.seed(
        [{"sms_capable": True, "has_active_subscription": True}, {"sms_capable": False}],
        dataset="phone-numbers",
    )
    with httpx.Client() as client:
        numbers = inventory.famulor_sms_numbers(client, FAMULOR_KEY)
    assert len(numbers) == 1
    famulor_mock.assert_called(times=1, path="/api/user/phone-numbers")


def test_seeding_a_partial_record_gives_a_complete_valid_number(butter_mock: VendorMock) -> None:
    stored = butter_mock.seed([{"status": "free"}])
    assert stored[0]["status"] == "free"
    assert stored[0]["assigned_agent_id"] is None
    assert stored[0]["phone_number_id"].startswith("phon_")
    assert set(stored[0]) == set(butter_mock.records()[0])


def test_butter_walk_fetches_every_page_once(butter_mock: VendorMock) -> None:
    butter_mock.seed([{"status": "free"}] * 45)
    with httpx.Client() as client:
        numbers = inventory.butter_numbers(client, *BUTTER)
    assert len({n["phone_number_id"] for n in numbers}) == 45
    calls = butter_mock.assert_called(times=3, path="/api/phone-numbers")
    assert [call.param("cursor") is None for call in calls] == [True, False, False]


def test_butter_status_filter_is_sent_once(butter_mock: VendorMock) -> None:
    with httpx.Client() as client:
        assigned = inventory.butter_numbers(client, *BUTTER, status="assigned")
    assert {n["status"] for n in assigned} == {"assigned"}
    assert len(butter_mock.calls(status="assigned", cursor=None)) == 1


@pytest.mark.anyio
async def test_the_async_client_walks_the_same_pages(butter_mock: VendorMock) -> None:
    butter_mock.seed([{"status": "assigned"}] * 25)
    async with httpx.AsyncClient() as client:
        numbers = await inventory.butter_numbers_async(client, *BUTTER, status="assigned")
    assert len(numbers) == 25
    butter_mock.assert_called(times=2)


def test_contactship_walk_stops_on_a_short_page(contactship_mock: VendorMock) -> None:
    with httpx.Client() as client:
        inbound = inventory.contactship_numbers(client, "contactship-test-key", kind="inbound")
    expected = [r for r in contactship_mock.records() if r["type"] == "inbound"]
    assert sorted(n["id"] for n in inbound) == sorted(r["id"] for r in expected)
    assert len(contactship_mock.calls()) == len(expected) // 10 + 1


def test_mindhunters_works_for_any_workspace_subdomain(mindhunters_mock: VendorMock) -> None:
    with httpx.Client() as client:
        german = inventory.mindhunters_numbers(
            client, "acme-gmbh", "mindhunters-test-token", country_code="DE"
        )
    assert german
    assert {n["country_code"] for n in german} == {"DE"}
    assert mindhunters_mock.last_call.headers[0] == ("host", "acme-gmbh.mindhunters.ai")


def test_a_revoked_key_gets_the_vendors_401(famulor_mock: VendorMock) -> None:
    famulor_mock.revoke(FAMULOR_KEY)
    with httpx.Client() as client, pytest.raises(inventory.VendorError) as raised:
        inventory.famulor_sms_numbers(client, FAMULOR_KEY)
    assert raised.value.status == 401
    assert raised.value.body == {
        "error": "Invalid API key",
        "message": "The provided API key is invalid or expired",
    }


def test_a_429_with_retry_after_is_retried(famulor_mock: VendorMock) -> None:
    famulor_mock.fail(429, times=1)
    waited: list[float] = []
    with httpx.Client() as client:
        body = inventory.get(
            client, f"{inventory.FAMULOR}/api/user/phone-numbers/all",
            sleep=waited.append, headers={"Authorization": f"Bearer {FAMULOR_KEY}"},
        )  # fmt: skip
    assert body["data"]
    assert waited == [60.0]
    assert [call.status for call in famulor_mock.calls()] == [429, 200]


def test_the_429_carries_the_documented_body_and_rate_limit_headers(famulor_mock: VendorMock) -> None:
    famulor_mock.fail(429, times=1)
    response = httpx.get(f"{inventory.FAMULOR}/api/user/phone-numbers/all", headers=famulor_mock.headers)
    assert response.json() == {
        "error": "Rate limit exceeded",
        "message": "Too many requests. Please try again later.",
        "retry_after": 60,
    }
    assert response.headers["x-ratelimit-limit"] == "100"
    assert response.headers["x-ratelimit-remaining"] == "0"
    assert int(response.headers["x-ratelimit-reset"]) > time.time()


def test_persistent_5xx_exhausts_the_retries(contactship_mock: VendorMock) -> None:
    contactship_mock.fail(503)
    with httpx.Client() as client, pytest.raises(inventory.VendorError) as raised:
        inventory.get(
            client,
            f"{inventory.CONTACTSHIP}/v1/phone-numbers",
            sleep=no_sleep,
            headers=contactship_mock.headers,
        )
    assert raised.value.status == 503
    assert raised.value.body == {
        "statusCode": 503,
        "message": "Service Unavailable",
        "error": "Service Unavailable",
    }
    assert len(contactship_mock.calls()) == inventory.RETRIES


def test_the_next_n_requests_fail_then_it_recovers(butter_mock: VendorMock) -> None:
    butter_mock.fail(500, times=2, path="/api/phone-numbers")
    with httpx.Client() as client:
        numbers = inventory.butter_numbers(client, *BUTTER, status="free", sleep=no_sleep)
    assert numbers
    assert [call.status for call in butter_mock.calls()][:3] == [500, 500, 200]


def test_a_slow_vendor_is_slow_for_sync_and_async_clients(butter_mock: VendorMock) -> None:
    butter_mock.slow(0.2, times=2)
    started = time.perf_counter()
    httpx.get(f"{inventory.BUTTER}/api/phone-numbers", headers=butter_mock.headers)
    assert time.perf_counter() - started >= 0.2


def test_prefer_header_asks_for_one_fault(mindhunters_mock: VendorMock) -> None:
    url = "https://demo.mindhunters.ai/api/v1/phone-numbers"
    response = httpx.get(url, headers={**mindhunters_mock.headers, "Prefer": "code=500"})
    assert response.status_code == 500
    assert response.json()["error"]["code"] == "INTERNAL_SERVER_ERROR"
    assert httpx.get(url, headers=mindhunters_mock.headers).status_code == 200


def test_documented_rate_limits_can_be_switched_on(famulor_mock: VendorMock) -> None:
    """Famulor: 20 requests per 10 s (burst) and 100 per minute."""
    famulor_mock.rate_limits()
    statuses = [
        httpx.get(f"{inventory.FAMULOR}/api/user/phone-numbers/all", headers=famulor_mock.headers).status_code
        for _ in range(21)
    ]
    assert statuses == [200] * 20 + [429]


def test_hosts_that_are_not_mocked_are_refused(butter_mock: VendorMock) -> None:
    with pytest.raises(httpx.ConnectError, match="only the emulated vendors' hosts are answered"):
        httpx.get("https://api.contactship.ai/v1/phone-numbers")


def test_credentials_never_reach_the_journal(vendor_mocks: EmulatorMock) -> None:
    httpx.get(f"{inventory.BUTTER}/api/phone-numbers", headers=vendor_mocks.butter.headers)
    httpx.get(f"{inventory.FAMULOR}/api/user/phone-numbers/all", headers=vendor_mocks.famulor.headers)
    text = repr(vendor_mocks.calls)
    assert "bk_test_butter" not in text
    assert "famulor-test-key" not in text
    assert text.count("[redacted]") == 2


def test_tenants_with_their_own_keys_never_see_each_others_data(butter_mock: VendorMock) -> None:
    """Each registered key is a tenant: its own records, journal, faults and cursors."""
    tenants = {f"org_{n}": f"bk_test_{n}" for n in range(4)}
    for organization, key in tenants.items():
        butter_mock.register_key(key, organization)
        butter_mock.seed([{"status": "free"}] * (int(organization[-1]) + 1), tenant=organization)
    butter_mock.fail(503, tenant="org_0")
    seen: dict[str, Any] = {}

    def walk(organization: str) -> None:
        with httpx.Client() as client:
            try:
                seen[organization] = len(
                    inventory.butter_numbers(client, tenants[organization], organization, sleep=no_sleep)
                )
            except inventory.VendorError as error:
                seen[organization] = error.status

    threads = [threading.Thread(target=walk, args=(organization,)) for organization in tenants]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert seen == {"org_0": 503, "org_1": 2, "org_2": 3, "org_3": 4}
    assert {call.tenant for call in butter_mock.calls(tenant="org_2")} == {"org_2"}
    assert len(butter_mock.calls(tenant="org_3")) == 1


def test_each_test_starts_from_the_fixtures(butter_mock: VendorMock) -> None:
    """The plugin resets the emulator before every test: nothing above leaks into this one."""
    fixtures = read_json(Path(__file__).parents[2] / "fixtures" / "butter" / "phone-numbers.json")
    assert butter_mock.records() == fixtures["records"]
    assert butter_mock.calls() == []
