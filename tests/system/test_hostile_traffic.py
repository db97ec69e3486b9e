"""Hostile traffic against the server the CLI starts: one test per finding of issue 11.

Each test starts ``python -m mockserver serve`` on 127.0.0.1, measures its resident memory (VmRSS)
before and after an attack, and asserts a stated bound on the growth; where the finding was about other
clients, normal requests sent during and right after the attack must answer within 50 ms (median of
several, so that one scheduling hiccup on a shared machine does not decide). Nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import httpx
import pytest

from mockserver import EmulatorConfig, create_app
from mockserver.intercept.transport import EmulatorTransport
from mockserver.limits import DEFAULT_LIMITS
from tests.conftest import ROOT

pytestmark = pytest.mark.xdist_group("heavy")  # real servers under attack want a core of their own

BUTTER = {"X-API-Key": "bk_test_butter", "X-Organization-Id": "org_test"}
FAMULOR = {"Authorization": "Bearer famulor-test-key"}
CONTACTSHIP = {"x-api-key": "contactship-test-key"}
JSON = {"content-type": "application/json"}
NORMAL_MS = 50.0
UNMEASURED = {name: value for name, value in os.environ.items() if name != "COVERAGE_PROCESS_CONFIG"}


def report(line: str) -> None:
    """Keep a measurement (``HOSTILE_TRAFFIC_REPORT=path`` collects them for the README)."""
    path = os.environ.get("HOSTILE_TRAFFIC_REPORT")
    if path:
        with Path(path).open("a", encoding="utf-8") as handle:
            handle.write(line + "\n")


class Server:
    """A CLI server on a free loopback port: its process, base URL, port and output folder."""

    def __init__(self, folder: Path, *arguments: str) -> None:
        self.folder = folder
        quiet = [] if "--log-file" in arguments else ["--no-access-log"]
        with (folder / "stdout").open("wb") as stdout, (folder / "stderr").open("wb") as stderr:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "mockserver", "serve", "--port", "0", *quiet, *arguments],
                cwd=ROOT, stdout=stdout, stderr=stderr, env={**UNMEASURED, "PYTHONUNBUFFERED": "1"},
            )  # fmt: skip
        deadline = time.monotonic() + 20
        while (match := re.search(r"on http://127\.0\.0\.1:(\d+)", self.output())) is None:
            assert self.process.poll() is None, self.errors()
            assert time.monotonic() < deadline, self.errors()
            time.sleep(0.05)
        self.port = int(match.group(1))
        self.base = f"http://127.0.0.1:{self.port}"
        while True:
            with contextlib.suppress(httpx.TransportError):
                httpx.get(f"{self.base}/__mock__/health", timeout=2)
                break
            assert time.monotonic() < deadline, self.errors()
            time.sleep(0.05)

    def output(self) -> str:
        return (self.folder / "stdout").read_text()

    def errors(self) -> str:
        return (self.folder / "stderr").read_text()

    def rss_mb(self) -> float:
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        found = re.search(r"VmRSS:\s+(\d+)", status)
        assert found is not None
        return int(found.group(1)) / 1024

    def open_descriptors(self) -> int:
        return sum(1 for _ in Path(f"/proc/{self.process.pid}/fd").iterdir())

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def normal_ms(base: str, count: int = 7) -> float:
    """The median time of ``count`` ordinary authenticated requests, in milliseconds (each a 200)."""
    times = []
    with httpx.Client(base_url=base, timeout=10) as client:
        for _ in range(count):
            started = time.perf_counter()
            response = client.get("/famulor/api/user/phone-numbers/all", headers=FAMULOR)
            times.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200
    return statistics.median(times)


def raw_request(port: int, data: bytes, timeout: float = 10) -> bytes:
    """Send raw bytes, read until the server closes (or answers completely); what came back."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        with contextlib.suppress(OSError):
            sock.sendall(data)
        received = b""
        with contextlib.suppress(OSError):
            while chunk := sock.recv(65536):
                received += chunk
                if b"\r\n\r\n" in received and _complete(received):
                    break
    return received


