"""``make soak``: minutes of mixed legitimate and hostile traffic, with tenant churn, against ``serve``.

Starts the CLI server on 127.0.0.1 with its default limits and runs, side by side:

- legitimate clients: list requests to every vendor, checked for a 200 (their latency is measured);
- tenant churn: register a key, seed 100 records with it, read them, revoke the key (its tenant is freed);
- hostile senders: 300 KB headers and 5,000-header requests (431), unknown-parameter queries over a large
  seed (one cached answer), 20 MB chunked admin bodies (413), cross-site admin writes (415/403/421), and
  slowloris connections that send half a head and wait.

Every ``--every`` seconds it prints requests so far, the error rate (legitimate requests that did not get
their expected status, or failed), p99 latency of legitimate requests in that interval, and the server's
resident memory; at the end, the growth after warm-up. ``--json PATH`` keeps the figures.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
BUTTER = {"X-API-Key": "bk_test_butter", "X-Organization-Id": "org_test"}
LEGITIMATE: list[tuple[str, dict[str, str]]] = [
    ("/famulor/api/user/phone-numbers/all", {"Authorization": "Bearer famulor-test-key"}),
    ("/butter/api/phone-numbers?status=assigned&page_size=7", BUTTER),
    ("/contactship/v1/phone-numbers?limit=3&offset=6", {"x-api-key": "contactship-test-key"}),
    ("/mindhunters/api/v1/phone-numbers?page=2", {"Authorization": "Bearer mindhunters-test-token"}),
]


@dataclass
class Tally:
    """Counts and latencies, shared by the traffic threads."""

    requests: int = 0
    errors: int = 0
    latencies: list[float] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, ok: bool, seconds: float | None = None) -> None:
        with self.lock:
            self.requests += 1
            self.errors += not ok
            if seconds is not None:
                self.latencies.append(seconds)

    def take_latencies(self) -> list[float]:
        with self.lock:
            taken, self.latencies = self.latencies, []
        return taken


def rss_mb(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    found = re.search(r"VmRSS:\s+(\d+)", status)
    return int(found.group(1)) / 1024 if found else 0.0


@contextlib.contextmanager
def server() -> Iterator[tuple[subprocess.Popen[bytes], str, int]]:
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "out"
        with out.open("wb") as handle:
            process = subprocess.Popen(
                [sys.executable, "-m", "mockserver", "serve", "--port", "0", "--no-access-log"],
                cwd=ROOT, stdout=handle, stderr=subprocess.STDOUT,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
            )  # fmt: skip
        try:
            deadline = time.monotonic() + 20
            while (match := re.search(r"on http://127\.0\.0\.1:(\d+)", out.read_text())) is None:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise SystemExit(out.read_text())
                time.sleep(0.05)
            port = int(match.group(1))
            time.sleep(0.5)
            yield process, f"http://127.0.0.1:{port}", port
        finally:
            process.terminate()
            process.wait(timeout=15)
            if "Traceback" in out.read_text():
                print(out.read_text()[-3000:], file=sys.stderr)
                raise SystemExit("the server logged a traceback")


def legitimate(base: str, tally: Tally, stop: threading.Event) -> None:
    with httpx.Client(base_url=base, timeout=10) as client:
        while not stop.is_set():
            for path, headers in LEGITIMATE:
                started = time.perf_counter()
                try:
                    ok = client.get(path, headers=headers).status_code == 200
                except httpx.TransportError:
                    ok = False
                tally.add(ok, time.perf_counter() - started)


def _tenant_round(client: httpx.Client, key: str) -> list[httpx.Response]:
    """One tenant's life: registered, seeded, read, revoked (which frees it)."""
    job = {"x-api-key": key}
    seed = {"records": [{"type": "inbound"}] * 100}
    return [
        client.post("/__mock__/contactship/keys", json={"key": key}),
        client.post("/__mock__/contactship/seed", json=seed, headers=job),
        client.get("/contactship/v1/phone-numbers?limit=100", headers=job),
        client.get("/__mock__/contactship/journal", headers=job),
        client.post("/__mock__/contactship/revoke", json={"key": key}, headers=job),
    ]


def churn(base: str, tally: Tally, stop: threading.Event) -> None:
    number = 0
    with httpx.Client(base_url=base, timeout=30) as client:
        while not stop.is_set():
            number += 1
            try:
                for answer in _tenant_round(client, f"soak-{number}"):
                    tally.add(answer.status_code < 300)
            except httpx.TransportError:
                tally.add(False)


