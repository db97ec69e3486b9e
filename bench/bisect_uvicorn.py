"""Where the plain-uvicorn gap is: the reference app, stepped toward the emulator's, each on plain uvicorn.

    python bench/bisect_uvicorn.py [--seconds 3] [--rounds 3] [--connections 32] [--step NAME ...]

Every step is an ASGI app that answers Butter's documented request (``GET /butter/api/phone-numbers``
with its test headers, the ``doc`` scenario of ``bench/run.py``) with the same bytes. Each runs under
plain uvicorn with the reference's flags (``--log-level warning --no-access-log``; uvloop and httptools
picked by uvicorn's ``auto``), pinned to core 0; ``wrk`` (1 thread, pinned to core 1) drives one step at
a time. A round runs every step once, the reference first and last and the steps in between in a
rotated order; a step's ratio is its req/s over the mean of the reference's two runs in that round.
Beside req/s, the server's CPU time per request (user + system time from /proc over the requests wrk
completed) and its ratio to the reference's: on a shared machine req/s moves with the neighbours, the
CPU a request costs much less. Medians over the rounds are printed. All traffic goes to 127.0.0.1.
``--base DIR`` adds ``BASE:emu``, the emu step of another tree (the commit before a change, with this
script copied into its bench/), to compare before and after in the same rounds.

The steps (``STEPS``), from the reference toward the emulator's app as ``uvicorn --factory
mockserver.serving.app:create_app`` serves it:

- ``ref``: ``bench/reference_app.py`` (Starlette, one Route, a Response of precomputed bytes);
- ``raw``: a bare ASGI function, the same bytes and Starlette's two headers (what Starlette costs);
- ``ref+heap``: the reference in a process that also built (and keeps) the emulator;
- ``emu-headers``: a bare ASGI function sending the emulator's header list for the answer;
- ``vendor``: Butter's vendor app (auth, faults, cached answer, journal) called as the app, no Starlette;
- ``emu``: the emulator's app (``create_app()``), as plain uvicorn serves it;
- ``emu-nojournal``: the same with the journal's record a no-op (what the journal costs);
- ``emu-freeze``: the same with ``gc.freeze()`` after the build (what ``serve`` does);
- ``emu-nogc``: the same with the cyclic garbage collector off (what collections cost);
- ``serve-nolog``, ``serve``: for comparison, ``python -m mockserver serve`` itself (its guarded protocol
  and Host/Origin guard) with ``--log-format off``, and on its default command line.

uvicorn loads a step with ``python -m uvicorn bench.bisect_uvicorn:step --factory`` and the step's
name in ``BISECT_STEP``.
"""

from __future__ import annotations

import argparse
import gc
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PYTHON = sys.executable
PATH = "/butter/api/phone-numbers"
HEADERS = {"X-API-Key": "bk_test_butter", "X-Organization-Id": "org_test"}
SERVER_CORE, LOAD_CORE = "0", "1"
ASGI = Callable[[dict[str, Any], Any, Any], Awaitable[None]]
KEPT: list[object] = []  # what a step keeps alive for the process's life (the emulator of ``ref+heap``)


# ----------------------------------------------------------------------------------------- the steps


def _body() -> bytes:
    return Path(os.environ["BENCH_BODY"]).read_bytes()


def _fixed(headers: list[tuple[bytes, bytes]], body: bytes) -> ASGI:
    """A bare ASGI app that sends ``headers`` and ``body`` to every request, in two sends."""

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    return app


def _emulator_app() -> Any:
    from mockserver.serving.app import create_app  # noqa: PLC0415 - only the steps that need it

    return create_app()


def _step_ref() -> Any:
    from bench.reference_app import app  # noqa: PLC0415 - reads BENCH_BODY at import

    return app


def _step_raw() -> ASGI:
    body = _body()
    return _fixed(
        [(b"content-length", str(len(body)).encode()), (b"content-type", b"application/json")], body
    )


def _step_ref_heap() -> Any:
    KEPT.append(_emulator_app())
    return _step_ref()