def _complete(received: bytes) -> bool:
    head, _, body = received.partition(b"\r\n\r\n")
    found = re.search(rb"content-length: (\d+)", head, re.IGNORECASE)
    return found is not None and len(body) >= int(found.group(1))


def in_parallel(senders: int, work: Callable[[], None]) -> Callable[[], None]:
    """Start ``work`` in ``senders`` threads; returns the join."""
    threads = [threading.Thread(target=work, daemon=True) for _ in range(senders)]
    for thread in threads:
        thread.start()

    def join() -> None:
        for thread in threads:
            thread.join(timeout=120)

    return join


# ---------------------------------------------------------------------------------------------- heads


def test_huge_headers_are_refused_with_431_in_the_vendors_shape_and_memory_stays_flat(
    serve: Callable[..., Server],
) -> None:
    """Was: an 8 MB header accepted; 1,000 unauthenticated 500 KB-header requests: 76 -> 543 MB."""
    server = serve()
    request = b"GET /butter/api/phone-numbers HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + b"a" * 500_000
    request += b"\r\n\r\n"
    first = raw_request(server.port, request)
    assert first.startswith(b"HTTP/1.1 431 "), first[:200]
    assert b'"code":"header_too_large"' in first, "Butter's own error shape"
    before = server.rss_mb()

    def attack() -> None:
        for _ in range(100):
            assert raw_request(server.port, request).startswith(b"HTTP/1.1 431 ")

    join = in_parallel(3, attack)
    during = normal_ms(server.base)
    join()
    after, right_after = server.rss_mb(), normal_ms(server.base)
    report(
        f"500 KB headers x300: RSS {before:.1f} -> {after:.1f} MB; normal {during:.1f} / {right_after:.1f} ms"
    )
    assert after - before < 15, "memory bound: +15 MB"
    assert during < NORMAL_MS
    assert right_after < NORMAL_MS


def test_many_small_headers_are_journaled_compactly_and_memory_stays_flat(
    serve: Callable[..., Server],
) -> None:
    """Was: three senders of requests with very many small headers: 1.28 GB in 8 s, normal at 360 ms."""
    server = serve()
    too_many = b"".join(b"X-H%d: v\r\n" % number for number in range(5000))
    refused = raw_request(
        server.port, b"GET /famulor/api/user/phone-numbers/all HTTP/1.1\r\n" + too_many + b"\r\n"
    )
    assert refused.startswith(b"HTTP/1.1 431 ")
    assert b"Request Header Fields Too Large" in refused
    # just under the caps: 90 headers of 1 KB, accepted (401 without a key), journaled in compact form
    headers = {f"x-h{number}": "v" * 1024 for number in range(90)}
    with httpx.Client(base_url=server.base) as client:
        for _ in range(200):  # warm-up: the journal of unauthenticated requests fills to its budget
            client.get("/famulor/api/user/phone-numbers/all", headers=headers)
    before = server.rss_mb()

    def attack() -> None:
        with httpx.Client(base_url=server.base) as client:
            for _ in range(400):
                assert client.get("/famulor/api/user/phone-numbers/all", headers=headers).status_code == 401

    join = in_parallel(3, attack)
    during = normal_ms(server.base)
    join()
    after, right_after = server.rss_mb(), normal_ms(server.base)
    report(
        f"90 x 1 KB headers x1200: RSS {before:.1f} -> {after:.1f} MB;"
        f" normal {during:.1f} / {right_after:.1f} ms"
    )
    assert after - before < 10, "memory bound: +10 MB"
    assert during < NORMAL_MS
    assert right_after < NORMAL_MS
    entries = httpx.get(f"{server.base}/__mock__/famulor/journal", params={"tenant": "*"}).json()["entries"]
    assert entries
    assert all(entry["headers"] == {} for entry in entries if entry["tenant"] is None)


