"""``requests`` is answered at ``HTTPAdapter.send`` as a network would answer it, with no mocking library.

What a user of ``requests`` meets beyond a plain ``get``: streamed bodies, cookies and repeated headers,
redirects (followed or not), custom adapters and their retries, every method, file and generator bodies,
timeouts in every form requests takes, nested mocks, other hosts; and the import a session no longer pays.
"""

from __future__ import annotations

import datetime
import io
import os
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import requests
import urllib3
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from mockserver.engine.pipeline import Reply
from mockserver.testing import EmulatorMock, mock_vendors
from tests.conftest import ROOT

FAMULOR = "https://app.famulor.de/api/user/phone-numbers"
CONTACTSHIP = "https://api.contactship.ai/v1/phone-numbers"
BUTTER = "https://api.getbutter.ai/api/phone-numbers"


@pytest.fixture
def vendors() -> Iterator[EmulatorMock]:
    with mock_vendors() as mock:
        yield mock


def test_a_streamed_body_is_read_from_the_response_as_it_is_iterated(vendors: EmulatorMock) -> None:
    want = httpx.get(f"{FAMULOR}/all", headers=vendors.famulor.headers)
    response = requests.get(f"{FAMULOR}/all", headers=vendors.famulor.headers, stream=True)
    assert isinstance(response.raw, urllib3.HTTPResponse)
    assert response.raw.tell() == 0, "nothing is read before the body is iterated"
    chunks = list(response.iter_content(chunk_size=256))
    assert len(chunks) > 1
    assert all(len(chunk) <= 256 for chunk in chunks)
    assert b"".join(chunks) == want.content


def test_the_response_is_built_as_requests_builds_one(vendors: EmulatorMock) -> None:
    famulor = vendors.famulor
    url = f"{FAMULOR}/all?page=1"
    response = requests.get(url, headers=famulor.headers)
    assert (response.status_code, response.reason, response.ok) == (200, "OK", True)
    assert response.url == url
    assert response.request.url == url
    assert response.headers["Content-Type"] == "application/json"
    assert response.encoding == "utf-8"
    assert response.json() == httpx.get(url, headers=famulor.headers).json()
    assert isinstance(response.elapsed, datetime.timedelta)
    assert isinstance(response.connection, HTTPAdapter)
    refused = requests.get(f"{FAMULOR}/all")
    assert (refused.status_code, refused.reason) == (401, "Unauthorized")
    with pytest.raises(requests.HTTPError, match="401 Client Error: Unauthorized"):
        refused.raise_for_status()


