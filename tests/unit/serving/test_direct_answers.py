"""Direct answers: a vendor read answered by ``serve``'s protocol is the ASGI stack's answer, byte for byte.

Each test drives the protocol as ``serve`` builds it (the Host/Origin guard around the request log around
the emulator), once with direct answers and once without, over a transport that records what is written.
"""

from __future__ import annotations

import asyncio
import io
import logging
import re
from dataclasses import dataclass
from typing import Any

import pytest
from uvicorn.config import Config
from uvicorn.server import ServerState

from mockserver import create_app
from mockserver.engine.routing import DECISIONS, HostPolicy
from mockserver.limits import Limits
from mockserver.serving.accesslog import AccessLog
from mockserver.serving.server import GuardedProtocol, guarded
from tests.unit.serving.transports import RecordingTransport

BUTTER_HEADERS = b"host: 127.0.0.1\r\nx-api-key: bk_test_butter\r\nx-organization-id: org_test\r\n"
DATE = re.compile(rb"\r\ndate: [^\r]*\r\n")
TIME = re.compile(rb" [0-9.]+ms\n")
STAMP = re.compile(rb"^\S+ ", re.MULTILINE)


@dataclass
class Served:
    """One ``serve``-like server, in-process: its protocol class, config, request log and journal."""

    protocol_class: type[GuardedProtocol]
    config: Config
    log: io.BytesIO
    access_log: AccessLog
    emulator: Any

    def connect(self, loop: asyncio.AbstractEventLoop) -> tuple[GuardedProtocol, RecordingTransport]:
        protocol = self.protocol_class(self.config, ServerState(), {}, _loop=loop)
        transport = RecordingTransport()
        protocol.connection_made(transport)
        return protocol, transport

    def exchange(self, data: bytes, wait: float = 0.05) -> tuple[bytes, bool]:
        """What the server wrote in answer to ``data``, and whether it closed the connection."""
        loop = asyncio.new_event_loop()
        protocol, transport = self.connect(loop)
        try:
            protocol.data_received(data)
            loop.run_until_complete(asyncio.sleep(wait))
            return transport.written, transport.closed
        finally:
            protocol.connection_lost(None)
            loop.run_until_complete(asyncio.sleep(0))
            loop.close()

    def logged(self) -> bytes:
        self.access_log.writer.flush()
        return TIME.sub(b" ms\n", STAMP.sub(b"", self.log.getvalue()))


def _served(*, direct: bool) -> Served:
    app = create_app()
    log = io.BytesIO()
    access_log = AccessLog(app, "text", log)
    guard, factory = guarded(access_log, app.state.emulator, "127.0.0.1", [], direct=direct)
    config = Config(guard, http="httptools", lifespan="off", log_level="critical", proxy_headers=False)
    config.load()
    return Served(factory(Limits()), config, log, access_log, app.state.emulator)


@pytest.fixture
def both() -> tuple[Served, Served]:
    return _served(direct=True), _served(direct=False)


def _request(
    target: bytes, headers: bytes = BUTTER_HEADERS, method: bytes = b"GET", version: bytes = b"1.1"
) -> bytes:
    return method + b" " + target + b" HTTP/" + version + b"\r\n" + headers + b"\r\n"