def test_a_request_line_beyond_the_limit_is_a_414(serve: Callable[..., Server]) -> None:
    server = serve("--max-request-line", "4096")
    answer = raw_request(
        server.port, b"GET /contactship/v1/phone-numbers?x=" + b"a" * 8000 + b" HTTP/1.1\r\n\r\n"
    )
    assert answer.startswith(b"HTTP/1.1 414 "), answer[:300]
    assert b'"statusCode":414' in answer, "Contactship's (NestJS) shape"


# ----------------------------------------------------------------------------------------- the cache


def test_ignored_parameters_do_not_grow_the_answer_cache(serve: Callable[..., Server]) -> None:
    """Was: 500 distinct ``limit=1000000&u=N`` queries over 5,000 records added 464 MB."""
    server = serve()
    seeded = httpx.post(
        f"{server.base}/__mock__/contactship/seed", json={"records": [{"type": "inbound"}] * 5000}, timeout=60
    )
    assert seeded.status_code == 200, seeded.text
    with httpx.Client(base_url=server.base, headers=CONTACTSHIP, timeout=30) as client:
        assert len(client.get("/contactship/v1/phone-numbers?limit=1000000").json()["data"]) == 5000
        before = server.rss_mb()
        for number in range(500):
            assert client.get(f"/contactship/v1/phone-numbers?limit=1000000&u={number}").status_code == 200
    after = server.rss_mb()
    report(f"500 ignored-parameter queries, 5,000 records: RSS {before:.1f} -> {after:.1f} MB")
    assert after - before < 20, "memory bound: +20 MB (one cached answer is about 3 MB)"


def test_the_answer_cache_is_bounded_in_bytes(serve: Callable[..., Server]) -> None:
    """Distinct queries the endpoint does read (offsets) fill the cache only up to its byte budget."""
    server = serve("--answer-cache-bytes", str(8 * 1024 * 1024))
    httpx.post(
        f"{server.base}/__mock__/contactship/seed", json={"records": [{"type": "inbound"}] * 5000}, timeout=60
    )
    with httpx.Client(base_url=server.base, headers=CONTACTSHIP, timeout=30) as client:
        for offset in range(10):  # warm-up: the cache fills to its 8 MB
            client.get(f"/contactship/v1/phone-numbers?limit=1000000&offset={offset}")
        before = server.rss_mb()
        for offset in range(10, 210):
            assert (
                client.get(f"/contactship/v1/phone-numbers?limit=1000000&offset={offset}").status_code == 200
            )
    after = server.rss_mb()
    report(f"200 distinct 3 MB answers, 8 MB cache: RSS {before:.1f} -> {after:.1f} MB")
    assert after - before < 25, "memory bound: +25 MB (the cache's 8 MB, plus allocator slack)"


def test_the_cache_key_is_the_parameters_an_endpoint_reads() -> None:
    app = create_app()
    emulator = app.state.emulator
    with httpx.Client(transport=EmulatorTransport(app), base_url="http://e", headers=CONTACTSHIP) as client:
        for query in ("limit=2", "limit=2&u=1", "u=2&limit=2", "limit=2&%75=3", "limit=2&u+v=4"):
            assert client.get(f"/contactship/v1/phone-numbers?{query}").status_code == 200
        entries = len(emulator.apps["contactship"].cache)
        assert entries <= 2, "one entry per way of writing limit=2 (raw or decoded), none per ignored name"
        client.get("/contactship/v1/phone-numbers?limit=3")
        assert len(emulator.apps["contactship"].cache) == entries + 1, "a parameter it reads does count"