def _raw(port: int, data: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        with contextlib.suppress(OSError):
            sock.sendall(data)
        with contextlib.suppress(OSError):
            return sock.recv(200)
    return b""


def hostile(base: str, port: int, tally: Tally, stop: threading.Event) -> None:
    big = (
        b"GET /butter/api/phone-numbers HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + b"a" * 300_000 + b"\r\n\r\n"
    )
    many = b"GET /famulor/api/user/phone-numbers/all HTTP/1.1\r\n"
    many += b"".join(b"X-H%d: v\r\n" % n for n in range(5000)) + b"\r\n"
    with httpx.Client(base_url=base, timeout=30) as client:
        number = 0
        while not stop.is_set():
            number += 1
            tally.add(_raw(port, big).startswith(b"HTTP/1.1 431"))
            tally.add(_raw(port, many).startswith(b"HTTP/1.1 431"))
            answer = client.get(
                f"/contactship/v1/phone-numbers?limit=1000000&u={number}",
                headers={"x-api-key": "contactship-test-key"},
            )
            tally.add(answer.status_code == 200)
            tally.add(
                client.post(
                    "/__mock__/reset", content=b"{}", headers={"content-type": "text/plain"}
                ).status_code
                == 415
            )
            tally.add(
                client.post("/__mock__/reset", headers={"origin": "https://evil.example"}).status_code == 403
            )
            tally.add(
                client.get("/__mock__/butter/journal", headers={"host": "evil.example"}).status_code == 421
            )
            if number % 20 == 0:
                chunks = (b"a" * 1_048_576 for _ in range(20))
                try:
                    status = client.post(
                        "/__mock__/butter/seed", content=chunks, headers={"content-type": "application/json"}
                    ).status_code
                except httpx.TransportError:
                    status = 413  # the server may close before all 20 MB are sent
                tally.add(status == 413)


def slowloris(port: int, stop: threading.Event) -> None:
    held: list[socket.socket] = []
    while not stop.is_set():
        for _ in range(50):
            with contextlib.suppress(OSError):
                sock = socket.create_connection(("127.0.0.1", port), timeout=5)
                sock.sendall(b"GET /famulor/api/user/phone-numbers/all HTTP/1.1\r\nX-Slow: ")
                held.append(sock)
        while len(held) > 2000:
            held.pop(0).close()
        time.sleep(0.5)
    for sock in held:
        sock.close()


def seed_large(base: str) -> None:
    answer = httpx.post(
        f"{base}/__mock__/contactship/seed", json={"records": [{"type": "inbound"}] * 5000}, timeout=60
    )
    answer.raise_for_status()


def p99_ms(latencies: list[float]) -> float:
    if len(latencies) < 2:
        return 0.0
    return statistics.quantiles(latencies, n=100)[98] * 1000


def run(seconds: float, every: float, warmup: float) -> dict[str, Any]:
    with server() as (process, base, port):
        seed_large(base)
        legit, other = Tally(), Tally()
        stop = threading.Event()
        workers = [
            *(threading.Thread(target=legitimate, args=(base, legit, stop)) for _ in range(4)),
            threading.Thread(target=churn, args=(base, other, stop)),
            threading.Thread(target=hostile, args=(base, port, other, stop)),
            threading.Thread(target=slowloris, args=(port, stop)),
        ]
        for worker in workers:
            worker.start()
        started, samples = time.monotonic(), list[dict[str, Any]]()
        print(f"{'t s':>6} {'requests':>9} {'error %':>8} {'p99 ms':>7} {'RSS MB':>7}")
        while (elapsed := time.monotonic() - started) < seconds:
            time.sleep(min(every, seconds - elapsed))
            requests, errors = legit.requests + other.requests, legit.errors + other.errors
            sample = {
                "t": round(time.monotonic() - started), "requests": requests,
                "error_rate": errors / requests if requests else 0.0,
                "p99_ms": p99_ms(legit.take_latencies()), "rss_mb": rss_mb(process.pid),
            }  # fmt: skip
            samples.append(sample)
            print(
                f"{sample['t']:>6} {requests:>9} {100 * sample['error_rate']:>8.3f} {sample['p99_ms']:>7.1f}"
                f" {sample['rss_mb']:>7.1f}",
                flush=True,
            )
        stop.set()
        for worker in workers:
            worker.join(timeout=60)
    warm = [sample for sample in samples if sample["t"] >= warmup] or samples
    summary: dict[str, Any] = {
        "seconds": seconds,
        "requests": samples[-1]["requests"],
        "legitimate_requests": legit.requests,
        "errors": legit.errors + other.errors,
        "error_rate": samples[-1]["error_rate"],
        "p99_ms_worst_interval": max(sample["p99_ms"] for sample in samples),
        "rss_mb_after_warmup": warm[0]["rss_mb"],
        "rss_mb_end": samples[-1]["rss_mb"],
        "rss_mb_max_after_warmup": max(sample["rss_mb"] for sample in warm),
        "samples": samples,
    }
    print(
        f"requests {summary['requests']}, errors {summary['errors']} ({100 * summary['error_rate']:.3f} %),"
        f" worst interval p99 {summary['p99_ms_worst_interval']:.1f} ms, RSS after warm-up"
        f" {summary['rss_mb_after_warmup']:.1f} MB -> end {summary['rss_mb_end']:.1f} MB"
        f" (max {summary['rss_mb_max_after_warmup']:.1f})"
    )
    return summary


def main() -> int:
    parser = argparse.ArgumentParser(description="mixed legitimate and hostile traffic, with tenant churn")
    parser.add_argument("--seconds", type=float, default=180, help="how long (default 180)")
    parser.add_argument("--every", type=float, default=15, help="seconds between samples (default 15)")
    parser.add_argument("--warmup", type=float, default=30, help="seconds before memory should be flat")
    parser.add_argument("--json", type=Path, help="also write the figures as JSON")
    arguments = parser.parse_args()
    summary = run(arguments.seconds, arguments.every, arguments.warmup)
    if arguments.json:
        arguments.json.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