def _doc_answer(app: Any) -> tuple[list[tuple[bytes, bytes]], bytes]:
    """The header list and body the emulator's Butter app sends for the documented request."""
    vendor = app.state.emulator.apps["butter"]
    headers = [(name.lower().encode(), value.encode()) for name, value in HEADERS.items()]
    scope = {"type": "http", "method": "GET", "path": "/api/phone-numbers", "root_path": ""}
    reply = vendor.reply({**scope, "query_string": b"", "headers": headers})
    return vendor.raw_headers(reply), reply.body


def _step_emu_headers() -> ASGI:
    return _fixed(*_doc_answer(_emulator_app()))


def _step_vendor() -> ASGI:
    app = _emulator_app()
    vendor = app.state.emulator.apps["butter"]

    async def mounted(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            await vendor({**scope, "root_path": "/butter"}, receive, send)

    KEPT.append(app)
    return mounted


def _step_emu() -> Any:
    return _emulator_app()


def _step_emu_nojournal() -> Any:
    app = _emulator_app()
    app.state.emulator.apps["butter"].journal.record = lambda *args, **kwargs: None
    return app


def _step_emu_freeze() -> Any:
    app = _emulator_app()
    gc.collect()
    gc.freeze()
    return app


def _step_emu_nogc() -> Any:
    gc.disable()
    return _emulator_app()


STEPS: dict[str, Callable[[], Any]] = {
    "ref": _step_ref,
    "raw": _step_raw,
    "ref+heap": _step_ref_heap,
    "emu-headers": _step_emu_headers,
    "vendor": _step_vendor,
    "emu": _step_emu,
    "emu-nojournal": _step_emu_nojournal,
    "emu-freeze": _step_emu_freeze,
    "emu-nogc": _step_emu_nogc,
}

# For comparison, ``serve`` itself (not plain uvicorn): the guard on, the request log off and on.
SERVE: dict[str, list[str]] = {"serve-nolog": ["--log-format", "off"], "serve": []}


def step() -> Any:
    """The ASGI app of the step named in ``BISECT_STEP`` (uvicorn's ``--factory`` entry point)."""
    return STEPS[os.environ["BISECT_STEP"]]()


# ---------------------------------------------------------------------------------------- the runner


@contextmanager
def started(name: str, port: int, body: Path, base: Path | None = None) -> Iterator[tuple[str, int]]:
    """The step ``name`` on plain uvicorn at ``port`` (core 0); yields its URL and process id once it
    answers 200 (``taskset`` execs the server: same process). ``BASE:step`` runs the step of the tree
    ``base`` (whose bench/ holds this script too)."""
    tree = ROOT
    if name.startswith("BASE:") and base is not None:
        tree, name = base, name.removeprefix("BASE:")
    command = [
        "taskset", "-c", SERVER_CORE, PYTHON, "-m", "uvicorn", "bench.bisect_uvicorn:step", "--factory",
        "--port", str(port), "--log-level", "warning", "--no-access-log",
    ]  # fmt: skip
    if name in SERVE:  # the command line itself, not a step on plain uvicorn
        command = ["taskset", "-c", SERVER_CORE, PYTHON, "-m", "mockserver", "serve", "--port", str(port)]
        command += SERVE[name]
    env = {**os.environ, "BISECT_STEP": name, "BENCH_BODY": str(body), "BENCH_PATH": PATH}
    env["PYTHONPATH"] = str(tree)
    process = subprocess.Popen(
        command, cwd=tree, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{port}{PATH}"
    try:
        _wait_for(url)
        yield url, process.pid
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


def _wait_for(url: str, limit: float = 60) -> bytes:
    import httpx  # noqa: PLC0415

    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        try:
            answer = httpx.get(url, headers=HEADERS, timeout=1)
            if answer.status_code == 200:
                return answer.content
        except httpx.HTTPError:
            pass
        time.sleep(0.02)
    raise RuntimeError(f"no 200 from {url} within {limit} s")


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of process ``pid`` so far (from /proc, in clock ticks)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wrk(url: str, seconds: int, connections: int) -> tuple[float, int]:
    """Requests per second and requests done by ``wrk`` (1 thread, core 1); any non-2xx is an error."""
    command = ["taskset", "-c", LOAD_CORE, "wrk", "-t1", f"-c{connections}", f"-d{seconds}s"]
    for name, value in HEADERS.items():
        command += ["-H", f"{name}: {value}"]
    output = subprocess.run(
        [*command, url], capture_output=True, text=True, timeout=seconds + 30, check=True
    ).stdout
    if "Non-2xx" in output:
        raise RuntimeError(f"{url}: non-2xx responses\n{output}")
    rate = re.search(r"Requests/sec:\s+([\d.]+)", output)
    done = re.search(r"(\d+) requests in", output)
    if rate is None or done is None:
        raise RuntimeError(f"no Requests/sec in wrk's output:\n{output}")
    return float(rate.group(1)), int(done.group(1))


@dataclass(frozen=True)
class Run:
    """One wrk run against one step: its req/s and the server's CPU time per request (µs)."""

    rps: float
    cpu_us: float


def measure(server: tuple[str, int], seconds: int, connections: int) -> Run:
    url, pid = server
    before = cpu_seconds(pid)
    rps, done = wrk(url, seconds, connections)
    return Run(rps, (cpu_seconds(pid) - before) / done * 1e6)


def free_port() -> int:
    import socket  # noqa: PLC0415

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--seconds", type=int, default=3, help="per wrk run (default 3)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=32)
    every = [name for name in [*STEPS, *SERVE] if name != "ref"]
    parser.add_argument("--step", action="append", choices=every)
    parser.add_argument(
        "--base", type=Path, help="another tree (a worktree of the commit before, with this script in its "
        "bench/): its emu step (or each --step given) runs beside, as BASE:emu",
    )  # fmt: skip
    arguments = parser.parse_args()
    steps = arguments.step or every
    if arguments.base is not None:
        steps = [*steps, *(f"BASE:{name}" for name in (arguments.step or ["emu"]))]
    with tempfile.TemporaryDirectory() as scratch, ExitStack() as stack:
        # the emulator's answer is every step's body (as bench/run.py saves it for the reference)
        body = Path(scratch) / "body.json"
        body.write_bytes(_doc_answer(_emulator_app())[1])
        servers = {
            name: stack.enter_context(started(name, free_port(), body, arguments.base))
            for name in ["ref", *steps]
        }
        for name, (url, _) in servers.items():
            if _wait_for(url) != body.read_bytes():
                raise RuntimeError(f"{name} does not answer the emulator's bytes")
        runs: dict[str, list[Run]] = {name: [] for name in ["ref", *steps]}
        ratios: dict[str, list[tuple[float, float]]] = {name: [] for name in steps}
        for index in range(arguments.rounds):
            order = steps[index % len(steps) :] + steps[: index % len(steps)]
            first = measure(servers["ref"], arguments.seconds, arguments.connections)
            measured = {
                name: measure(servers[name], arguments.seconds, arguments.connections) for name in order
            }
            last = measure(servers["ref"], arguments.seconds, arguments.connections)
            reference = Run((first.rps + last.rps) / 2, (first.cpu_us + last.cpu_us) / 2)
            runs["ref"].append(reference)
            for name, run in measured.items():
                runs[name].append(run)
                ratios[name].append((run.rps / reference.rps, reference.cpu_us / run.cpu_us))
            print(f"round {index + 1}: ref {first.rps:.0f}/{last.rps:.0f} req/s", file=sys.stderr, flush=True)
    print(report(steps, runs, ratios))
    return 0


def report(steps: list[str], runs: dict[str, list[Run]], ratios: dict[str, list[tuple[float, float]]]) -> str:
    """Medians per step: req/s and its ratio to the reference, CPU µs per request and its ratio."""
    lines = [f"{'step':<16}{'req/s':>9}{'ratio':>8}{'CPU µs/req':>12}{'CPU ratio':>11}"]
    for name in ["ref", *steps]:
        rps = statistics.median(run.rps for run in runs[name])
        cpu = statistics.median(run.cpu_us for run in runs[name])
        rate, work = (
            (1.0, 1.0) if name == "ref" else (statistics.median(r for r, _ in ratios[name]),
                                              statistics.median(c for _, c in ratios[name]))
        )  # fmt: skip
        lines.append(f"{name:<16}{rps:>9.0f}{rate:>8.2f}{cpu:>12.1f}{work:>11.2f}")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