def test_the_journal_is_bounded_in_bytes() -> None:
    limits = replace(DEFAULT_LIMITS, journal_bytes=200_000, journal_total_bytes=300_000)
    app = create_app(EmulatorConfig(limits=limits))
    journal = app.state.emulator.journal
    headers = {f"x-h{number}": "v" * 5000 for number in range(50)}
    with httpx.Client(transport=EmulatorTransport(app), base_url="http://e") as client:
        for tenant_headers in (FAMULOR, CONTACTSHIP, {}):
            for _ in range(300):
                client.get("/famulor/api/user/phone-numbers/all", headers={**headers, **tenant_headers})
                client.get("/contactship/v1/phone-numbers", headers={**headers, **tenant_headers})
    assert journal.stored_bytes <= 300_000
    kept = journal.entries("famulor", "default")
    assert kept, "the newest entries are kept"
    assert all(len(value) <= 256 + len("...[cut]") for entry in kept for _, value in entry.headers)
    assert all(entry.headers == () for entry in journal.entries() if entry.tenant is None)


# ---------------------------------------------------------------------------------------------- bodies


def test_a_chunked_body_is_refused_at_the_limit_without_being_read_whole(
    serve: Callable[..., Server],
) -> None:
    """Was: a 400 MB chunked body was buffered, then 413."""
    server = serve()
    before = server.rss_mb()
    chunk = b"a" * 1_048_576

    def body() -> Iterator[bytes]:
        for _ in range(400):
            yield chunk

    with contextlib.suppress(httpx.TransportError):  # the server may close before all 400 MB are sent
        response = httpx.post(f"{server.base}/__mock__/butter/seed", content=body(), headers=JSON, timeout=60)
        assert response.status_code == 413
        assert response.json()["error"] == "body_too_large"
    after = server.rss_mb()
    report(f"400 MB chunked body: RSS {before:.1f} -> {after:.1f} MB")
    assert after - before < 40, "memory bound: +40 MB (the 16 MB limit, read once)"
    assert httpx.get(f"{server.base}/butter/api/phone-numbers", headers=BUTTER).status_code == 200


def test_a_seed_of_many_empty_records_is_refused_before_it_expands(serve: Callable[..., Server]) -> None:
    """Was: an 800 KB seed body of 200,000 empty records was accepted and grew to about 1 GB."""
    server = serve()
    before = server.rss_mb()
    body = b'{"records": [' + b",".join([b"{}"] * 200_000) + b"]}"
    response = httpx.post(f"{server.base}/__mock__/butter/seed", content=body, headers=JSON, timeout=60)
    assert (response.status_code, response.json()["error"]) == (413, "too_many_records")
    over = httpx.post(
        f"{server.base}/__mock__/butter/seed", json={"records": [{}] * 10_001}, headers=JSON, timeout=60
    )
    assert over.status_code == 413
    assert "--max-records-per-seed" in over.json()["message"]
    after = server.rss_mb()
    report(f"200,000 empty records: RSS {before:.1f} -> {after:.1f} MB")
    assert after - before < 30, "memory bound: +30 MB"


def test_records_per_tenant_and_in_all_are_capped(serve: Callable[..., Server]) -> None:
    server = serve("--max-records-per-tenant", "300", "--max-records-total", "500")
    seed = f"{server.base}/__mock__/butter/seed"
    assert httpx.post(seed, json={"records": [{}] * 300}).status_code == 200
    extended = httpx.post(seed, json={"records": [{}], "mode": "extend"})
    assert extended.status_code == 413
    assert "--max-records-per-tenant" in extended.json()["message"]
    key = httpx.post(f"{server.base}/__mock__/butter/keys", json={"key": "job-b-key", "tenant": "org_b"})
    assert key.status_code == 201
    other = {"X-API-Key": "job-b-key", "X-Organization-Id": "org_b"}
    total = httpx.post(seed, json={"records": [{}] * 201}, headers=other)
    assert total.status_code == 413
    assert "--max-records-total" in total.json()["message"]


# ------------------------------------------------------------------------------------------ slowloris


