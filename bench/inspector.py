"""The inspector's cost: vendor requests with the page closed and open, its weight and its journal delay.

    python bench/inspector.py [--seconds 5] [--rounds 3] [--connections 16] [--subscribers 1000]
    python bench/inspector.py --events-only      # the journal delay and idle subscribers only (no wrk)

Starts ``python -m mockserver serve`` (pinned to core 0, as ``bench/run.py`` does), then in interleaved
rounds runs ``wrk`` (core 1) against Butter's list endpoint with nobody looking ("closed") and with
the inspector open in headless Chromium ("open": the page polls the journal every 250 ms and the state
every 2 s, as it does for a developer). Prints requests/s and p50/p99 latency per state (medians of the
rounds; "polled" makes the page's requests without a browser, so that the browser's own CPU is not
counted), the bytes the page transfers on first load, and how long a request takes to appear in the
journal view over the page's server-sent events (median of ``--samples``), and what ``--subscribers``
idle event streams cost the server (its resident memory before and after they connect). Needs ``wrk``,
Debian's ``chromium`` and Playwright (the dev install); 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import shutil
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.run import BUTTER, PYTHON, ROOT, SERVER_CORE, free_port, wrk
from mockserver.state.journal import WATCH_SECONDS

PIDS: dict[str, int] = {}
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
PATH = "/butter/api/phone-numbers"


def resident_kb(pid: int) -> int:
    """The resident memory of a process, in kB (Linux)."""
    status = Path(f"/proc/{pid}/status").read_text(encoding="ascii")
    return int(next(line for line in status.splitlines() if line.startswith("VmRSS:")).split()[1])


def idle_subscribers(base: str, pid: int, count: int) -> tuple[int, int]:
    """Open ``count`` event streams that read nothing more; the server's RSS (kB) before and after."""
    host, port = base.removeprefix("http://").split(":")
    time.sleep(1)
    before = resident_kb(pid)
    streams: list[socket.socket] = []
    request = f"GET /__mock__/journal/events HTTP/1.1\r\nHost: {host}\r\nAccept: text/event-stream\r\n\r\n"
    try:
        for _ in range(count):
            stream = socket.create_connection((host, int(port)), timeout=10)
            stream.sendall(request.encode())
            first = stream.recv(4096)
            if b" 200 " not in first.split(b"\r\n", 1)[0]:
                raise RuntimeError(f"stream {len(streams)} refused: {first[:80]!r}")
            streams.append(stream)
        time.sleep(2)
        after = resident_kb(pid)
    finally:
        for stream in streams:
            stream.close()
    return before, after


@contextmanager
def emulator() -> Iterator[str]:
    port = free_port()
    command = ["taskset", "-c", SERVER_CORE, PYTHON, "-m", "mockserver", "serve", "--port", str(port)]
    process = subprocess.Popen(
        [*command, "--no-access-log", "--log-level", "warning"],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    PIDS[base] = process.pid  # taskset execs the server: the same process
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"{base}/__mock__/health", timeout=1)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=10)


@contextmanager
def polling(base: str) -> Iterator[None]:
    """The page's requests without a browser: the journal every 250 ms, the state every 2 s."""
    stop = threading.Event()

    def poll() -> None:
        latest, ticks = 0, 0
        with httpx.Client(base_url=base, timeout=10) as client:
            while not stop.wait(0.25):
                answer = client.get("/__mock__/journal", params={"since": latest, "limit": 100}).json()
                latest = answer["latest"]
                if ticks % 8 == 0:
                    client.get("/__mock__/state")
                ticks += 1

    thread = threading.Thread(target=poll, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=10)


