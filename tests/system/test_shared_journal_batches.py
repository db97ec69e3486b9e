"""The shared journal's batches, against a real Redis: one script call writes a whole batch (runs of
one vendor and tenant), and what Redis keeps is what the journal promises entry by entry: the order and
numbers of the process's requests across tenants, the last ``size`` per tenant, the byte counters, the
total budget (the largest tenant gives way) and the response bodies' own budget."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
import redis as redis_py

from mockserver.state.backends import redis_journal
from mockserver.state.backends.base import StateUnavailable
from mockserver.state.backends.redis_connection import RedisConnection, text
from mockserver.state.backends.redis_journal import SharedJournal
from mockserver.state.journal import JournalBudget
from tests.system.redis_harness import REDIS, Redis

pytestmark = pytest.mark.skipif(REDIS is None, reason="redis-server is not installed")
Opener = Callable[..., SharedJournal]
HEADERS = [(b"x-api-key", b"bk_secret_value"), (b"accept", b"application/json")]


@pytest.fixture
def raw(redis: Redis) -> Iterator[redis_py.Redis]:
    client = redis_py.Redis(host="127.0.0.1", port=redis.port)
    yield client
    client.close()


@pytest.fixture(params=["runs", "one-entry-runs"])
def run_bytes(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test with the batch in runs of a key as long as they come, and cut after every entry."""
    if request.param == "one-entry-runs":
        monkeypatch.setattr(redis_journal, "RUN_BYTES", 1)


@pytest.fixture
def open_journal(redis: Redis, run_bytes: None) -> Iterator[Opener]:
    links: list[RedisConnection] = []

    def make(size: int = 1000, budget: JournalBudget | None = None) -> SharedJournal:
        link = RedisConnection(redis.url)
        links.append(link)
        return SharedJournal(link, size, budget)

    yield make
    for link in links:
        link.close()


def record(journal: SharedJournal, vendor: str, tenant: str | None, n: int, response: bytes = b"") -> None:
    scope = {"method": "GET", "query_string": f"n={n}".encode(), "headers": HEADERS}
    journal.record(
        vendor, tenant, scope, path="/numbers", status=200, secret_headers=frozenset({b"x-api-key"}),
        response=response,
    )  # fmt: skip


def numbers(journal: SharedJournal, vendor: str | None = None, tenant: str | None = None) -> list[int]:
    return [int(entry.param("n") or -1) for entry in journal.entries(vendor, tenant)]


def held_bytes(raw: redis_py.Redis) -> dict[str, int]:
    """What the script counts per key, checked against what the lists hold."""
    counted = {text(key): int(value) for key, value in raw.hgetall("vendor-emulator:journal:bytes").items()}
    for key, value in counted.items():
        assert value == sum(len(item) for item in raw.lrange(key, 0, -1)), key
    assert int(raw.get("vendor-emulator:journal:total") or 0) == sum(counted.values())
    return counted


def test_one_batch_keeps_the_order_and_numbers_of_requests_across_tenants(
    open_journal: Opener,
) -> None:
    journal = open_journal()
    owners = [("butter", "t1"), ("butter", "t2"), ("butter", "t1"), ("famulor", None), ("butter", "t1")]
    for n, (vendor, tenant) in enumerate(owners):
        record(journal, vendor, tenant, n)
    journal.flush()  # one script call for the five
    entries = journal.entries()
    assert [int(entry.param("n") or -1) for entry in entries] == [0, 1, 2, 3, 4]
    assert [entry.sequence for entry in entries] == [1, 2, 3, 4, 5]
    assert [(entry.vendor, entry.tenant) for entry in entries] == owners
    assert dict(entries[0].headers) == {"x-api-key": "[redacted]", "accept": "application/json"}
    assert entries[3].headers == (), "an unauthenticated request keeps no headers"
    assert journal.latest() == 5