SAME_ANSWERS = {
    "Butter's documented request": _request(b"/butter/api/phone-numbers"),
    "a HEAD": _request(b"/butter/api/phone-numbers", method=b"HEAD"),
    "a filter and a page size": _request(b"/butter/api/phone-numbers?status=assigned&page_size=1"),
    "a bad cursor": _request(b"/butter/api/phone-numbers?cursor=%%%"),
    "no key": _request(b"/butter/api/phone-numbers", b"host: 127.0.0.1\r\n"),
    "a wrong key": _request(b"/butter/api/phone-numbers", b"host: 127.0.0.1\r\nx-api-key: nope\r\n"),
    "an unknown path under a vendor": _request(b"/butter/api/nothing-here"),
    "an encoded slash": _request(b"/butter/api%2Fphone-numbers"),
    "a trailing slash": _request(b"/butter/api/phone-numbers/"),
    "the OpenAPI document": _request(b"/butter/openapi.json"),
    "Famulor's legacy path": _request(
        b"/famulor/api/user/phone-numbers", b"host: 127.0.0.1\r\nauthorization: Bearer famulor-test-key\r\n"
    ),
    "Mindhunters, filtered and sorted": _request(
        b"/mindhunters/api/v1/phone-numbers?country_code=US&sort=monthly_fee&page=2&per_page=2",
        b"host: localhost:8080\r\nauthorization: Bearer mh_test_mindhunters\r\n",
    ),
    "HTTP/1.0 (the connection closes)": _request(b"/butter/api/phone-numbers", version=b"1.0"),
    "connection: close": _request(b"/butter/api/phone-numbers", BUTTER_HEADERS + b"connection: close\r\n"),
    "a Host this server does not serve": _request(
        b"/butter/api/phone-numbers", b"host: evil.example\r\nx-api-key: bk_test_butter\r\n"
    ),
    "a foreign Origin": _request(
        b"/butter/api/phone-numbers", BUTTER_HEADERS + b"origin: https://evil.example\r\n"
    ),
    "an injected status": _request(b"/butter/api/phone-numbers", BUTTER_HEADERS + b"prefer: code=503\r\n"),
    "a drifted answer": _request(
        b"/butter/api/phone-numbers", BUTTER_HEADERS + b"prefer: drift=field.renamed;to=msisdn\r\n"
    ),
    "an absolute-form target": _request(b"http://127.0.0.1/butter/api/phone-numbers"),
    "a percent-encoded query": _request(b"/butter/api/phone-numbers?status=%61ssigned&page_size=1"),
    "a percent-encoded path": _request(b"/butter/api/phone%2Dnumbers"),
    "a fragment": _request(b"/butter/api/phone-numbers?page_size=1#top"),
    "a non-ASCII path": _request("/butter/api/phone-numbers/é".encode()),
    "OPTIONS (the ASGI way)": _request(b"/butter/api/phone-numbers", method=b"OPTIONS"),
    "the index (the ASGI way)": _request(b"/__mock__", b"host: 127.0.0.1\r\n"),
}


@pytest.mark.parametrize("data", SAME_ANSWERS.values(), ids=SAME_ANSWERS.keys())
def test_a_direct_answer_is_the_asgi_answer_byte_for_byte(both: tuple[Served, Served], data: bytes) -> None:
    direct, asgi = both
    answered, closed = direct.exchange(data)
    expected, expected_closed = asgi.exchange(data)
    assert answered.startswith(b"HTTP/1.1 ")
    assert DATE.sub(b"\r\ndate: -\r\n", answered) == DATE.sub(b"\r\ndate: -\r\n", expected)
    assert closed == expected_closed
    assert direct.logged() == asgi.logged(), "the same request-log line"
    journal = [
        [(e.method, e.path, e.status, e.raw_headers) for e in served.emulator.journal.entries()]
        for served in both
    ]
    assert journal[0] == journal[1], "the same journal entries"


def _is_direct(served: Served, data: bytes) -> bool:
    """Whether ``data`` was answered without an ASGI task (in one write, before the loop ran)."""
    loop = asyncio.new_event_loop()
    protocol, transport = served.connect(loop)
    try:
        protocol.data_received(data)
        return transport.writes == 1 and not protocol.tasks
    finally:
        loop.run_until_complete(asyncio.sleep(0.05))  # a task started meanwhile finishes
        protocol.connection_lost(None)
        loop.close()


def test_vendor_reads_are_answered_without_a_task(both: tuple[Served, Served]) -> None:
    direct, asgi = both
    read = SAME_ANSWERS["Butter's documented request"]
    assert _is_direct(direct, read), "answered in data_received itself, head and body in one write"
    assert not _is_direct(asgi, read), "without direct answers, a task answers it"
    for name in ("OPTIONS (the ASGI way)", "the index (the ASGI way)", "a Host this server does not serve"):
        assert not _is_direct(direct, SAME_ANSWERS[name]), name


def test_pipelined_reads_are_answered_in_order_once_each(both: tuple[Served, Served]) -> None:
    direct, _ = both
    reads = [b"page_size=1", b"page_size=2", b"status=assigned"]
    data = b"".join(_request(b"/butter/api/phone-numbers?" + query) for query in reads)
    answered, closed = direct.exchange(data)
    assert answered.count(b"HTTP/1.1 200 OK\r\n") == 3
    assert not closed
    journal = direct.emulator.journal.entries("butter")
    assert [entry.raw_query.decode() for entry in journal][-3:] == [query.decode() for query in reads]