def main() -> int:  # noqa: PLR0915 - one measurement after another, in the order printed
    parser = argparse.ArgumentParser(description="the vendor request path with the inspector closed and open")
    parser.add_argument("--seconds", type=int, default=5, help="per wrk run (default 5)")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (default 3)")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--samples", type=int, default=20, help="requests timed into the journal view")
    parser.add_argument("--subscribers", type=int, default=1000, help="idle event streams measured")
    parser.add_argument("--events-only", action="store_true", help="the journal delay and subscribers only")
    arguments = parser.parse_args()
    from playwright.sync_api import Request, sync_playwright  # noqa: PLC0415 - a dev dependency

    with emulator() as base, sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        requests: list[Request] = []
        page.on("requestfinished", lambda request: requests.append(request))  # noqa: PLW0108 - needs a function
        page.goto(f"{base}/__mock__/ui", wait_until="load")
        page.wait_for_selector("#tenant-rows tr")
        page.wait_for_function("() => document.body.dataset.journal === 'events'")
        first_load = {}
        for request in requests:  # the page, its two files and its first journal and state answers
            sizes = request.sizes()
            first_load[request.url] = sizes["responseBodySize"] + sizes["responseHeadersSize"]
        delays = []
        with httpx.Client() as client:
            for _ in range(arguments.samples):
                before = page.locator("#journal-rows tr[data-sequence]").count()
                sent = time.perf_counter()
                client.get(base + PATH, headers=BUTTER)
                page.wait_for_function(
                    f"() => document.querySelectorAll('#journal-rows tr[data-sequence]').length > {before}",
                    polling="raf",
                )
                delays.append((time.perf_counter() - sent) * 1000)
        page.close()
        before, after = idle_subscribers(base, PIDS[base], arguments.subscribers)
        time.sleep(WATCH_SECONDS + 1)  # nobody looks any more: the journal's details switch off
        results: dict[str, list[dict[str, float]]] = {"closed": [], "polled": [], "open": []}
        for _ in range(0 if arguments.events_only else arguments.rounds):
            results["closed"].append(wrk(base + PATH, BUTTER, arguments.seconds, arguments.connections))
            with polling(base):
                results["polled"].append(wrk(base + PATH, BUTTER, arguments.seconds, arguments.connections))
            time.sleep(WATCH_SECONDS + 1)
            opened = browser.new_page(viewport={"width": 1280, "height": 800})
            opened.goto(f"{base}/__mock__/ui")
            opened.wait_for_selector("#tenant-rows tr")
            results["open"].append(wrk(base + PATH, BUTTER, arguments.seconds, arguments.connections))
            opened.close()
            time.sleep(WATCH_SECONDS + 1)
        browser.close()
    print(
        f"request -> journal row: median {statistics.median(delays):.1f} ms, max {max(delays):.1f} ms "
        f"({len(delays)} requests; the page follows the journal's server-sent events)"
    )
    grown = after - before
    print(
        f"{arguments.subscribers} idle event streams: server RSS {before / 1024:.1f} -> {after / 1024:.1f} MB"
        f" (+{grown / 1024:.1f} MB, {grown * 1024 / arguments.subscribers:.0f} bytes each)"
    )
    if arguments.events_only:
        return 0
    print(f"page weight on first load: {sum(first_load.values())} bytes (bodies and headers)")
    for url, size in first_load.items():
        print(f"  {size:>7}  {url.removeprefix(base)}")
    print(f"{'page':<8}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}   (wrk, {arguments.connections} connections)")
    for state, runs in results.items():
        rps = statistics.median(run["rps"] for run in runs)
        p50 = statistics.median(run["p50"] for run in runs)
        p99 = statistics.median(run["p99"] for run in runs)
        print(f"{state:<8}{rps:>10.0f}{p50:>9.2f}{p99:>9.2f}")
    closed = statistics.median(run["rps"] for run in results["closed"])
    opened_rps = statistics.median(run["rps"] for run in results["open"])
    polled_rps = statistics.median(run["rps"] for run in results["polled"])
    print(
        f"throughput vs closed: polled {polled_rps / closed:.3f}, open in Chromium {opened_rps / closed:.3f}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