def test_each_tenant_keeps_its_last_entries_and_the_counters_match_what_redis_holds(
    open_journal: Opener, raw: redis_py.Redis
) -> None:
    journal = open_journal(size=3)
    for n in range(5):
        record(journal, "butter", "t1", n)
    record(journal, "butter", "t2", 5)
    record(journal, "butter", "t2", 6)
    journal.flush()
    assert numbers(journal, "butter", "t1") == [2, 3, 4]
    assert numbers(journal, "butter", "t2") == [5, 6]
    assert len(held_bytes(raw)) == 2
    for n in range(7, 9):
        record(journal, "butter", "t1", n)
    journal.flush()
    assert numbers(journal, "butter", "t1") == [4, 7, 8]
    held_bytes(raw)
    journal.clear("butter", "t1")
    assert numbers(journal) == [5, 6]
    assert len(held_bytes(raw)) == 1


def test_over_the_total_budget_the_largest_tenant_gives_way(
    open_journal: Opener, raw: redis_py.Redis
) -> None:
    probe = open_journal()
    record(probe, "butter", "probe", 0)
    probe.flush()
    size = max(held_bytes(raw).values())  # the stored bytes of one entry (about the same for each)
    probe.clear()
    journal = open_journal(budget=JournalBudget(total_bytes=int(size * 4.5)))
    record(journal, "butter", "small", 0)
    for n in range(1, 9):
        record(journal, "butter", "large", n)
    journal.flush()
    assert numbers(journal, "butter", "small") == [0]
    assert numbers(journal, "butter", "large") == [6, 7, 8], "the newest of the largest tenant remain"
    assert sum(held_bytes(raw).values()) <= size * 4.5


def test_bodies_keep_their_own_budget_and_go_with_their_entries(
    open_journal: Opener, raw: redis_py.Redis
) -> None:
    journal = open_journal(size=2, budget=JournalBudget(bodies_bytes=25))
    for n in range(3):
        record(journal, "butter", "t1", n, response=b"%d" % n * 10)
    journal.flush()
    assert numbers(journal) == [1, 2]
    second, third = journal.find(2), journal.find(3)
    assert second is not None
    assert third is not None
    assert (second.response, third.response) == (b"1" * 10, b"2" * 10)
    assert int(raw.get("vendor-emulator:journal:bodies-total") or 0) == 20
    assert raw.lrange("vendor-emulator:journal:bodies-order", 0, -1) == [b"2", b"3"]
    assert set(raw.hkeys("vendor-emulator:journal:bodies")) == {b"2", b"3"}, "the fallen entry's body went"
    record(journal, "butter", "t1", 3, response=b"3" * 10)
    journal.flush()
    assert journal.find(2) is None
    third, fourth = journal.find(3), journal.find(4)
    assert third is not None
    assert fourth is not None
    assert (third.response, fourth.response) == (b"2" * 10, b"3" * 10)
    assert set(raw.hkeys("vendor-emulator:journal:bodies")) == {b"3", b"4"}


def test_over_the_bodies_budget_the_oldest_body_is_let_go_and_its_entry_kept(
    open_journal: Opener, raw: redis_py.Redis
) -> None:
    journal = open_journal(size=10, budget=JournalBudget(bodies_bytes=25))
    for n in range(3):
        record(journal, "butter", "t1", n, response=b"%d" % n * 10)
    journal.flush()
    entries = [journal.find(sequence) for sequence in (1, 2, 3)]
    assert [(entry.response, entry.body_dropped) for entry in entries if entry is not None] == [
        (b"", True),
        (b"1" * 10, False),
        (b"2" * 10, False),
    ]
    assert int(raw.get("vendor-emulator:journal:bodies-total") or 0) == 20
    assert raw.lrange("vendor-emulator:journal:bodies-order", 0, -1) == [b"2", b"3"]


def test_a_batch_redis_refused_waits_again_and_over_the_bound_the_oldest_entries_go(
    open_journal: Opener, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(redis_journal, "PENDING_JOURNAL_MAX", 5)
    journal = open_journal()
    for n in range(5):
        record(journal, "butter", "t1", n)

    def refused(**_: object) -> None:  # two more requests are answered while the call fails
        record(journal, "butter", "t1", 5)
        record(journal, "butter", "t1", 6)
        raise redis_py.ConnectionError("gone")

    monkeypatch.setattr(journal, "_journal_script", refused)
    with pytest.raises(StateUnavailable):
        journal.flush()
    assert [entry.param("n") for entry in journal._pending] == ["2", "3", "4", "5", "6"]