def test_slow_and_idle_connections_neither_hold_descriptors_nor_lock_out_clients(
    serve: Callable[..., Server],
) -> None:
    """Was: connections sending headers slowly were never timed out; ~20,000 reached the fd limit."""
    server = serve("--max-connections", "300", "--head-timeout", "2")
    baseline = server.open_descriptors()
    sockets: list[socket.socket] = []
    for number in range(1500):  # five times the cap: half-sent heads and silent connections
        with contextlib.suppress(OSError):
            sock = socket.create_connection(("127.0.0.1", server.port), timeout=5)
            if number % 2:
                sock.sendall(b"GET /famulor/api/user/phone-numbers/all HTTP/1.1\r\nX-Slow: ")
            sockets.append(sock)
    try:
        during = normal_ms(server.base)
        held = server.open_descriptors() - baseline
        time.sleep(3)  # past the head timeout: every slow connection is closed by the server
        after = server.open_descriptors() - baseline
        right_after = normal_ms(server.base)
    finally:
        for sock in sockets:
            sock.close()
    report(
        f"1,500 slow connections: {held} fds held (cap 300), {after} after 3 s;"
        f" normal {during:.1f} / {right_after:.1f} ms"
    )
    assert held <= 300 + 20, "never more than the connection cap"
    assert after <= 20, "slow connections are cut at the head timeout"
    assert during < NORMAL_MS
    assert right_after < NORMAL_MS


def test_a_body_that_never_arrives_is_cut_off(serve: Callable[..., Server]) -> None:
    server = serve("--body-timeout", "1")
    head = b"POST /__mock__/butter/seed HTTP/1.1\r\nHost: 127.0.0.1\r\ncontent-type: application/json\r\n"
    started = time.monotonic()
    answer = raw_request(server.port, head + b"content-length: 100\r\n\r\n" + b'{"records": [', timeout=10)
    waited = time.monotonic() - started
    assert not answer.startswith(b"HTTP/1.1 2"), answer[:200]
    assert 0.8 < waited < 5, f"closed after {waited:.1f} s"
    assert normal_ms(server.base) < NORMAL_MS


# -------------------------------------------------------------------------------------------- tenants


def test_the_admin_api_does_not_cross_tenants(serve: Callable[..., Server]) -> None:
    """Was: anyone could take another tenant's keys, read every journal, fault and reset everyone."""
    server = serve()
    admin = f"{server.base}/__mock__/contactship"
    assert httpx.post(f"{admin}/keys", json={"key": "job-a", "tenant": "a"}).status_code == 201
    job_a = {"x-api-key": "job-a"}
    assert httpx.get(f"{server.base}/contactship/v1/phone-numbers", headers=job_a).status_code == 200
    joined = httpx.post(f"{admin}/keys", json={"key": "intruder", "tenant": "a"})
    assert (joined.status_code, joined.json()["error"]) == (403, "tenant_scope"), "into another tenant"
    rebound = httpx.post(f"{admin}/keys", json={"key": "job-a", "tenant": "b"})
    assert (rebound.status_code, rebound.json()["error"]) == (409, "key_conflict"), "another tenant's key"
    remapped = httpx.post(f"{admin}/keys", json={"key": "contactship-test-key", "tenant": "b"})
    assert (remapped.status_code, remapped.json()["error"]) == (409, "key_conflict"), "the test key"
    read = httpx.get(f"{admin}/journal", params={"tenant": "a"})
    assert read.status_code == 403, "another tenant's journal"
    everyone = httpx.get(f"{admin}/journal", params={"tenant": "*"})
    assert everyone.status_code == 403, "every tenant's journal, without the admin token"
    own = httpx.get(f"{admin}/journal", headers=job_a).json()["entries"]
    assert [entry["tenant"] for entry in own] == ["a"], "a tenant reads its own journal"
    fault_all = httpx.post(f"{admin}/faults", json={"status": 503, "tenant": "*"})
    assert fault_all.status_code == 403, "a fault for every tenant"
    fault = httpx.post(f"{admin}/faults", json={"status": 503})  # the caller's (test) tenant only
    assert fault.json()["tenant"] == "default"
    assert httpx.get(f"{server.base}/contactship/v1/phone-numbers", headers=job_a).status_code == 200
    reset = httpx.post(f"{server.base}/__mock__/reset")
    assert (reset.status_code, reset.json()["error"]) == (403, "admin_token_required")
    revoked = httpx.post(f"{admin}/revoke", json={"key": "job-a"})
    assert revoked.status_code == 403, "another tenant's key cannot be revoked"
    assert httpx.post(f"{admin}/revoke", json={"key": "job-a"}, headers=job_a).json() == {"revoked": True}
    assert httpx.post(f"{server.base}/__mock__/reset").status_code == 200, "no tenants left: open again"


