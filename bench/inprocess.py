"""Per-call time of an in-process request to the emulator, next to a plain respx route.

    python bench/inprocess.py [--calls 5000] [--rounds 5]

Each round times ``calls`` sequential requests of the Butter ``doc`` request (default parameters,
default fixtures) through ``mock_vendors()``, and the same number through a respx route that returns
the same bytes precomputed, for a sync ``httpx.Client`` and an ``httpx.AsyncClient``. Rounds are
interleaved; medians are printed. Nothing leaves the process.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections.abc import Callable

import httpx
import respx

from mockserver.testing import mock_vendors

URL = "https://api.getbutter.ai/api/phone-numbers"
HEADERS = {"X-API-Key": "bk_test_butter", "X-Organization-Id": "org_test"}


def per_call_sync(calls: int) -> float:
    with httpx.Client() as client:
        client.get(URL, headers=HEADERS)
        started = time.perf_counter()
        for _ in range(calls):
            client.get(URL, headers=HEADERS)
        return (time.perf_counter() - started) / calls


def per_call_async(calls: int) -> float:
    async def run() -> float:
        async with httpx.AsyncClient() as client:
            await client.get(URL, headers=HEADERS)
            started = time.perf_counter()
            for _ in range(calls):
                await client.get(URL, headers=HEADERS)
            return (time.perf_counter() - started) / calls

    return asyncio.run(run())


def emulated(measure: Callable[[int], float], calls: int) -> float:
    with mock_vendors("butter"):
        return measure(calls)


def fixed_route(measure: Callable[[int], float], calls: int, body: bytes) -> float:
    with respx.mock(assert_all_called=False) as router:
        router.get(URL).mock(
            return_value=httpx.Response(200, content=body, headers={"content-type": "application/json"})
        )
        return measure(calls)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=5)
    arguments = parser.parse_args()
    with mock_vendors("butter"):
        body = httpx.get(URL, headers=HEADERS).content
    results: dict[str, list[float]] = {}
    for _ in range(arguments.rounds):
        for kind, measure in (("sync", per_call_sync), ("async", per_call_async)):
            results.setdefault(f"{kind} emulator", []).append(emulated(measure, arguments.calls))
            results.setdefault(f"{kind} respx", []).append(fixed_route(measure, arguments.calls, body))
    print(f"{'client':<8}{'emulator µs':>14}{'respx fixed µs':>16}{'ratio':>8}")
    for kind in ("sync", "async"):
        mine = statistics.median(results[f"{kind} emulator"]) * 1e6
        theirs = statistics.median(results[f"{kind} respx"]) * 1e6
        print(f"{kind:<8}{mine:>14.1f}{theirs:>16.1f}{mine / theirs:>8.2f}")


if __name__ == "__main__":
    main()
