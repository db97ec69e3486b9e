"""The HTTP protocol layer alone: CPU time per request of ``serve``'s guarded protocol and uvicorn's own.

Each variant serves the emulator's app over a socketpair on uvloop, with the client in the same
process, Butter's documented request on one keep-alive connection: the app and the client are the same
for both, so the difference is the protocol's (its deadlines, its limits, its writes). Per variant: the
minimum of ``--runs`` runs of ``--requests`` requests (the minimum filters out a busy neighbour),
variants interleaved for ``--rounds`` rounds, medians printed. Nothing leaves the process.

    python bench/protocol.py --rounds 4
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import statistics
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import uvloop  # noqa: E402
from uvicorn.config import Config  # noqa: E402
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol  # noqa: E402
from uvicorn.server import ServerState  # noqa: E402

from bench import best_cpu_per_call  # noqa: E402
from mockserver import create_app  # noqa: E402
from mockserver.engine.routing import HostPolicy  # noqa: E402
from mockserver.limits import Limits  # noqa: E402
from mockserver.serving.direct import DirectAnswers  # noqa: E402
from mockserver.serving.server import GuardedProtocol, Refusals  # noqa: E402

REQUEST = (
    b"GET /butter/api/phone-numbers HTTP/1.1\r\nhost: 127.0.0.1\r\n"
    b"x-api-key: bk_test_butter\r\nx-organization-id: org_test\r\n\r\n"
)


async def _per_request(protocol_class: Any, config: Config, requests: int, runs: int) -> float:
    """Microseconds of CPU per request: the best of ``runs`` runs."""
    loop = asyncio.get_running_loop()
    state = ServerState()
    server_side, client_side = socket.socketpair()
    await loop.connect_accepted_socket(lambda: protocol_class(config, state, {}, _loop=loop), server_side)
    reader, writer = await asyncio.open_connection(sock=client_side)

    async def one() -> None:
        writer.write(REQUEST)
        head = await reader.readuntil(b"\r\n\r\n")
        length = int(head.split(b"content-length: ")[1].split(b"\r\n")[0])
        await reader.readexactly(length)

    best = await best_cpu_per_call(one, requests, runs, warm_up=requests)
    writer.close()
    return best


def main() -> int:
    parser = argparse.ArgumentParser(description="CPU per request of the guarded protocol and uvicorn's")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--requests", type=int, default=1000)
    arguments = parser.parse_args()
    app = create_app()
    config = Config(app, http="httptools", lifespan="off", log_level="warning", access_log=False)
    config.load()
    emulator = app.state.emulator
    refusals = Refusals(emulator)
    direct = DirectAnswers(emulator.routes, HostPolicy.for_server("127.0.0.1", [], []))
    variants = {
        "uvicorn (unguarded)": HttpToolsProtocol,
        "guarded, ASGI cycle": GuardedProtocol.configured(Limits(), refusals),
        "guarded, direct (serve)": GuardedProtocol.configured(Limits(), refusals, direct, config.loaded_app),
    }
    measured: dict[str, list[float]] = {name: [] for name in variants}
    uvloop.install()
    for index in range(arguments.rounds):
        order = list(variants) if index % 2 == 0 else list(reversed(variants))
        for name in order:
            runner = _per_request(variants[name], config, arguments.requests, arguments.runs)
            measured[name].append(asyncio.run(runner))
    for name, values in measured.items():
        print(f"{name:<26} {statistics.median(values):7.1f} µs per request")
    return 0


if __name__ == "__main__":
    sys.exit(main())