def test_with_the_admin_token_global_operations_work(serve: Callable[..., Server]) -> None:
    server = serve("--admin-token", "t0ken-for-tests")
    token = {"X-Mock-Admin-Token": "t0ken-for-tests"}
    admin = f"{server.base}/__mock__/contactship"
    assert httpx.post(f"{admin}/keys", json={"key": "job-a", "tenant": "a"}, headers=token).status_code == 201
    assert (
        httpx.post(f"{admin}/faults", json={"status": 503, "tenant": "*"}, headers=token).status_code == 201
    )
    assert (
        httpx.get(f"{server.base}/contactship/v1/phone-numbers", headers={"x-api-key": "job-a"}).status_code
        == 503
    )
    assert httpx.post(f"{server.base}/__mock__/reset", headers=token).status_code == 200


def test_freeing_a_tenant_frees_its_memory(serve: Callable[..., Server]) -> None:
    """Was: a revoked key's data stayed until a full reset; 3,800 tenants in a soak: 46 -> 156 MB."""
    server = serve()
    admin = f"{server.base}/__mock__/contactship"

    def churn(rounds: int) -> None:
        with httpx.Client(base_url=server.base, timeout=30) as client:
            for number in range(rounds):
                key = f"churn-{number}"
                registered = client.post("/__mock__/contactship/keys", json={"key": key})
                assert registered.status_code == 201
                job = {"x-api-key": key}
                seed = {"records": [{"type": "inbound"}] * 200, "tenant": registered.json()["tenant"]}
                seeded = client.post("/__mock__/contactship/seed", json=seed, headers=job)
                assert seeded.status_code == 200
                assert seeded.json()["tenant"] == registered.json()["tenant"]
                for offset in range(3):
                    client.get(f"/contactship/v1/phone-numbers?offset={offset}", headers=job)
                assert (
                    client.post("/__mock__/contactship/revoke", json={"key": key}, headers=job).status_code
                    == 200
                )

    fixture_records = httpx.get(f"{server.base}/contactship/v1/phone-numbers", headers=CONTACTSHIP).json()[
        "count"
    ]
    churn(100)  # warm-up
    before = server.rss_mb()
    churn(400)
    after = server.rss_mb()
    report(f"400 tenants churned: RSS {before:.1f} -> {after:.1f} MB")
    assert after - before < 8, "memory bound: +8 MB over 400 tenants"
    again = httpx.post(f"{admin}/keys", json={"key": "churn-7"})  # the same key: the same tenant name
    assert again.status_code == 201
    listed = httpx.get(f"{server.base}/contactship/v1/phone-numbers", headers={"x-api-key": "churn-7"})
    assert listed.json()["count"] == fixture_records, "its seeded records went with the revoked key"
    assert httpx.post(f"{admin}/revoke", json={"key": "churn-7"}, headers={"x-api-key": "churn-7"}).json()
    assert httpx.post(f"{server.base}/__mock__/reset").status_code == 200, "no tenant is left behind"
    assert httpx.get(f"{admin}/journal", params={"tenant": "*"}).status_code == 200


def test_the_tenant_cap(serve: Callable[..., Server]) -> None:
    server = serve("--max-tenants", "3")
    keys = f"{server.base}/__mock__/famulor/keys"
    assert [httpx.post(keys, json={"key": f"k{n}"}).status_code for n in range(3)] == [201] * 3
    over = httpx.post(keys, json={"key": "k3"})
    assert over.status_code == 429
    assert "--max-tenants" in over.json()["message"]


