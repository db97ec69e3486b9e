"""Recording a request in the journal: cheap on the hot path, yet every entry redacted and counted.

An entry shares the stored header tuple of the same header list seen lately, and keeps its counted size
beside it; these tests pin that what is stored and counted is what it always was, and that what is
remembered for sharing stays within its budget.
"""

from __future__ import annotations

from typing import Any

from mockserver.state import journal as journal_module
from mockserver.state.journal import (
    CLEAN_QUERIES,
    CLEAN_QUERY_BYTES,
    SEEN_HEADER_BYTES,
    SEEN_HEADERS,
    Journal,
    JournalBudget,
    _size,
    redacted_query,
)

SECRET = frozenset({b"x-api-key"})


def scope(key: bytes = b"bk_test_butter", *extra: tuple[bytes, bytes]) -> dict[str, Any]:
    headers = [(b"host", b"127.0.0.1:8000"), (b"x-api-key", key), *extra]
    return {"method": "GET", "query_string": b"page_size=5", "headers": headers}


def record(journal: Journal, request: dict[str, Any], tenant: str = "default") -> None:
    journal.record("butter", tenant, request, path="/api/phone-numbers", status=200, secret_headers=SECRET)


def test_every_entry_of_a_repeated_header_list_is_redacted_and_counted() -> None:
    journal = Journal(size=10)
    for _ in range(25):
        record(journal, scope())
    entries = journal.entries()
    assert len(entries) == 10
    assert all(dict(entry.headers)["x-api-key"] != "bk_test_butter" for entry in entries)
    assert journal.stored_bytes == sum(_size(entry) for entry in entries)


def test_the_byte_count_stays_exact_as_entries_fall_off_and_are_cleared() -> None:
    journal = Journal(size=1000, budget=JournalBudget(tenant_bytes=20_000))
    for index in range(300):
        record(journal, scope(b"bk_%d" % index, (b"x-trace", b"t" * (index % 50))), tenant=f"t{index % 3}")
    assert 0 < len(journal) < 300  # the byte budget, not the count, let the oldest go
    assert journal.stored_bytes == sum(_size(entry) for entry in journal.entries())
    journal.clear(tenant="t1")
    assert journal.stored_bytes == sum(_size(entry) for entry in journal.entries())
    journal.clear()
    assert journal.stored_bytes == 0


def test_a_header_list_given_as_lists_is_stored_the_same() -> None:
    journal = Journal()
    request = scope()
    request["headers"] = [list(pair) for pair in request["headers"]]
    record(journal, request)
    record(journal, scope())
    first, second = journal.entries()
    assert first.raw_headers == second.raw_headers


def test_the_header_lists_remembered_for_sharing_stay_within_their_budget() -> None:
    journal = Journal(size=5)
    for index in range(3 * SEEN_HEADERS):
        record(journal, scope(b"bk_%d" % index))
    record(journal, scope(b"bk_large", (b"x-large", b"x" * SEEN_HEADER_BYTES)))
    assert len(journal._seen) <= SEEN_HEADERS
    remembered = [pair for key in journal._seen for pair in key[1:]]
    assert (b"x-large", b"x" * SEEN_HEADER_BYTES) not in remembered  # larger than a shared list may be


def test_a_query_is_redacted_each_time_and_only_clean_ones_are_remembered() -> None:
    secret = b"page_size=5&api_key=sk-live-1"
    for _ in range(3):
        assert redacted_query(secret) == b"page_size=5&api_key=%5Bredacted%5D"
        assert redacted_query(b"page_size=5") == b"page_size=5"
    assert secret not in journal_module._clean_queries
    for index in range(3 * CLEAN_QUERIES):
        redacted_query(b"page=%d" % index)
        assert len(journal_module._clean_queries) <= CLEAN_QUERIES
    long = b"cursor=" + b"c" * CLEAN_QUERY_BYTES
    assert redacted_query(long) is long
    assert long not in journal_module._clean_queries


def test_the_counted_size_of_an_entry_is_its_size_with_a_body_drifts_and_no_tenant() -> None:
    journal = Journal(size=3)
    request = scope()
    for tenant in ("default", None):
        journal.record(
            "butter", tenant, request, path="/api/phone-numbers", status=201, secret_headers=SECRET,
            request=b'{"token": "t", "name": "n"}', drifts=("rename_field",),
        )  # fmt: skip
    entries = journal.entries()
    assert [entry.raw_headers == () for entry in entries] == [False, True]
    assert entries[0].request == b'{"token":"[redacted]","name":"n"}'
    assert journal.stored_bytes == sum(_size(entry) for entry in entries)
