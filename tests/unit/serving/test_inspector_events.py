"""The journal's server-sent events (mockserver.serving.inspector_events): bounded subscribers and bytes.

The page's use of them is tested in Chromium (tests/system/test_inspector_browser.py); here the bounds: the
number of streams, each stream's byte budget (a slow reader is dropped, its events let go), the byte
budget of all streams together (the reader furthest behind is dropped), all three from the limits of
``serve``, no listener
on the journal while nobody follows it, and each stream getting only what its filter lets through.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from dataclasses import replace
from typing import Any

import orjson
import pytest

from mockserver.engine.emulator import build_emulator
from mockserver.limits import DEFAULT_LIMITS
from mockserver.serving.inspector import Inspector
from mockserver.serving.inspector_events import JournalEvents, Subscriber
from mockserver.state.journal import Journal, JournalEntry
from tests.conftest import data_config

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


async def test_all_streams_together_keep_to_one_byte_budget() -> None:
    """The worst case is the total, not the number of streams times each one's budget: at the total,
    the reader furthest behind is dropped and the others keep following."""
    journal = Journal()
    events = JournalEvents(journal, _summary, subscriber_bytes=100_000, total_bytes=1500)
    behind = events.subscribe(lambda entry: True)
    assert isinstance(behind, Subscriber)
    for _ in range(5):
        _record(journal)  # only the first reader follows yet: it is the furthest behind from now on
    later = events.subscribe(lambda entry: True)
    assert isinstance(later, Subscriber)
    for _ in range(40):
        _record(journal)
        assert events.pending_bytes == behind.pending_bytes + later.pending_bytes <= 1500
        if behind.dropped:
            break
    assert behind.dropped
    assert not later.dropped
    assert later.pending_bytes > 0
    assert events.dropped == 1
    stream = events.stream(later)
    await _next(stream)
    assert (await _next(stream)).startswith(b"id: ")  # what it held, written at once
    await stream.aclose()
    assert events.pending_bytes == 0, "a stream that ends gives its bytes back"


def test_the_inspector_streams_keep_to_the_limits_of_serve() -> None:
    limits = replace(DEFAULT_LIMITS, max_event_streams=3, event_stream_bytes=2000, event_streams_bytes=5000)
    events = Inspector(build_emulator(data_config(limits=limits))).events
    assert (events.max_subscribers, events.subscriber_bytes, events.total_bytes) == (3, 2000, 5000)


def test_the_default_worst_case_is_bounded() -> None:
    """1,024 streams of 256 KiB would be 256 MiB: the total budget keeps all of them to 16 MiB."""
    assert (
        DEFAULT_LIMITS.event_streams_bytes
        < DEFAULT_LIMITS.max_event_streams * DEFAULT_LIMITS.event_stream_bytes
    )
    assert DEFAULT_LIMITS.event_streams_bytes <= DEFAULT_LIMITS.journal_bodies_bytes


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
