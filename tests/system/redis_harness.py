"""A real Redis for the system tests, and the faults a test can inflict on it (all on 127.0.0.1).

- :class:`Redis`: a ``redis-server`` on a free loopback port, its AOF in the test's directory (fsync on
  every write, so a ``kill -9`` loses nothing it acknowledged); stopped politely, killed with SIGKILL,
  started again on the same port with its data or empty.
- :class:`Proxy`: a TCP proxy between the emulator and Redis that can swallow every byte both ways
  while keeping the connections open (a partition: nothing answers, nothing is refused) and resume, or
  hold every chunk Redis sends for a while (a slow Redis). Harsher than a real network: TCP would
  deliver what a short outage delayed, the proxy loses it, so a process must notice (its heartbeat
  fails) and reload; a partition shorter than a heartbeat may lose a change announcement unnoticed.
- :func:`serving`: ``python -m mockserver serve --port 0 ...`` from this tree, stopped at the end.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.conftest import ROOT, wait_until_serving

REDIS = shutil.which("redis-server")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def eventually(check: Callable[[], bool], seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "the condition did not become true in time"
        time.sleep(0.1)


class Redis:
    """A redis-server on loopback that a test can stop, kill and start again (same port, same dir)."""

    def __init__(self, directory: Path) -> None:
        self.port = free_port()
        self.directory = directory
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, *, empty: bool = False) -> None:
        """Start it; ``empty`` first deletes what it kept (its AOF), as a replaced instance would be."""
        assert REDIS is not None
        assert self.process is None, "already running"
        if empty:
            shutil.rmtree(self.directory / "appendonlydir", ignore_errors=True)
        command = [REDIS, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.directory),
                   "--appendonly", "yes", "--appendfsync", "always", "--save", ""]  # fmt: skip
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2) as sock:
                    sock.sendall(b"PING\r\n")  # answers once it has loaded its data
                    if sock.recv(64).startswith(b"+PONG"):
                        return
            except OSError:
                pass
            assert time.monotonic() < deadline, "redis-server did not start"
            time.sleep(0.02)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None

    def kill(self) -> None:
        """``kill -9``: no shutdown, no last save (the AOF has every acknowledged write)."""
        if self.process is not None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)
            self.process = None


class Proxy:
    """A TCP proxy on a free 127.0.0.1 port to ``port``; :meth:`partition`, :meth:`heal`, :attr:`delay`.

    While partitioned, connections stay open (new ones are accepted too) and every byte either way is
    dropped: clients see silence, as behind a firewall that drops packets, not a refusal. ``delay``
    seconds are waited before each chunk from Redis is passed on (0: none).
    """

    def __init__(self, port: int) -> None:
        self.upstream = port
        self.delay = 0.0
        self._blocked = threading.Event()
        self._closed = threading.Event()
        self._sockets: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self._listener.getsockname()[1])
        threading.Thread(target=self._accept, daemon=True, name="proxy-accept").start()

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def partition(self) -> None:
        self._blocked.set()

    def heal(self) -> None:
        self._blocked.clear()

    def close(self) -> None:
        self._closed.set()
        with contextlib.suppress(OSError):
            self._listener.close()
        with self._lock:
            for sock in self._sockets:
                with contextlib.suppress(OSError):
                    sock.close()
            self._sockets.clear()

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            try:
                server = socket.create_connection(("127.0.0.1", self.upstream), timeout=2)
            except OSError:  # Redis is down: refuse, as Redis itself would
                client.close()
                continue
            server.settimeout(None)
            with self._lock:
                self._sockets.update((client, server))
            threading.Thread(target=self._pump, args=(client, server, False), daemon=True).start()
            threading.Thread(target=self._pump, args=(server, client, True), daemon=True).start()

    def _pump(self, source: socket.socket, target: socket.socket, from_redis: bool) -> None:
        try:
            while chunk := source.recv(65536):
                if self._blocked.is_set():
                    continue  # swallowed
                if from_redis and self.delay:
                    time.sleep(self.delay)
                target.sendall(chunk)
        except OSError:
            pass
        finally:
            for sock in (source, target):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                with contextlib.suppress(OSError):
                    sock.close()
            with self._lock:
                self._sockets.discard(source)
                self._sockets.discard(target)


@contextmanager
def serving(*options: str) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """``python -m mockserver serve --port 0 OPTIONS`` (this tree's code): its base URL and process."""
    process = subprocess.Popen(
        [sys.executable, "-m", "mockserver", "serve", "--port", "0", "--log-format", "off", *options],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip
    try:
        assert process.stdout is not None
        match = re.search(r"on (http://127\.0\.0\.1:\d+)", process.stdout.readline())
        assert match, process.stderr.read() if process.stderr else "no banner"
        base = match.group(1)
        wait_until_serving(base)
        yield base, process
    finally:
        process.terminate()
        try:
            process.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate(timeout=15)


def worker_pids(process: subprocess.Popen[Any]) -> list[int]:
    """The pids of a server's worker processes (its children), or its own pid with one worker."""
    children: list[int] = []
    with contextlib.suppress(OSError):
        for task in Path(f"/proc/{process.pid}/task").iterdir():
            children += [int(pid) for pid in (task / "children").read_text().split()]
    return children or [process.pid]


def resident_mb(pids: list[int]) -> float:
    """The resident memory of these processes together, in MB (VmRSS; 0 for a process gone or a zombie)."""
    total = 0
    for pid in pids:
        with contextlib.suppress(OSError):
            status = Path(f"/proc/{pid}/status").read_text()
            found = re.search(r"VmRSS:\s+(\d+)", status)
            total += int(found.group(1)) if found else 0  # a zombie has none
    return total / 1024