def test_keys_and_fault_rules_are_capped_too() -> None:
    """Keys into one's own tenant and fault rules were other lists without a bound."""
    limits = replace(DEFAULT_LIMITS, max_keys=4, max_faults=2)
    app = create_app(EmulatorConfig(limits=limits))
    with httpx.Client(transport=EmulatorTransport(app), base_url="http://e") as client:
        builtin = len(app.state.emulator.apps["famulor"].tenancy.authenticator.snapshot())
        statuses = [
            client.post("/__mock__/famulor/keys", json={"key": f"k{n}"}).status_code
            for n in range(5 - builtin)
        ]
        assert statuses == [201] * (4 - builtin) + [429]
        over = client.post("/__mock__/famulor/keys", json={"key": "one-more"})
        assert (over.status_code, over.json()["error"]) == (429, "too_many_keys")
        faults = [client.post("/__mock__/famulor/faults", json={"delay": 0.01}).status_code for _ in range(3)]
        assert faults == [201, 201, 429]


# ------------------------------------------------------------------------------------------ cross-site


def test_browsers_cannot_drive_the_admin_api(serve: Callable[..., Server]) -> None:
    """Was: a text/plain POST from any Origin and any Host was accepted (CSRF, DNS rebinding)."""
    server = serve()
    simple = httpx.post(
        f"{server.base}/__mock__/reset", content=b"{}", headers={"content-type": "text/plain"}
    )
    assert (simple.status_code, simple.json()["error"]) == (415, "unsupported_media_type")
    foreign = httpx.post(f"{server.base}/__mock__/reset", headers={"origin": "https://evil.example"})
    assert foreign.status_code == 403
    rebound = httpx.get(f"{server.base}/__mock__/butter/journal", headers={"host": "evil.example:8080"})
    assert rebound.status_code == 421
    vendor = httpx.get(f"{server.base}/butter/api/phone-numbers", headers={**BUTTER, "host": "evil.example"})
    assert vendor.status_code == 421
    assert vendor.json()["error"]["code"] == "misdirected", "Butter's shape"
    local = httpx.post(f"{server.base}/__mock__/reset", headers={"origin": "http://localhost:3000"})
    assert local.status_code == 200, "a page on loopback (the developer's own) may"
    document = httpx.get(f"{server.base}/butter/openapi.json").json()
    assert document["servers"][0]["url"] == f"{server.base}/butter"


def test_a_vendor_served_at_the_root_answers_its_own_hosts_wildcards_included(
    serve: Callable[..., Server],
) -> None:
    """Was: 421 to ``Host: acme.mindhunters.ai`` (a client pointed here through its hosts file), which
    the in-process mock accepted as ``*.mindhunters.ai``: one routing owner now decides for both."""
    server = serve("--vendor", "mindhunters")
    key = {"Authorization": "Bearer mindhunters-test-token"}
    url = f"{server.base}/api/v1/phone-numbers"
    ours = httpx.get(url, headers={**key, "host": "acme.mindhunters.ai"})
    assert ours.status_code == 200, ours.text
    direct = httpx.get(url, headers=key)
    assert ours.json() == direct.json(), "the vendor's own answer, as on 127.0.0.1"
    assert httpx.get(url, headers={**key, "host": "ACME.Mindhunters.ai.:443"}).status_code == 200
    for foreign in (
        "evil.example",
        "mindhunters.ai",
        "a.b.mindhunters.ai",
        "acme.mindhunters.ai.evil.example",
    ):
        refused = httpx.get(url, headers={**key, "host": foreign})
        assert refused.status_code == 421, foreign


def test_an_allowed_host_is_served() -> None:
    # in-process: the document never echoes a Host that is not a plain host[:port]
    with httpx.Client(transport=EmulatorTransport(create_app()), base_url="http://e") as client:
        document = client.get("/famulor/openapi.json", headers={"host": 'evil"/><script>'}).json()
    assert document["servers"][0]["url"] == "http://localhost/famulor"


