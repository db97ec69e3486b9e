"""Famulor's number lifecycle over HTTP against real ``serve`` processes: one process, two workers sharing a
real Redis on loopback, and a restart with ``--state-dir``.

Each test works for a tenant of its own (a key registered for it), so one server serves the whole module.
With ``--workers 2`` every request is a fresh connection and the kernel hands it to either worker: each
step is checked several times, so that whichever worker answers has seen it.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import ROOT, wait_until_serving
from tests.system.test_shared_state import REDIS, Redis

API = "/famulor/api/user/phone-numbers"
NOT_AVAILABLE = "This phone number is not available for purchase. Please search for available numbers first."
IN_USE = "This phone number is already in use."
RELEASED = "Phone number released successfully. It will be removed at the end of the billing period."
SCHEDULED = {"error": "Phone number is already scheduled for release."}
ASKS = 6  # requests per step on two workers: each lands on either


@contextmanager
def serving(*options: str) -> Iterator[str]:
    """``python -m mockserver serve --port 0 OPTIONS``: its base URL (lines before the banner skipped)."""
    process = subprocess.Popen(
        [sys.executable, "-m", "mockserver", "serve", "--port", "0", "--log-format", "off", *options],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip
    assert process.stdout is not None
    try:
        lines = [process.stdout.readline() for _ in range(2)]  # "restored ..." comes first, if anything
        match = re.search(r" on (http://127\.0\.0\.1:\d+)", "".join(lines))
        assert match, f"no banner: {lines}"
        wait_until_serving(match.group(1))
        yield match.group(1)
    finally:
        process.terminate()
        process.communicate(timeout=15)


@pytest.fixture(scope="module")
def single() -> Iterator[str]:
    with serving() as base:
        yield base


@pytest.fixture(scope="module")
def redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Redis]:
    if REDIS is None:
        pytest.skip("redis-server not found (make test installs it)")
    server = Redis(tmp_path_factory.mktemp("redis"))
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def workers(redis: Redis) -> Iterator[str]:
    with serving("--workers", "2", "--state", redis.url) as base:
        yield base


class Tenant:
    """A fresh Famulor tenant on a server: its key's headers, and calls each on a fresh connection."""

    def __init__(self, base: str) -> None:
        self.base = base
        key = f"famulor-{uuid.uuid4().hex}"
        registered = httpx.post(f"{base}/__mock__/famulor/keys", json={"key": key})
        assert registered.status_code == 201, registered.text
        self.name = registered.json()["tenant"]
        self.headers = {"Authorization": f"Bearer {key}"}

    def call(self, method: str, path: str = "", body: Any = None) -> tuple[int, Any]:
        response = httpx.request(method, f"{self.base}{API}{path}", json=body, headers=self.headers)
        return response.status_code, response.json()

    def listed(self) -> dict[int, dict[str, Any]]:
        status, body = self.call("GET", "/all")
        assert status == 200, body
        return {item["id"]: item for item in body["data"]}

    def offered(self, country: str = "GB") -> list[str]:
        status, body = self.call("GET", f"/search?country_code={country}")
        assert status == 200, body
        return [item["phone_number"] for item in body["data"]]

    def advance(self, days: float) -> float:
        response = httpx.post(  # the tenant's own key acts on its clock
            f"{self.base}/__mock__/famulor/clock",
            json={"days": days, "tenant": self.name},
            headers=self.headers,
        )
        assert response.status_code == 200, response.text
        return float(response.json()["now"])


def lifecycle(base: str, asks: int) -> None:
    """search, purchase, listed, nickname, release scheduled, still listed, period ends, gone."""
    tenant = Tenant(base)
    number = tenant.offered()[0]
    status, bought = tenant.call("POST", "/purchase", {"phone_number": number})
    assert status == 201, bought
    number_id = bought["data"]["id"]
    for _ in range(asks):
        assert tenant.listed()[number_id]["phone_number"] == number
        assert number not in tenant.offered(), "a bought number is no longer offered"
        assert tenant.call("POST", "/purchase", {"phone_number": number}) == (400, {"error": IN_USE})

    status, renamed = tenant.call("PUT", f"/{number_id}", {"nickname": "Sales line"})
    assert (status, renamed["data"]["nickname"]) == (200, "Sales line")
    for _ in range(asks):
        assert tenant.listed()[number_id]["nickname"] == "Sales line"

    assert tenant.call("DELETE", f"/{number_id}") == (200, {"message": RELEASED})
    for _ in range(asks):
        assert tenant.listed()[number_id]["has_active_subscription"] is False, "kept to the period's end"
        assert tenant.call("DELETE", f"/{number_id}") == (400, SCHEDULED)

    tenant.advance(31)
    for _ in range(asks):
        assert number_id not in tenant.listed()
        assert number in tenant.offered(), "offered again once released"


