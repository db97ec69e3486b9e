"""Fixtures shared by the system tests that start ``serve`` processes of their own."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.system.redis_harness import REDIS, Redis
from tests.system.test_hostile_traffic import Server


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Callable[..., Server]]:
    """Start servers with extra arguments; all are stopped (and checked for tracebacks) at the end."""
    started: list[Server] = []

    def start(*arguments: str) -> Server:
        folder = tmp_path / f"server{len(started)}"
        folder.mkdir()
        started.append(Server(folder, *arguments))
        return started[-1]

    yield start
    for server in started:
        server.stop()
        assert "Traceback" not in server.errors(), server.errors()[-2000:]


@pytest.fixture
def redis(tmp_path: Path) -> Iterator[Redis]:
    """A redis-server of the test's own on a free loopback port (its data in ``tmp_path``), killed after."""
    if REDIS is None:
        pytest.skip("redis-server not found (make test installs it)")
    server = Redis(tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.kill()
