"""The sample consumer's tests: a naive and a careful client of each vendor list the numbers seeded.

Both pass against today's vendors. ``pytest tests/consumer/test_clients.py --vendor-drift=all`` rehearses
them against tomorrow's (docs/drifts.md, "How to read the matrix"); tests/system/test_drift_rehearsal.py
checks that the matrix tells the two clients apart.
"""

from __future__ import annotations

from datetime import datetime
from types import ModuleType

import httpx
import pytest

from mockserver.testing import VendorMock
from tests.consumer import careful, naive
from tests.consumer.model import Number

CLIENTS = pytest.mark.parametrize("client", [naive, careful], ids=["naive", "careful"])


def no_sleep(seconds: float) -> None:
    """Retries in these tests do not wait for real."""


def listed(client: ModuleType, call: str, *args: object) -> list[Number]:
    extra = {"sleep": no_sleep} if client is careful else {}
    with httpx.Client() as http:
        found: list[Number] = getattr(client, call)(http, *args, **extra)
    return found


def assert_lists(found: list[Number], expected: set[str]) -> None:
    """Every number seeded, each once, in E.164, with an aware creation time (any kind: a new one is news,
    not an error)."""
    assert sorted(number.number for number in found) == sorted(expected)
    assert all(isinstance(number.created, datetime) and number.created.tzinfo for number in found)


@CLIENTS
def test_famulor(client: ModuleType, famulor_mock: VendorMock) -> None:
    numbers = {f"+4930123456{i}" for i in range(3)}
    famulor_mock.seed([{"phone_number": number} for number in numbers], dataset="phone-numbers")
    assert_lists(listed(client, "famulor_numbers", "famulor-test-key"), numbers)


@CLIENTS
def test_butter(client: ModuleType, butter_mock: VendorMock) -> None:
    free = {f"+1555010000{i}" for i in range(4)}
    butter_mock.seed(
        [{"phone_number": n, "status": "free", "provider": "twilio"} for n in free]
        + [{"phone_number": f"+1555020000{i}", "status": "assigned"} for i in range(2)]
    )
    assert_lists(listed(client, "butter_numbers", butter_mock.headers, "free"), free)


@CLIENTS
def test_contactship(client: ModuleType, contactship_mock: VendorMock) -> None:
    numbers = {f"+1415555000{i}" for i in range(4)}
    contactship_mock.seed([{"phone_number": n, "type": "inbound"} for n in numbers])
    assert_lists(listed(client, "contactship_numbers", "contactship-test-key"), numbers)


@CLIENTS
def test_mindhunters(client: ModuleType, mindhunters_mock: VendorMock) -> None:
    active = {f"+1212555000{i}" for i in range(4)}
    mindhunters_mock.seed(
        [{"number": n, "status": "active", "type": "local", "is_external": False} for n in active]
        + [{"number": f"+1212666000{i}", "status": "inactive", "is_external": False} for i in range(2)]
    )
    token = "mindhunters-test-token"
    assert_lists(listed(client, "mindhunters_numbers", token, "active"), active)


def test_the_careful_client_retries_a_429_as_long_as_retry_after_says(butter_mock: VendorMock) -> None:
    butter_mock.seed([{"phone_number": "+15550100000", "status": "free"}])
    butter_mock.drift("transport.burst", status=429, retry_after=2, times=2)
    waits: list[float] = []
    with httpx.Client() as http:
        found = careful.butter_numbers(http, butter_mock.headers, "free", sleep=waits.append)
    assert [number.number for number in found] == ["+15550100000"]
    assert waits == [2.0, 2.0]


def test_the_careful_client_stops_when_a_page_brings_nothing_new(butter_mock: VendorMock) -> None:
    butter_mock.seed([{"phone_number": f"+1555010000{i}", "status": "free"} for i in range(5)])
    butter_mock.drift("paging.cursor-ignored")
    with httpx.Client() as http:
        found = careful.butter_numbers(http, butter_mock.headers, "free", sleep=no_sleep)
    assert len(found) == 3  # the first page, once: the repeated page ends the walk
    assert len(butter_mock.calls()) == 2
