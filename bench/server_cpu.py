"""The server's own CPU per request, without a socket or a client: ``serve``'s protocol fed a request by hand.

Each variant gets one connection whose transport discards what is written (and counts it); the request
is handed to ``data_received`` and the loop runs until the answer is written. What is timed is only the
server's work: parsing, the app or the direct answer, encoding, the request log (to /dev/null), the
journal. Per variant: the minimum of ``--runs`` runs of ``--requests`` requests, variants interleaved for
``--rounds`` rounds, medians printed.

- ``reference``: uvicorn's own protocol, a bare Starlette app returning the emulator's bytes;
- ``serve, ASGI cycle``: ``serve``'s stack (Host guard, request log, emulator) with direct answers off;
- ``serve``: the same with direct answers, as ``serve`` runs it.

    python bench/server_cpu.py                      # Butter's documented request
    python bench/server_cpu.py --target '/butter/api/phone-numbers?status=assigned&page_size=1' --page 2
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import uvloop  # noqa: E402
from starlette.applications import Starlette  # noqa: E402
from starlette.requests import Request  # noqa: E402
from starlette.responses import Response  # noqa: E402
from starlette.routing import Route  # noqa: E402
from uvicorn.config import Config  # noqa: E402
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol  # noqa: E402
from uvicorn.server import ServerState  # noqa: E402

from bench import best_cpu_per_call  # noqa: E402
from mockserver import create_app  # noqa: E402
from mockserver.limits import Limits  # noqa: E402
from mockserver.serving.accesslog import AccessLog  # noqa: E402
from mockserver.serving.server import guarded  # noqa: E402

HEADERS = b"host: 127.0.0.1\r\nx-api-key: bk_test_butter\r\nx-organization-id: org_test\r\n"


class Discarding(asyncio.Transport):
    """Counts writes, keeps nothing; wakes the runner when an answer is written."""

    def __init__(self) -> None:
        super().__init__()
        self.writes = 0
        self.waiter: asyncio.Future[None] | None = None

    def write(self, data: Any) -> None:
        self.writes += 1
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(None)

    def writelines(self, chunks: Any) -> None:
        self.write(b"".join(chunks))

    def is_closing(self) -> bool:
        return False

    def close(self) -> None:
        pass

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"peername": ("127.0.0.1", 5555), "sockname": ("127.0.0.1", 8000)}.get(name, default)

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


async def per_request(protocol_class: Any, config: Config, request: bytes, requests: int, runs: int) -> float:
    """Microseconds of CPU per request: the best of ``runs`` runs."""
    loop = asyncio.get_running_loop()
    protocol = protocol_class(config, ServerState(), {}, _loop=loop)
    transport = Discarding()
    protocol.connection_made(transport)

    async def one() -> None:
        before = transport.writes
        protocol.data_received(request)
        while transport.writes == before:
            transport.waiter = loop.create_future()
            await transport.waiter

    best = await best_cpu_per_call(one, requests, runs, warm_up=200)
    protocol.connection_lost(None)
    return best


def _target(app: Any, target: str, page: int) -> tuple[str, bytes]:
    """``target``, followed by its next cursors to page ``page`` (Butter's cursor paging), and the
    emulator's answer to it (the reference returns the same bytes)."""
    from starlette.testclient import TestClient  # noqa: PLC0415

    headers = {"x-api-key": "bk_test_butter", "x-organization-id": "org_test"}
    with TestClient(app) as client:
        for _ in range(page - 1):
            cursor = client.get(target, headers=headers).json()["pagination"]["next_cursor"]
            target = target.split("&cursor=", maxsplit=1)[0] + f"&cursor={cursor}"
        return target, client.get(target, headers=headers).content


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--target", default="/butter/api/phone-numbers")
    parser.add_argument("--page", type=int, default=1, help="follow the cursor to this page first")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--requests", type=int, default=2000)
    arguments = parser.parse_args()
    app = create_app()
    target, body = _target(app, arguments.target, arguments.page)
    request = b"GET " + target.encode() + b" HTTP/1.1\r\n" + HEADERS + b"\r\n"
    path = target.split("?")[0]

    async def endpoint(_: Request) -> Response:
        return Response(body, media_type="application/json")

    quiet: dict[str, Any] = {"http": "httptools", "lifespan": "off", "log_level": "warning"}
    quiet["access_log"] = False
    reference = Config(Starlette(routes=[Route(path, endpoint)]), **quiet)
    variants: dict[str, tuple[Any, Config]] = {"reference": (HttpToolsProtocol, reference)}
    served = AccessLog(app, "text", Path(os.devnull).open("wb"))  # noqa: SIM115 - for the process's life
    for name, direct in (("serve, ASGI cycle", False), ("serve", True)):
        guard, factory = guarded(served, app.state.emulator, "127.0.0.1", [], direct=direct)
        variants[name] = (factory(Limits()), Config(guard, proxy_headers=False, **quiet))
    for _, config in variants.values():
        config.load()
    uvloop.install()
    measured: dict[str, list[float]] = {name: [] for name in variants}
    for index in range(arguments.rounds):
        order = list(variants) if index % 2 == 0 else list(reversed(variants))
        for name in order:
            protocol_class, config = variants[name]
            runner = per_request(protocol_class, config, request, arguments.requests, arguments.runs)
            measured[name].append(asyncio.run(runner))
    base = statistics.median(measured["reference"])
    print(f"{'variant':<20} {'µs per request':>15} {'x reference':>12}")
    for name, values in measured.items():
        value = statistics.median(values)
        print(f"{name:<20} {value:15.1f} {value / base:12.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