def test_repeated_headers_and_set_cookie_reach_the_response_and_the_sessions_jar(
    vendors: EmulatorMock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A vendor that sets cookies (none of the four does today): requests reads them as from a socket."""
    app = vendors.butter.app
    headers = app.raw_headers

    def with_cookies(reply: Reply) -> list[tuple[bytes, bytes]]:
        cookies = [(b"set-cookie", b"session=abc; Path=/"), (b"set-cookie", b"region=eu; Path=/")]
        return [*headers(reply), *cookies]

    monkeypatch.setattr(app, "raw_headers", with_cookies)
    with requests.Session() as session:
        response = session.get(BUTTER, headers=vendors.butter.headers)
        assert response.cookies.get_dict() == {"session": "abc", "region": "eu"}
        assert session.cookies.get_dict() == {"session": "abc", "region": "eu"}
        assert response.headers["set-cookie"] == "session=abc; Path=/, region=eu; Path=/"
        assert response.raw.headers.getlist("set-cookie") == ["session=abc; Path=/", "region=eu; Path=/"]
        session.get(BUTTER, headers=vendors.butter.headers)
    first, second = (dict(call.headers) for call in vendors.butter.calls())
    assert ("cookie" in first, "cookie" in second) == (False, True), "the session sends its cookies back"


def test_a_redirect_is_followed_hop_by_hop_or_handed_back(vendors: EmulatorMock) -> None:
    famulor = vendors.famulor
    famulor.drift("transport.login-redirect", times=1, location=f"{FAMULOR}/all?page=2")
    response = requests.get(f"{FAMULOR}/all", headers=famulor.headers)
    assert response.status_code == 200
    assert [hop.status_code for hop in response.history] == [302]
    assert response.url == f"{FAMULOR}/all?page=2"
    assert len(famulor.calls()) == 2, "each hop is a request to the vendor"

    famulor.drift("transport.login-redirect", times=1, location="/login")
    held = requests.get(f"{FAMULOR}/all", headers=famulor.headers, allow_redirects=False)
    assert (held.status_code, held.is_redirect, held.headers["location"]) == (302, True, "/login")

    famulor.drift("transport.login-redirect", times=1, location="https://login.example.org/")
    with pytest.raises(requests.ConnectionError, match=r"refused login\.example\.org"):
        requests.get(f"{FAMULOR}/all", headers=famulor.headers)


class Counting(HTTPAdapter):
    """A custom adapter, as teams mount for retries: it overrides ``send`` and passes on by position."""

    sent = 0

    def send(  # noqa: PLR0917 - HTTPAdapter.send's signature
        self,
        request: requests.PreparedRequest,
        stream: Any = False,
        timeout: Any = None,
        verify: Any = True,
        cert: Any = None,
        proxies: Any = None,
    ) -> requests.Response:
        type(self).sent += 1
        return super().send(request, stream, timeout, verify, cert, proxies)


def test_a_custom_adapter_is_answered_and_its_retries_apply_as_urllib3_applies_them(
    vendors: EmulatorMock,
) -> None:
    contactship = vendors.contactship
    retry = Retry(total=2, status_forcelist=[503], backoff_factor=0)
    with requests.Session() as session:
        session.mount("https://", Counting(max_retries=retry))
        session.headers.update(contactship.headers)
        contactship.fail(503, times=1)
        assert session.get(CONTACTSHIP).status_code == 200
        assert len(contactship.calls()) == 2, "the 503, then the retry"
        contactship.fail(503, times=5)
        with pytest.raises(requests.exceptions.RetryError):
            session.get(CONTACTSHIP)
        assert len(contactship.calls()) == 5, "two more retries, then the adapter gives up"
        contactship.clear_faults()
        contactship.slow(5, times=1)
        started = time.monotonic()
        with pytest.raises(requests.exceptions.ReadTimeout):
            session.get(CONTACTSHIP, timeout=0.2)
        assert time.monotonic() - started < 3, "the timeout passed by position is the one waited"
    assert Counting.sent == 3, "once per session.get: the retries are the adapter's own"
    lenient = Retry(total=1, status_forcelist=[503], raise_on_status=False)
    contactship.fail(503, times=2)
    with requests.Session() as session:
        session.mount("https://", HTTPAdapter(max_retries=lenient))
        assert session.get(CONTACTSHIP, headers=contactship.headers).status_code == 503


def test_a_read_timeout_is_taken_from_every_form_requests_takes(vendors: EmulatorMock) -> None:
    famulor = vendors.famulor
    for timeout in (0.2, (5, 0.2), urllib3.Timeout(connect=5, read=0.2)):
        famulor.slow(5, times=1)
        started = time.monotonic()
        with pytest.raises(requests.exceptions.ReadTimeout):
            requests.get(f"{FAMULOR}/all", headers=famulor.headers, timeout=timeout)  # type: ignore[arg-type]
        assert time.monotonic() - started < 3, timeout


def test_every_method_reaches_the_engine(vendors: EmulatorMock) -> None:
    """As with httpx: the vendor answers a method it does not know (405), the network refuses nothing."""
    headers = vendors.famulor.headers
    want = httpx.request("PROPFIND", f"{FAMULOR}/all", headers=headers)
    got = requests.request("PROPFIND", f"{FAMULOR}/all", headers=headers)
    assert (got.status_code, got.content) == (want.status_code, want.content)


@pytest.mark.parametrize("kind", ["file", "generator"])
def test_a_file_or_generator_body_is_read_by_the_engine(vendors: EmulatorMock, kind: str) -> None:
    famulor = vendors.famulor
    number = requests.get(f"{FAMULOR}/search", headers=famulor.headers).json()["data"][0]["phone_number"]
    sent = b'{"phone_number": "%s"}' % number.encode()
    body = io.BytesIO(sent) if kind == "file" else iter([sent[:7], sent[7:]])
    headers = {**famulor.headers, "Content-Type": "application/json"}
    response = requests.post(f"{FAMULOR}/purchase", data=body, headers=headers)
    assert response.status_code == 201, response.text
    assert response.json()["data"]["phone_number"] == number


def test_other_hosts_are_refused_with_advice_or_reach_the_network_when_allowed(local_server: str) -> None:
    with mock_vendors("famulor"), pytest.raises(requests.ConnectionError) as refused:
        requests.get(local_server)
    assert "vendor-emulator refused 127.0.0.1: only the emulated vendors' hosts are answered" in str(
        refused.value
    )
    assert "other_hosts='allow'" in str(refused.value)
    with mock_vendors("famulor", other_hosts="allow") as mock:
        assert requests.get(local_server).content == b"hello"
        assert requests.get(f"{FAMULOR}/all", headers=mock.famulor.headers).status_code == 200


def test_nested_mocks_answer_innermost_first_and_unwind_in_any_order() -> None:
    original = vars(HTTPAdapter)["send"]
    outer = mock_vendors("contactship")
    inner = mock_vendors("butter")
    contactship, butter = outer.__enter__(), inner.__enter__()
    try:
        assert requests.get(BUTTER, headers=butter.butter.headers).status_code == 200
        with pytest.raises(requests.ConnectionError):
            requests.get(CONTACTSHIP, headers=contactship.contactship.headers)
        outer.__exit__(None, None, None)
        assert requests.get(BUTTER, headers=butter.butter.headers).status_code == 200, "the inner one goes on"
    finally:
        inner.__exit__(None, None, None)
    assert vars(HTTPAdapter)["send"] is original


# A session that uses the mocks with requests: what it imports.
IMPORTS = textwrap.dedent(
    """
    import sys
    import requests
    from mockserver.testing import mock_vendors
    before = set(sys.modules)
    with mock_vendors("contactship") as vendors:
        url = "https://api.contactship.ai/v1/phone-numbers"
        print(requests.get(url, headers=vendors.contactship.headers).status_code)
    print("\\n".join(sorted(set(sys.modules) - before)))
    """
)


def test_a_session_that_uses_the_mocks_with_requests_imports_no_mocking_library() -> None:
    """``responses`` (and the PyYAML it imports) cost a session about 35 ms: requests is answered without."""
    environment = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [sys.executable, "-c", IMPORTS],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    status, *loaded = result.stdout.split()
    assert status == "200"
    assert "mockserver.intercept.requests_kit" in loaded
    assert [name for name in loaded if name.split(".")[0] in ("responses", "yaml")] == []
