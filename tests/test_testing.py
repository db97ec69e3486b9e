"""mockserver.testing as a library: context manager, decorator, seeding from files, other hosts."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from mockserver.records import InvalidRecord
from mockserver.testing import CallsAssertionError, EmulatorMock, mock_vendors

CONTACTSHIP = "https://api.contactship.ai/v1/phone-numbers"
KEY = {"x-api-key": "contactship-test-key"}


class _Hello(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("content-length", "5")
        self.end_headers()
        self.wfile.write(b"hello")

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the stdlib's name
        """Quiet."""


@pytest.fixture
def local_server() -> Iterator[str]:
    """A real HTTP server on 127.0.0.1 (a host the emulator does not mock)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Hello)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


def test_other_hosts_pass_through_when_allowed(local_server: str) -> None:
    with mock_vendors("contactship", other_hosts="allow"):
        assert httpx.get(local_server).text == "hello"
        assert httpx.get(CONTACTSHIP, headers=KEY).status_code == 200


def test_the_decorator_form_mocks_for_the_duration_of_the_call() -> None:
    @mock_vendors("contactship")
    def fetch() -> int:
        return httpx.get(CONTACTSHIP, headers=KEY).status_code

    assert fetch() == 200


def test_seeding_from_a_fixture_file(tmp_path: Path) -> None:
    path = tmp_path / "numbers.json"
    path.write_text(json.dumps({"records": [{"type": "outbound"}, {"type": "inbound"}]}))
    with mock_vendors("contactship") as vendors:
        stored = vendors.contactship.seed(path)
        assert [record["type"] for record in stored] == ["outbound", "inbound"]
        assert httpx.get(CONTACTSHIP, headers=KEY).json()["count"] == 2


def test_an_invalid_seed_names_the_field_and_rule_and_changes_nothing() -> None:
    with mock_vendors("butter") as vendors:
        before = vendors.butter.records()
        with pytest.raises(
            InvalidRecord, match=r"record 1: /provider: 'vonage' is not one of \['twilio', 'sip'\]"
        ):
            vendors.butter.seed([{"status": "free"}, {"provider": "vonage"}])
        assert vendors.butter.records() == before


def test_extend_keeps_the_fixtures_and_adds_fresh_keys() -> None:
    with mock_vendors("famulor") as vendors:
        added = vendors.famulor.seed([{"type": "sip"}], dataset="phone-numbers", mode="extend")
        assert len(added) == 31
        assert added[-1]["id"] == 31


def test_a_failed_call_assertion_lists_what_was_received() -> None:
    with mock_vendors("contactship") as vendors:
        httpx.get(CONTACTSHIP, params={"type": "inbound"}, headers=KEY)
        with pytest.raises(
            CallsAssertionError, match=r"received \['GET /v1/phone-numbers\?type=inbound -> 200'\]"
        ):
            vendors.contactship.assert_called(type="outbound")


def test_unknown_vendors_are_named() -> None:
    with pytest.raises(KeyError, match="known"):
        EmulatorMock()["twilio"]
