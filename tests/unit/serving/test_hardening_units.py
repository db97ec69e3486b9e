"""The hardening, in-process: host policy, refusals, the guarded protocol, persistence, limits."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from mockserver import EmulatorConfig, create_app
from mockserver.engine.persistence import STATE_FILE, StateDir, write_atomically
from mockserver.engine.routing import HostPolicy, host_name, served_host
from mockserver.errors import ConfigurationError
from mockserver.intercept.transport import EmulatorTransport
from mockserver.limits import DEFAULT_LIMITS, Limits, add_arguments, from_arguments
from mockserver.serving.server import GuardedProtocol, HeldHead, HostGuard, Refusals, Sweep, http_response
from tests.unit.serving.transports import RecordingTransport

CONTACTSHIP = {"x-api-key": "contactship-test-key"}


@pytest.mark.parametrize(
    ("value", "name"),
    [("localhost:8080", "localhost"), ("[::1]:80", "::1"), ("API.Butter.ai", "api.butter.ai"),
     ('evil"/>', None), ("a b", None), ("", None), ("user@host", None)],
)  # fmt: skip
def test_host_names_are_parsed_strictly(value: str, name: str | None) -> None:
    assert host_name(value) == name
    assert served_host(value) == (value if name else "localhost")


def test_the_host_policy_of_a_loopback_server() -> None:
    policy = HostPolicy.for_server("127.0.0.1", ["emulator.internal"], ["api.butter.ai"])
    assert all(policy.allows(h) for h in ("127.0.0.1:8080", "localhost", "app.localhost", "[::1]:1", None))
    assert all(policy.allows(h) for h in ("emulator.internal:9", "api.butter.ai"))
    assert not any(policy.allows(h) for h in ("evil.example", "10.0.0.5", "bad host"))
    assert policy.allows_origin(None)
    assert policy.allows_origin("http://localhost:3000")
    assert not policy.allows_origin("https://evil.example")
    assert not policy.allows_origin("null")
    assert not policy.allows_origin("file://")


def test_the_host_policy_of_a_wildcard_server() -> None:
    assert HostPolicy.for_server("0.0.0.0", [], []).allows("anything.example")
    named = HostPolicy.for_server("0.0.0.0", ["emulator"], [])
    assert named.allows("emulator:8080")
    assert named.allows("10.1.2.3")
    assert not named.allows("evil.example")
    assert HostPolicy.for_server("127.0.0.1", ["*"], []).allows("evil.example")


def test_refusals_take_the_vendors_shape_or_a_plain_one() -> None:
    refusals = Refusals(create_app().state.emulator)
    status, headers, body = refusals.render("/contactship/v1/phone-numbers", "header_too_large")
    assert (status, orjson.loads(body)["statusCode"]) == (431, 431)
    assert (b"content-type", b"application/json; charset=utf-8") in headers
    status, _, body = refusals.render("/__mock__/reset", "cross_origin")
    assert (status, orjson.loads(body)["error"]) == (403, "cross_origin")
    response = http_response((421, [(b"content-length", b"9")], b"{}"))
    assert response.startswith(b"HTTP/1.1 421 Misdirected Request\r\n")
    assert response.endswith(b"content-length: 2\r\nconnection: close\r\n\r\n{}")


def test_a_root_vendor_answers_refusals_for_any_path() -> None:
    refusals = Refusals(create_app(EmulatorConfig(root_vendor="famulor")).state.emulator)
    status, _, body = refusals.render("/api/user/phone-numbers/all", "misdirected")
    assert (status, orjson.loads(body)) == (421, {"message": "Misdirected Request"})


def _call(app: Any, path: str, headers: dict[str, str]) -> tuple[int, Any]:
    """One GET through an ASGI app, in-process: status and JSON body."""
    sent: list[dict[str, Any]] = []
    raw_headers = [(name.encode(), value.encode()) for name, value in headers.items()]
    scope = {"type": "http", "method": "GET", "path": path, "raw_path": path.encode(), "root_path": "",
             "query_string": b"", "headers": raw_headers, "scheme": "http"}  # fmt: skip

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    body = b"".join(message.get("body", b"") for message in sent[1:])
    return sent[0]["status"], orjson.loads(body)


def test_the_host_guard_in_front_of_the_app() -> None:
    app = create_app()
    guard = HostGuard(app, HostPolicy.for_server("127.0.0.1", [], []), Refusals(app.state.emulator))
    local = {"host": "127.0.0.1:8080"}
    assert _call(guard, "/contactship/v1/phone-numbers", {**local, **CONTACTSHIP})[0] == 200
    status, body = _call(guard, "/contactship/v1/phone-numbers", {"host": "evil.example"})
    assert (status, body["error"]) == (421, "Misdirected Request")
    assert _call(guard, "/__mock__", {**local, "origin": "https://evil.example"})[0] == 403


def _protocol(
    limits: Limits, keep_alive: float = 5
) -> tuple[GuardedProtocol, RecordingTransport, asyncio.AbstractEventLoop]:
    from uvicorn.config import Config
    from uvicorn.server import ServerState

    app = create_app()
    loop = asyncio.new_event_loop()
    config = Config(app, http="httptools", lifespan="off", log_level="critical")
    config.timeout_keep_alive = keep_alive  # type: ignore[assignment]  # a float, for a short test
    protocol_class = GuardedProtocol.configured(limits, Refusals(app.state.emulator))
    protocol = protocol_class(config, ServerState(), {}, _loop=loop)
    transport = RecordingTransport()
    protocol.connection_made(transport)
    return protocol, transport, loop


@pytest.mark.parametrize(
    ("request_bytes", "status"),
    [
        (b"GET /butter/api/phone-numbers HTTP/1.1\r\nX-Big: " + b"a" * 2000 + b"\r\n\r\n", b"431"),
        (b"GET /butter/api/phone-numbers HTTP/1.1\r\n" + b"X-A: 1\r\n" * 20 + b"\r\n", b"431"),
        (b"GET /butter/api/phone-numbers?q=" + b"a" * 3000 + b" HTTP/1.1\r\n\r\n", b"414"),
    ],
)
def test_the_guarded_protocol_refuses_heads_beyond_the_limits(request_bytes: bytes, status: bytes) -> None:
    limits = Limits(max_request_line=1024, max_headers=10, max_header_bytes=1024)
    protocol, transport, loop = _protocol(limits)
    try:
        protocol.data_received(request_bytes)
        assert transport.written.startswith(b"HTTP/1.1 " + status)
        assert b'"success":false' in transport.written, "Butter's shape"
        assert transport.closed
    finally:
        protocol.connection_lost(None)
        loop.close()


def test_the_guarded_protocol_times_out_a_slow_head() -> None:
    protocol, transport, loop = _protocol(Limits(head_timeout=0.05))
    try:
        protocol.data_received(b"GET / HTTP/1.1\r\nX-Slow: ")
        loop.run_until_complete(asyncio.sleep(0.15))
        assert transport.closed
    finally:
        protocol.connection_lost(None)
        loop.close()


def test_the_guarded_protocol_times_out_a_slow_body() -> None:
    protocol, transport, loop = _protocol(Limits(body_timeout=0.05))
    try:
        head = b"POST /__mock__/butter/seed HTTP/1.1\r\ncontent-type: application/json\r\n"
        protocol.data_received(head + b"content-length: 90\r\n\r\n" + b'{"records": [')
        loop.run_until_complete(asyncio.sleep(0.15))
        assert transport.closed
        assert transport.written == b"", "no answer to a request whose body never came"
    finally:
        protocol.connection_lost(None)
        loop.close()


def test_a_connection_that_keeps_its_deadlines_stays_open() -> None:
    protocol, transport, loop = _protocol(Limits(head_timeout=0.05, body_timeout=0.05))
    try:
        protocol.data_received(b"GET /__mock__ HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n")
        loop.run_until_complete(asyncio.sleep(0.15))
        assert transport.written.startswith(b"HTTP/1.1 200 ")
        assert not transport.closed, (
            "idle after its answer: uvicorn's keep-alive timeout applies, not the head's"
        )
    finally:
        protocol.connection_lost(None)
        loop.close()


def test_one_sweep_per_server_runs_while_it_has_connections() -> None:
    protocol, _, loop = _protocol(Limits(head_timeout=0.05))
    sweep = protocol.sweep
    try:
        assert sweep.running(), "the first connection starts it"
        assert sweep.interval <= 0.05 / 4, "a timeout is kept to within a quarter of itself"
        protocol.connection_lost(None)
        loop.run_until_complete(asyncio.sleep(0.05))
        assert not sweep.running(), "it ends by itself once the server has no connection"
    finally:
        loop.close()
    assert Sweep.for_limits(Limits()).interval == 0.25
    assert Sweep.for_limits(Limits(head_timeout=0.4)).interval == 0.1


def test_the_sweep_stops_with_the_server() -> None:
    protocol, _, loop = _protocol(Limits())
    try:
        protocol.sweep.stop()
        assert not protocol.sweep.running()
    finally:
        protocol.connection_lost(None)
        loop.close()


BUTTER_REQUEST = (
    b"GET /butter/api/phone-numbers HTTP/1.1\r\nhost: 127.0.0.1\r\n"
    b"x-api-key: bk_test_butter\r\nx-organization-id: org_test\r\n\r\n"
)


def test_an_idle_keep_alive_connection_is_closed_by_the_sweep_quietly(
    caplog: pytest.LogCaptureFixture,
) -> None:
    protocol, transport, loop = _protocol(Limits(), keep_alive=0.1)
    try:
        protocol.data_received(BUTTER_REQUEST)
        loop.run_until_complete(asyncio.sleep(0.02))
        assert transport.written.startswith(b"HTTP/1.1 200 OK\r\n")
        assert protocol.timeout_keep_alive_task is None, "no timer per response: the sweep keeps it"
        open_after_answer = not transport.closed
        loop.run_until_complete(asyncio.sleep(0.2 + protocol.sweep.interval))
        assert (open_after_answer, transport.closed) == (True, True), "closed once idle past the timeout"
        assert "in time" not in caplog.text, "an idle connection is not a slow client"
    finally:
        protocol.connection_lost(None)
        loop.close()


def test_a_request_begun_before_the_keep_alive_timeout_gets_the_head_timeout() -> None:
    protocol, transport, loop = _protocol(Limits(head_timeout=2), keep_alive=0.1)
    try:
        protocol.data_received(BUTTER_REQUEST)
        loop.run_until_complete(asyncio.sleep(0.02))
        protocol.data_received(BUTTER_REQUEST[:20])
        loop.run_until_complete(asyncio.sleep(0.3 + protocol.sweep.interval))
        assert not transport.closed, "past the keep-alive timeout, but within the head's"
        protocol.data_received(BUTTER_REQUEST[20:])
        loop.run_until_complete(asyncio.sleep(0.02))
        assert transport.written.count(b"HTTP/1.1 200 OK\r\n") == 2
    finally:
        protocol.connection_lost(None)
        loop.close()


@pytest.mark.parametrize("method", [b"GET", b"HEAD"])
def test_a_cached_answer_is_written_whole_in_one_write(method: bytes) -> None:
    protocol, transport, loop = _protocol(Limits())
    try:
        for _ in range(2):  # the first answer, then the cached one, on one keep-alive connection
            transport.written, transport.writes = b"", 0
            protocol.data_received(method + BUTTER_REQUEST[3:])
            loop.run_until_complete(asyncio.sleep(0.01))
            head, _, body = transport.written.partition(b"\r\n\r\n")
            assert head.startswith(b"HTTP/1.1 200 OK\r\n")
            length = int(head.split(b"content-length: ")[1].split(b"\r\n")[0])
            assert length > 0
            assert len(body) == (0 if method == b"HEAD" else length)
            assert transport.writes == 1, "status line, headers and body in one write"
            assert not transport.closed
    finally:
        protocol.connection_lost(None)
        loop.close()


def test_a_held_head_goes_out_with_its_body_a_streamed_one_at_once() -> None:
    transport = RecordingTransport()
    writer = HeldHead(transport)
    writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
    assert transport.writes == 1, "an interim 100 Continue is not held"
    writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n")
    writer.write(b"{}")
    assert (transport.writes, transport.written.endswith(b"\r\n\r\n{}")) == (2, True)
    writer.expecting = True
    writer.write(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n")
    assert transport.writes == 3, "a stream's head is written at once (an event stream may wait long)"
    writer.expecting = True
    writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 9\r\n\r\n")
    writer.write(b"x" * 100_000)
    assert transport.writes == 4, "a large body joins its head in one writelines"
    writer.expecting = True
    writer.write(b"HTTP/1.1 500 Internal Server Error\r\ncontent-length: 5\r\n\r\n")
    writer.close()
    assert transport.written.endswith(b"content-length: 5\r\n\r\n"), "a held head is written before a close"
    assert transport.closed


def test_limits_from_the_command_line() -> None:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    limits = from_arguments(parser.parse_args(["--max-tenants", "5", "--head-timeout", "2.5"]))
    assert (limits.max_tenants, limits.head_timeout, limits.max_headers) == (
        5,
        2.5,
        DEFAULT_LIMITS.max_headers,
    )
    with pytest.raises(ValueError, match="--max-headers must be positive"):
        from_arguments(parser.parse_args(["--max-headers", "0"]))


def test_state_is_saved_and_restored_in_process(tmp_path: Path) -> None:
    first = create_app()
    emulator = first.state.emulator
    with httpx.Client(transport=EmulatorTransport(first), base_url="http://e") as client:
        key = client.post("/__mock__/contactship/keys", json={"key": "saved-key", "tenant": "s"})
        assert key.status_code == 201
        seed = {"records": [{"type": "outbound"}] * 3}
        seeded = client.post("/__mock__/contactship/seed", json=seed, headers={"x-api-key": "saved-key"})
        assert seeded.status_code == 200
        fault = client.post("/__mock__/contactship/faults", json={"delay": 0.01, "path": "/x"})
        assert fault.status_code == 201
    StateDir(tmp_path, emulator).save()
    assert b"saved-key" not in (tmp_path / STATE_FILE).read_bytes()
    (tmp_path / ".state-leftover").write_bytes(b"half a save")
    second = create_app()
    assert StateDir(tmp_path, second.state.emulator).restore()
    assert not (tmp_path / ".state-leftover").exists(), "a killed save's temporary file is removed"
    with httpx.Client(transport=EmulatorTransport(second), base_url="http://e") as client:
        listed = client.get("/contactship/v1/phone-numbers", headers={"x-api-key": "saved-key"}).json()
    assert listed["count"] == 3
    assert [rule.path for rule in second.state.emulator.apps["contactship"].faults.rules()] == ["/x"]


def test_no_saved_state_and_a_broken_one(tmp_path: Path) -> None:
    emulator = create_app().state.emulator
    assert not StateDir(tmp_path / "new", emulator).restore()
    write_atomically(tmp_path / STATE_FILE, b'{"vendors": {"contactship": {"datasets": [{}]}}}')
    with pytest.raises(ConfigurationError, match="cannot restore"):
        StateDir(tmp_path, emulator).restore()


def test_a_failed_save_is_logged_not_raised(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    state = StateDir(tmp_path / "missing" / "deeper", create_app().state.emulator)
    state.save()
    assert "could not save the state" in caplog.text
