"""The curl walk-through of docs/lifecycle.md does what its comments say, replayed against the emulator.

tests/unit/test_docs_examples.py replays only plain GETs; this block also POSTs, PUTs and DELETEs (the
purchase, the nickname, the release, the admin clock), so it is replayed here, step by step, with each
command's method, headers and body, against a fresh in-process emulator of the repository's data.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Iterator

import httpx
import pytest

from mockserver import EmulatorConfig, create_app
from mockserver.intercept.transport import EmulatorTransport
from tests.conftest import ROOT
from tests.unit.test_docs_examples import DOCUMENTED_BASE, Example, examples

PAGE = "docs/lifecycle.md"
NUMBER = "+49308074292"


def _block() -> Example:
    [block] = [example for example in examples() if example.page == PAGE and example.kind == "run"]
    return block


def _commands(code: str) -> list[list[str]]:
    """Each ``curl`` command of the block, as words (continuation lines joined, ``# comments`` dropped)."""
    joined = code.replace("\\\n", " ")
    return [shlex.split(line, comments=True) for line in joined.splitlines() if line.startswith("curl ")]


def _request(words: list[str]) -> tuple[str, str, dict[str, str], bytes]:
    """The method, path, headers and body of one ``curl -s [-X M] URL -H '...' [-d '...']`` command."""
    assert words[0] == "curl"
    method, url, headers, body = "GET", "", {}, b""
    rest = iter(words[1:])
    for word in rest:
        if word == "-X":
            method = next(rest)
        elif word == "-H":
            name, _, value = next(rest).partition(":")
            headers[name.strip()] = value.strip()
        elif word == "-d":
            body = next(rest).encode()
            method = "POST" if method == "GET" else method
        elif word.startswith("http"):
            url = word
        else:
            assert word == "-s", f"an option this test does not replay: {word}"
    assert url.startswith(f"{DOCUMENTED_BASE}/"), url
    return method, url.removeprefix(DOCUMENTED_BASE), headers, body


@pytest.fixture
def served() -> Iterator[httpx.Client]:
    config = EmulatorConfig(schemas_dir=ROOT / "schemas", fixtures_dir=ROOT / "fixtures")
    transport = EmulatorTransport(create_app(config))
    with httpx.Client(transport=transport, base_url="http://emulator.test") as client:
        yield client


def test_the_walk_through_searches_buys_renames_releases_and_the_number_is_gone(served: httpx.Client) -> None:
    answers = []
    for words in _commands(_block().code):
        method, path, headers, body = _request(words)
        response = served.request(method, path, headers=headers, content=body)
        assert response.headers["content-type"].startswith("application/json"), path
        answers.append((method, path, response.status_code, json.loads(response.content)))
    steps = [(method, path.split("?")[0], status) for method, path, status, _ in answers]
    api = "/famulor/api/user/phone-numbers"
    assert steps == [
        ("GET", f"{api}/search", 200),
        ("POST", f"{api}/purchase", 201),
        ("PUT", f"{api}/31", 200),
        ("DELETE", f"{api}/31", 200),
        ("GET", f"{api}/all", 200),
        ("POST", "/__mock__/famulor/clock", 200),
        ("GET", f"{api}/all", 200),
    ]
    search, bought, renamed, released, listed, _, after = (body for *_, body in answers)
    assert search["data"][0]["phone_number"] == NUMBER
    assert bought["data"] == {
        "id": 31, "phone_number": NUMBER, "country_code": "DE", "type": "normal", "sms_capable": False,
    }  # fmt: skip
    assert renamed["data"]["nickname"] == "Sales line"
    assert "end of the billing period" in released["message"]
    [held] = [item for item in listed["data"] if item["id"] == 31]
    assert (held["nickname"], held["has_active_subscription"]) == ("Sales line", False)
    assert 31 not in [item["id"] for item in after["data"]]
