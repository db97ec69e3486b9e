"""The request log of ``serve``: one compact line per request (text or JSON), written in batches."""

from __future__ import annotations

import io
import json
import os
import re
import signal
import subprocess
import sys

import anyio
import httpx
import pytest
from starlette.applications import Starlette

from mockserver.serving.accesslog import FLUSH_LINES, FLUSH_SECONDS, AccessLog, _Clock, text_line
from mockserver.serving.app import create_app
from mockserver.state.journal import redacted_target
from tests.conftest import ROOT, data_config, wait_until_serving

BUTTER = {"X-API-Key": "bk_test_butter", "X-Organization-Id": "org_test"}
TEXT_LINE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ 127\.0\.0\.1 (GET|POST) (\S+) (\d{3}) \d+\.\d\dms$")


async def _requests(stream: io.BytesIO, log_format: str) -> AccessLog:
    logged = AccessLog(create_app(data_config()), log_format, stream)  # its own app: logging is set on it
    transport = httpx.ASGITransport(app=logged, client=("127.0.0.1", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://e") as client:
        await client.get("/butter/api/phone-numbers", headers=BUTTER, params={"page_size": 2})
        await client.get("/butter/api/phone-numbers", params={"api_key": "bk_in_the_query"})
        await client.get("/__mock__/health")
    logged.writer.flush()
    return logged


@pytest.mark.anyio
async def test_a_text_line_per_request_with_its_status_and_no_secret() -> None:
    stream = io.BytesIO()
    await _requests(stream, "text")
    lines = stream.getvalue().decode().splitlines()
    parsed = [TEXT_LINE.match(line) for line in lines]
    assert all(parsed), lines
    assert [(m.group(2), m.group(3)) for m in parsed if m] == [
        ("/butter/api/phone-numbers?page_size=2", "200"),
        ("/butter/api/phone-numbers?api_key=%5Bredacted%5D", "401"),
        ("/__mock__/health", "200"),
    ]
    assert "bk_test_butter" not in stream.getvalue().decode(), "headers are never logged"
    assert "bk_in_the_query" not in stream.getvalue().decode()


@pytest.mark.anyio
async def test_json_lines() -> None:
    stream = io.BytesIO()
    await _requests(stream, "json")
    entries = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [(e["method"], e["target"], e["status"]) for e in entries] == [
        ("GET", "/butter/api/phone-numbers?page_size=2", 200),
        ("GET", "/butter/api/phone-numbers?api_key=%5Bredacted%5D", 401),
        ("GET", "/__mock__/health", 200),
    ]
    assert all(e["client"] == "127.0.0.1" and e["ms"] >= 0 for e in entries)


@pytest.mark.anyio
async def test_lines_are_written_in_batches_and_bounded() -> None:
    stream = io.BytesIO()
    logged = AccessLog(Starlette(), "text", stream)
    for _ in range(FLUSH_LINES - 1):
        logged.writer.add(b"x\n")
    assert stream.getvalue() == b"", "nothing written per request"
    logged.writer.add(b"x\n")
    assert stream.getvalue().count(b"\n") == FLUSH_LINES, "a full buffer is written at once"
    logged.writer.add(b"y\n")
    await anyio.sleep(FLUSH_SECONDS * 2)
    assert stream.getvalue().endswith(b"x\ny\n"), "and the rest within FLUSH_SECONDS"


def test_without_an_event_loop_a_line_is_written_at_once() -> None:
    stream = io.BytesIO()
    AccessLog(Starlette(), "json", stream).writer.add(b"z\n")
    assert stream.getvalue() == b"z\n"
    with pytest.raises(ValueError, match="log format"):
        AccessLog(Starlette(), "off", stream)


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_serve_logs_each_request_on_its_default_command_line(log_format: str) -> None:
    options = [] if log_format == "text" else ["--log-format", "json"]
    process = subprocess.Popen(
        [sys.executable, "-m", "mockserver", "serve", "--port", "0", *options],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip
    assert process.stdout is not None
    match = re.search(r"on (http://127\.0\.0\.1:\d+)", process.stdout.readline())
    assert match
    base = match.group(1)
    wait_until_serving(base)
    for page_size in (1, 2):
        assert (
            httpx.get(f"{base}/butter/api/phone-numbers?page_size={page_size}", headers=BUTTER).status_code
            == 200
        )
    process.send_signal(signal.SIGTERM)
    stdout, stderr = process.communicate(timeout=15)
    assert process.returncode == 0
    logged = [line for line in stdout.splitlines() if "/butter/api/phone-numbers" in line]
    if log_format == "text":
        assert [TEXT_LINE.match(line).group(2, 3) for line in logged] == [  # type: ignore[union-attr]
            ("/butter/api/phone-numbers?page_size=1", "200"),
            ("/butter/api/phone-numbers?page_size=2", "200"),
        ]
    else:
        assert [json.loads(line)["target"] for line in logged] == [
            "/butter/api/phone-numbers?page_size=1",
            "/butter/api/phone-numbers?page_size=2",
        ]
    assert '"GET /butter' not in stderr, "uvicorn's own access log is off"


@pytest.mark.parametrize(
    ("path", "query"),
    [
        ("/butter/api/phone-numbers", b""),
        ("/butter/api/phone-numbers", b"page_size=5&cursor=eyJrZXkiOjF9"),
        ("/butter/api/phone-numbers", b"api_key=bk_secret&page_size=5"),
        ("/butter/a?b", b"token=t&x=1"),  # an escaped "?" in the path
        ("/butter/caf\u00e9", b"q=%C3%A9&\xe9=1"),
    ],
)
def test_the_logged_target_is_the_redacted_path_and_query_as_it_always_was(path: str, query: bytes) -> None:
    line = text_line({"path": path, "query_string": query, "method": "GET"}, 200, 0.001, _Clock())
    whole = f"{path}?{query.decode('latin-1')}" if query else path
    assert line.decode("utf-8").split(" ")[3] == redacted_target(whole)
    assert b"bk_secret" not in line
    assert b"token=t" not in line


def test_the_timestamp_changes_exactly_when_the_second_does(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = _Clock()
    for now, expected in [
        (1796659094.999, "2026-12-07T15:58:14Z"),
        (1796659095.0, "2026-12-07T15:58:15Z"),
        (1796659095.999, "2026-12-07T15:58:15Z"),
        (1796659096.0, "2026-12-07T15:58:16Z"),
        (1796659090.5, "2026-12-07T15:58:10Z"),  # the wall clock set back
    ]:
        monkeypatch.setattr("time.time", lambda now=now: now)
        assert clock.now() == expected
