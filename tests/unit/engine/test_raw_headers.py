"""A reply's encoded headers, remembered for the last reply and per shape: always that reply's own."""

from __future__ import annotations

from mockserver.engine.pipeline import Reply
from mockserver.serving.app import create_app


def test_each_reply_gets_its_own_headers_whatever_came_before() -> None:
    butter = create_app().state.emulator.apps["butter"]
    short = Reply(200, b"{}")
    limited = Reply(429, b'{"e":1}', (("Retry-After", "60"),))
    empty = Reply(204, b"", (("allow", "GET"),))
    expected = {
        id(short): [(b"content-type", b"application/json"), (b"content-length", b"2")],
        id(limited): [
            (b"content-type", b"application/json"), (b"content-length", b"7"), (b"retry-after", b"60"),
        ],
        id(empty): [(b"allow", b"GET")],
    }  # fmt: skip
    for reply in (short, short, limited, short, empty, empty, limited, Reply(200, b"{}")):
        assert butter.raw_headers(reply) == expected.get(id(reply), expected[id(short)])
