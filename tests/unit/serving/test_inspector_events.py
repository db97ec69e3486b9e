"""The journal's server-sent events (mockserver.serving.inspector_events): bounded subscribers and bytes.

The page's use of them is tested in Chromium (tests/system/test_inspector_browser.py); here the bounds: the
number of streams, each stream's byte budget (a slow reader is dropped, its events let go), no listener
on the journal while nobody follows it, and each stream getting only what its filter lets through.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from typing import Any

import orjson
import pytest

from mockserver.serving.inspector_events import JournalEvents, Subscriber
from mockserver.state.journal import Journal, JournalEntry

SCOPE: dict[str, Any] = {"method": "GET", "query_string": b"", "headers": []}
pytestmark = pytest.mark.anyio


def _summary(entry: JournalEntry) -> dict[str, Any]:
    return {"sequence": entry.sequence, "vendor": entry.vendor, "status": entry.status}


def _record(journal: Journal, vendor: str = "v", status: int = 200) -> JournalEntry:
    return journal.record(vendor, "t", SCOPE, path="/p", status=status, secret_headers=frozenset())


def _listening(journal: Journal) -> bool:
    return journal.listener is not None


async def _next(stream: AsyncGenerator[bytes, None]) -> bytes:
    return await asyncio.wait_for(anext(stream), 2)


async def test_a_follower_gets_each_new_entry_that_its_filter_lets_through() -> None:
    journal = Journal()
    events = JournalEvents(journal, _summary)
    assert not _listening(journal), "nothing on the request path while nobody follows"
    subscriber = events.subscribe(lambda entry: entry.vendor == "v" and entry.status >= 400)
    assert subscriber is not None
    assert _listening(journal)
    stream = events.stream(subscriber)
    assert (await _next(stream)).startswith(b"retry: ")
    _record(journal, "v", 200)
    _record(journal, "other", 500)
    wanted = _record(journal, "v", 503)
    chunk = await _next(stream)
    assert chunk.startswith(b"id: %d\nevent: entry\ndata: " % wanted.sequence)
    assert orjson.loads(chunk.split(b"data: ", 1)[1]) == _summary(wanted)
    await stream.aclose()
    assert not _listening(journal), "the last follower gone: the listener is unset"
    assert not events.subscribers


async def test_the_number_of_streams_is_bounded() -> None:
    events = JournalEvents(Journal(), _summary, max_subscribers=2)
    assert events.subscribe(lambda entry: True) is not None
    assert events.subscribe(lambda entry: True) is not None
    assert events.subscribe(lambda entry: True) is None


async def test_a_slow_reader_is_dropped_not_buffered() -> None:
    journal = Journal()
    events = JournalEvents(journal, _summary, subscriber_bytes=1000)
    slow = events.subscribe(lambda entry: True)
    fast = events.subscribe(lambda entry: True)
    assert isinstance(slow, Subscriber)
    assert isinstance(fast, Subscriber)
    fast_stream = events.stream(fast)
    await _next(fast_stream)
    for _ in range(50):  # about 100 bytes each: the slow reader never reads
        _record(journal)
        assert slow.pending_bytes <= 1000
        await _next(fast_stream)  # the fast one keeps up: each event is written at once
    assert slow.dropped
    assert not slow.pending
    assert events.dropped == 1
    slow_stream = events.stream(slow)
    assert (await _next(slow_stream)).startswith(b"retry: ")
    with pytest.raises(
        StopAsyncIteration
    ):  # a dropped reader's stream ends: the page polls, then follows again
        await _next(slow_stream)
    assert slow not in events.subscribers
    await fast_stream.aclose()


async def test_a_shared_journal_entry_is_announced_without_its_number() -> None:
    """With --state redis the entry is numbered in Redis later: ``changed`` tells the page to poll."""
    journal = Journal()
    events = JournalEvents(journal, _summary)
    subscriber = events.subscribe(lambda entry: True)
    assert subscriber is not None
    stream = events.stream(subscriber)
    await _next(stream)
    entry = journal.compact("v", "t", SCOPE, path="/p", status=200, secret_headers=frozenset())
    events.recorded(entry)  # sequence 0, as SharedJournal leaves it
    assert await _next(stream) == b"event: changed\ndata: {}\n\n"
    await stream.aclose()


async def test_an_entry_recorded_on_another_thread_reaches_the_stream() -> None:
    journal = Journal()
    events = JournalEvents(journal, _summary)
    subscriber = events.subscribe(lambda entry: True)
    assert subscriber is not None
    stream = events.stream(subscriber)
    await _next(stream)
    entry = await asyncio.to_thread(_record, journal)
    assert (await _next(stream)).startswith(b"id: %d\n" % entry.sequence)
    await stream.aclose()