def test_a_write_then_a_read_pipelined_keep_their_order() -> None:
    served = _served(direct=True)
    famulor = b"host: 127.0.0.1\r\nauthorization: Bearer famulor-test-key\r\n"
    # a write runs in a thread; the read behind it on the connection must wait for its answer
    write = _request(b"/famulor/api/user/phone-numbers/purchase", famulor, method=b"POST")
    write = write.replace(b"\r\n\r\n", b"\r\ncontent-length: 2\r\n\r\n{}")
    read = _request(b"/famulor/api/user/phone-numbers/all", famulor)
    answered, _ = served.exchange(write + read, wait=0.5)
    answers = answered.split(b"HTTP/1.1 ")[1:]
    assert [answer[:3] for answer in answers] == [b"422", b"200"], "the write's answer, then the read's"
    assert [entry.method for entry in served.emulator.journal.entries("famulor")] == ["POST", "GET"]


def test_an_answer_that_waits_goes_through_the_cycle_and_is_journaled_once() -> None:
    served = _served(direct=True)
    data = _request(b"/butter/api/phone-numbers", BUTTER_HEADERS + b"prefer: delay=100\r\n")
    loop = asyncio.new_event_loop()
    protocol, transport = served.connect(loop)
    try:
        protocol.data_received(data)
        assert transport.written == b"", "not answered before its delay"
        loop.run_until_complete(asyncio.sleep(0.3))
        assert transport.written.startswith(b"HTTP/1.1 200 OK\r\n")
        assert transport.writes == 1
    finally:
        protocol.connection_lost(None)
        loop.close()
    assert len(served.emulator.journal.entries("butter")) == 1, "the request is seen once"


def test_a_body_cut_short_closes_the_connection() -> None:
    served = _served(direct=True)
    cut = b"prefer: drift=transport.body-cut-short\r\n"
    data = _request(b"/butter/api/phone-numbers", BUTTER_HEADERS + cut)
    answered, closed = served.exchange(data)
    head, _, body = answered.partition(b"\r\n\r\n")
    length = int(head.split(b"content-length: ")[1].split(b"\r\n")[0])
    assert 0 < len(body) < length
    assert closed


def test_a_read_with_a_large_body_is_answered_and_the_connection_goes_on() -> None:
    served = _served(direct=True)
    body = b"x" * 200_000  # past uvicorn's high-water mark: a body nobody reads must not stall reading
    read = _request(b"/butter/api/phone-numbers", BUTTER_HEADERS + b"content-length: 200000\r\n") + body
    answered, closed = served.exchange(read + _request(b"/butter/api/phone-numbers?page_size=1"))
    assert answered.count(b"HTTP/1.1 200 OK\r\n") == 2
    assert not closed


def test_the_host_policy_remembers_a_bounded_number_of_decisions() -> None:
    policy = HostPolicy.for_server("127.0.0.1", [], ["api.butter.ai"])
    cases = [("127.0.0.1:8080", None), ("evil.example", None), ("localhost", "https://evil.example"),
             ("api.butter.ai", None), (None, None), ("x" * 600, None)]  # fmt: skip
    for host, origin in cases * 2:
        expected = None
        if not policy.allows(host):
            expected = "misdirected"
        elif not policy.allows_origin(origin):
            expected = "cross_origin"
        assert policy.refusal(host, origin) == expected, (host, origin)
    for index in range(DECISIONS * 3):
        assert policy.refusal(f"host-{index}.example", None) == "misdirected"
    assert len(policy._decided) <= DECISIONS


def test_a_failure_past_the_vendor_app_is_a_500_not_a_parser_error(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    served = _served(direct=True)
    monkeypatch.setattr(logging.getLogger("uvicorn"), "propagate", True)  # uvicorn's config turns it off

    def broken_log(*_: object) -> None:
        raise OSError("the request log's stream is gone")

    for vendor_app in served.emulator.apps.values():
        vendor_app.request_log = broken_log
    caplog.set_level(logging.ERROR, logger="uvicorn.error")
    answered, closed = served.exchange(SAME_ANSWERS["Butter's documented request"])
    assert answered.startswith(b"HTTP/1.1 500 Internal Server Error\r\n")
    assert answered.endswith(b"\r\n\r\nInternal Server Error")
    assert closed
    assert "the request log's stream is gone" in caplog.text
