"""Benchmarks (``make bench``): the emulator against a bare reference, over HTTP and in-process."""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

PYCACHE = Path(tempfile.gettempdir()) / "vendor-emulator-bench-pycache"


def compiled_environment(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of a benchmarked child process: its modules compiled once and then read compiled,
    as from an installed package (pip compiles it at install), even where the shell sets
    ``PYTHONDONTWRITEBYTECODE`` (this machine does; every start would compile the package again, about
    0.3 to 0.6 s). The compiled files go to :data:`PYCACHE`, never into the tree."""
    environment = {**os.environ, **(extra or {})}
    environment.pop("PYTHONDONTWRITEBYTECODE", None)
    environment.setdefault("PYTHONPYCACHEPREFIX", str(PYCACHE))
    return environment


async def best_cpu_per_call(one: Callable[[], Awaitable[None]], calls: int, runs: int, warm_up: int) -> float:
    """Microseconds of this process's CPU per ``await one()``: the best of ``runs`` runs of ``calls``
    calls, after ``warm_up`` untimed ones (the answer is cached after the first)."""
    for _ in range(warm_up):
        await one()
    best = float("inf")
    for _ in range(runs):
        started = time.process_time()
        for _ in range(calls):
            await one()
        best = min(best, (time.process_time() - started) / calls * 1e6)
    return best