def purchase_at_once(base: str) -> None:
    """Two purchases of one number at the same moment: one 201, one 400 (in use), the number listed once."""
    tenant = Tenant(base)
    number = tenant.offered()[1]
    start = threading.Barrier(2)
    answers: list[tuple[int, Any]] = []

    def buy() -> None:
        start.wait()
        answers.append(tenant.call("POST", "/purchase", {"phone_number": number}))

    threads = [threading.Thread(target=buy) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(status for status, _ in answers) == [201, 400], answers
    assert [body for status, body in answers if status == 400] == [{"error": IN_USE}]
    for _ in range(ASKS):
        assert [item["phone_number"] for item in tenant.listed().values()].count(number) == 1


def test_one_process_serves_the_lifecycle(single: str) -> None:
    lifecycle(single, asks=1)


def test_one_process_sells_a_number_once_when_two_buy_it_at_once(single: str) -> None:
    purchase_at_once(single)


def test_two_workers_sharing_redis_serve_every_step_of_the_lifecycle(workers: str) -> None:
    lifecycle(workers, asks=ASKS)


def test_two_workers_sharing_redis_sell_a_number_once_when_two_buy_it_at_once(workers: str) -> None:
    for _ in range(3):  # each round, the kernel picks the two workers anew
        purchase_at_once(workers)


def test_a_restart_with_state_dir_keeps_the_purchase_its_nickname_the_scheduled_release_and_the_clock(
    tmp_path: Path,
) -> None:
    with serving("--state-dir", str(tmp_path)) as base:
        tenant = Tenant(base)
        ahead = tenant.advance(10) - time.time()  # the last admin write: the vendor writes below save too
        number = tenant.offered()[0]
        status, bought = tenant.call("POST", "/purchase", {"phone_number": number})
        assert status == 201, bought
        number_id = bought["data"]["id"]
        assert tenant.call("PUT", f"/{number_id}", {"nickname": "Support"})[0] == 200
        assert tenant.call("DELETE", f"/{number_id}") == (200, {"message": RELEASED})
    assert 10 * 86_400 - 60 < ahead < 10 * 86_400 + 60

    with serving("--state-dir", str(tmp_path)) as base:
        tenant.base = base  # the key was saved (as its digest) with the rest
        assert abs(tenant.advance(0) - time.time() - ahead) < 60, "the clock's offset was kept"
        kept = tenant.listed()[number_id]
        assert (kept["phone_number"], kept["nickname"], kept["has_active_subscription"]) == (
            number, "Support", False,
        )  # fmt: skip
        assert tenant.call("DELETE", f"/{number_id}") == (400, SCHEDULED), "the release is still scheduled"
        assert number not in tenant.offered()
        tenant.advance(29)  # the 30-day period from the purchase has a day to run
        assert number_id in tenant.listed()
        tenant.advance(2)
        assert number_id not in tenant.listed()


def test_workers_that_do_not_share_state_refuse_the_writes_but_still_search() -> None:
    """``--workers 2 --state memory``: a purchase on one worker would be unknown to the other, so writes
    answer the vendor's 503 (saying why in a header) and nothing is bought; the search still answers."""
    headers = {"Authorization": "Bearer famulor-test-key"}
    with serving("--workers", "2", "--state", "memory") as base:
        offered = httpx.get(f"{base}{API}/search", headers=headers)
        assert offered.status_code == 200
        number = offered.json()["data"][0]["phone_number"]
        for _ in range(ASKS):
            refused = httpx.post(f"{base}{API}/purchase", json={"phone_number": number}, headers=headers)
            assert refused.status_code == 503
            assert refused.headers["x-emulator-refused"].startswith("state_not_shared")
            assert refused.json() == {"message": "Service Unavailable"}
        listed = httpx.get(f"{base}{API}/all", headers=headers).json()["data"]
        assert number not in [item["phone_number"] for item in listed]