def test_allowed_host_flag(serve: Callable[..., Server]) -> None:
    server = serve("--allowed-host", "emulator.internal")
    answer = httpx.get(f"{server.base}/butter/openapi.json", headers={"host": "emulator.internal:9"})
    assert answer.json()["servers"][0]["url"] == "http://emulator.internal:9/butter"


# -------------------------------------------------------------------------------------------- smaller


def test_huge_numbers_and_odd_filters_are_never_a_500(serve: Callable[..., Server]) -> None:
    """Was: ``Prefer`` with a 5,000-digit number gave a 500 and a traceback; ``?self=x`` a plain 500."""
    server = serve()
    huge = httpx.get(
        f"{server.base}/butter/api/phone-numbers", headers={**BUTTER, "prefer": "code=" + "9" * 5000}
    )
    assert huge.status_code == 200, "an out-of-range code is ignored, as Prism does"
    journal = httpx.get(f"{server.base}/__mock__/butter/journal", params={"self": "x"})
    assert journal.status_code == 200
    assert journal.json() == {"entries": []}
    # the serve fixture asserts at the end that no traceback reached the log


def test_the_access_log_is_rotated(serve: Callable[..., Server], tmp_path: Path) -> None:
    """Was: the access log was never rotated."""
    log = tmp_path / "access.log"
    server = serve("--log-file", str(log), "--log-max-bytes", "20000", "--log-backups", "2")
    with httpx.Client(base_url=server.base) as client:
        for _ in range(1000):
            client.get("/famulor/api/user/phone-numbers/all?api_key=secret-in-query", headers=FAMULOR)
    server.stop()
    files = sorted(tmp_path.glob("access.log*"))
    assert [path.name for path in files] == ["access.log", "access.log.1", "access.log.2"]
    assert all(path.stat().st_size <= 20000 for path in files)
    text = "".join(path.read_text() for path in files)
    assert "GET /famulor/api/user/phone-numbers/all" in text
    assert "secret-in-query" not in text


# ------------------------------------------------------------------------------------------ persistence


def test_state_survives_a_restart_and_kill_9_leaves_the_previous_good_state(
    serve: Callable[..., Server], tmp_path: Path
) -> None:
    """Was: nothing survived a restart."""
    state = tmp_path / "state"
    server = serve("--state-dir", str(state))
    admin = f"{server.base}/__mock__/contactship"
    assert httpx.post(f"{admin}/keys", json={"key": "job-p", "tenant": "p"}).status_code == 201
    job = {"x-api-key": "job-p"}
    stop = threading.Event()
    sizes: list[int] = []

    def write_loop() -> None:
        with httpx.Client(base_url=server.base, timeout=30) as client:
            size = 1
            while not stop.is_set():
                with contextlib.suppress(httpx.TransportError):
                    answer = client.post(
                        "/__mock__/contactship/seed",
                        json={"records": [{"type": "inbound"}] * size},
                        headers=job,
                    )
                    if answer.status_code == 200:
                        sizes.append(size)
                size = size % 400 + 1

    writer = threading.Thread(target=write_loop, daemon=True)
    writer.start()
    time.sleep(2.0)
    server.process.send_signal(signal.SIGKILL)  # mid-write: the loop never waits between seeds
    server.process.wait()
    stop.set()
    writer.join(timeout=30)
    assert sizes, "some seeds were saved before the kill"
    restarted = serve("--state-dir", str(state))
    assert "restored the state" in restarted.output()
    listed = httpx.get(f"{restarted.base}/contactship/v1/phone-numbers?limit=1000", headers=job)
    assert listed.status_code == 200, "the key survived (saved as a digest)"
    count = listed.json()["count"]
    assert count in (sizes[-1], sizes[-1] % 400 + 1), (count, sizes[-3:])  # acknowledged, or in flight
    assert all(record["type"] == "inbound" for record in listed.json()["data"])
    assert "job-p" not in (state / "state.json").read_text(), "keys are never written"
