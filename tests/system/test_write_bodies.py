"""Write request bodies against the server the CLI starts: the 64 KiB limit holds over real HTTP.

A write's body is journaled (redacted, cut), in a shared journal too. A purchase with a 1 MB body gets
Famulor's 413 and buys nothing; a body far larger, streamed, is not held in memory (the reader keeps at
most 64 KiB + 1 of it); one that never arrives is cut off at ``--body-timeout``, as every request body is
by the guarded server protocol. Nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import orjson
import pytest

from tests.system.test_hostile_traffic import FAMULOR, JSON, Server, normal_ms, raw_request
from tests.system.test_shared_state import REDIS, Redis, serving

pytestmark = pytest.mark.xdist_group("heavy")

PURCHASE = "/famulor/api/user/phone-numbers/purchase"
TOO_LARGE = {"message": "Content Too Large"}


def _held(base: str) -> list[str]:
    listed = httpx.get(f"{base}/famulor/api/user/phone-numbers/all", headers=FAMULOR).json()["data"]
    return [item["phone_number"] for item in listed]


def test_a_purchase_with_a_1_mb_body_is_refused_and_buys_nothing(serve: Callable[..., Server]) -> None:
    server = serve()
    found = httpx.get(f"{server.base}/famulor/api/user/phone-numbers/search", headers=FAMULOR).json()
    number = found["data"][0]["phone_number"]
    body = orjson.dumps({"phone_number": number, "padding": "x" * 1_048_576})
    answered = httpx.post(f"{server.base}{PURCHASE}", content=body, headers={**FAMULOR, **JSON}, timeout=30)
    assert (answered.status_code, answered.json()) == (413, TOO_LARGE)
    assert number not in _held(server.base)
    entries = httpx.get(f"{server.base}/__mock__/famulor/journal").json()["entries"]
    [journaled] = [entry for entry in entries if entry["method"] == "POST"]
    assert journaled["status"] == 413
    assert len(journaled["body"]) < 5000, "the journal keeps 4 KiB of it"
    bought = httpx.post(f"{server.base}{PURCHASE}", json={"phone_number": number}, headers=FAMULOR)
    assert bought.status_code == 201, "the connection and the server are fine afterwards"


def test_a_huge_streamed_write_body_is_not_held_in_memory(serve: Callable[..., Server]) -> None:
    server = serve()
    before = server.rss_mb()
    chunk = b"x" * 1_048_576

    def body() -> Iterator[bytes]:
        yield b'{"nickname": "'
        for _ in range(200):
            yield chunk

    with contextlib.suppress(httpx.TransportError):  # the server may answer before all 200 MB are sent
        answered = httpx.put(
            f"{server.base}/famulor/api/user/phone-numbers/1", content=body(), headers={**FAMULOR, **JSON},
            timeout=60,
        )  # fmt: skip
        assert (answered.status_code, answered.json()) == (413, TOO_LARGE)
    after = server.rss_mb()
    assert after - before < 16, f"RSS {before:.1f} -> {after:.1f} MB: the body was held"
    listed = httpx.get(f"{server.base}/famulor/api/user/phone-numbers/all", headers=FAMULOR).json()
    assert listed["data"][0].get("nickname") != "x" * 10


def test_a_write_body_that_never_arrives_is_cut_off(serve: Callable[..., Server]) -> None:
    server = serve("--body-timeout", "1")
    head = (
        b"POST /famulor/api/user/phone-numbers/purchase HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"authorization: Bearer famulor-test-key\r\ncontent-type: application/json\r\n"
    )
    started = time.monotonic()
    answer = raw_request(
        server.port, head + b"content-length: 100\r\n\r\n" + b'{"phone_number": ', timeout=10
    )
    waited = time.monotonic() - started
    assert not answer.startswith(b"HTTP/1.1 2"), answer[:200]
    assert 0.8 < waited < 5, f"closed after {waited:.1f} s"
    assert normal_ms(server.base) < 50.0


@pytest.mark.skipif(REDIS is None, reason="redis-server not found (make test installs it)")
def test_the_shared_journal_shows_a_writes_body_to_every_server(tmp_path: Path) -> None:
    redis = Redis(tmp_path)
    redis.start()
    try:
        with serving("--state", redis.url) as (one, _), serving("--state", redis.url) as (two, _):
            sent = {"nickname": "Shared", "api_token": "tok-secret"}
            httpx.put(f"{one}/famulor/api/user/phone-numbers/1", json=sent, headers=FAMULOR)
            entries = httpx.get(f"{two}/__mock__/famulor/journal").json()["entries"]
            [written] = [entry for entry in entries if entry["method"] == "PUT"]
            assert orjson.loads(written["body"]) == {"nickname": "Shared", "api_token": "[redacted]"}
            assert "tok-secret" not in str(entries)
    finally:
        redis.stop()
