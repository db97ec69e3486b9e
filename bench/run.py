"""``make bench``: the emulator against a bare Starlette app returning the same bytes, over real HTTP.

Per scenario: generate the data, start the emulator and the reference (each pinned to core 0), find the
scenario's URL (a cursor for page 2, say), save the emulator's answer as the reference's body, then run
``wrk`` (pinned to core 1) against each in interleaved rounds. Prints requests/s, p50/p99 latency, the
ratio to the reference in the same round, start-up time to the first 200 and resident memory.
The emulator runs on its default command line (``serve`` with its default request log, as ``make serve``
and the container run it); the multi-worker scenarios add ``--workers 2`` and ``--state``. Those run
the workers on both cores (wrk and Redis share core 1 with one of them): on a 2-core machine their
figures are indicative only, and "per core" divides the ratio by the cores the server used.
All traffic goes to 127.0.0.1; every run is bounded in time.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import compiled_environment  # noqa: E402
from mockserver.data.seeding import complete  # noqa: E402
from mockserver.documents.reading import read_json  # noqa: E402

PYTHON = sys.executable
BUTTER = {"X-API-Key": "bk_test_butter", "X-Organization-Id": "org_test"}
MINDHUNTERS = {"Authorization": "Bearer mindhunters-test-token"}
SERVER_CORE, LOAD_CORE = "0", "1"
REALISTIC = {"status": "assigned", "page_size": 20}


@dataclass
class Scenario:
    name: str
    vendor: str
    path: str
    headers: dict[str, str]
    records: int | None = None
    params: dict[str, Any] = field(default_factory=dict)
    page: int = 1
    workers: int = 1
    state: str | None = None  # None, "memory" or "redis" (a redis-server started for the scenario)


SCENARIOS = [
    Scenario("doc", "butter", "/api/phone-numbers", BUTTER),
    Scenario(
        "realistic", "butter", "/api/phone-numbers", BUTTER, 1_000, {"status": "assigned", "page_size": 20}, 2
    ),
    Scenario(
        "mindhunters-search", "mindhunters", "/api/v1/phone-numbers", MINDHUNTERS, 1_000,
        {"search": "1", "country_code": "US", "sort": "monthly_fee"}, 3,
    ),
    Scenario(
        "scale", "butter", "/api/phone-numbers", BUTTER, 100_000, {"status": "assigned", "page_size": 20}, 2
    ),
    Scenario(
        "workers2-memory", "butter", "/api/phone-numbers", BUTTER, 1_000, REALISTIC, 2, workers=2,
        state="memory",
    ),
    Scenario(
        "workers2-redis", "butter", "/api/phone-numbers", BUTTER, 1_000, REALISTIC, 2, workers=2,
        state="redis",
    ),
]  # fmt: skip


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def write_fixtures(directory: Path, scenario: Scenario) -> Path:
    """The default fixtures, with the scenario's vendor grown to ``records`` (partial records completed)."""
    target = directory / "fixtures"
    shutil.copytree(ROOT / "fixtures", target)
    if scenario.records:
        path = target / scenario.vendor / "phone-numbers.json"
        templates = read_json(path)["records"]
        key = "phone_number_id" if scenario.vendor == "butter" else "phone_number_uuid"
        # Every fixture record in turn, with a fresh key: the data keeps the fixtures' mix of values.
        partials = [
            {name: value for name, value in templates[index % len(templates)].items() if name != key}
            for index in range(scenario.records)
        ]
        path.write_text(json.dumps({"records": complete(partials, templates, key)}))
    return target


@contextmanager
def server(
    command: list[str], env: dict[str, str] | None = None, cores: str = SERVER_CORE
) -> Iterator[subprocess.Popen[bytes]]:
    process = subprocess.Popen(
        ["taskset", "-c", cores, *command], cwd=ROOT, env=compiled_environment(env),
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


def first_200(url: str, headers: dict[str, str], started: float, limit: float = 60) -> float:
    """Seconds from ``started`` to the first 200 at ``url`` (polled every 5 ms)."""
    while time.perf_counter() - started < limit:
        try:
            if httpx.get(url, headers=headers, timeout=1).status_code == 200:
                return time.perf_counter() - started
        except httpx.HTTPError:
            pass
        time.sleep(0.005)
    raise RuntimeError(f"no 200 from {url} within {limit} s")


def scenario_url(base: str, scenario: Scenario) -> str:
    """The URL of the scenario's page: cursors followed (Butter) or a page number (Mindhunters)."""
    params = dict(scenario.params)
    if scenario.vendor == "butter":
        for _ in range(scenario.page - 1):
            body = httpx.get(f"{base}{scenario.path}", params=params, headers=scenario.headers).json()
            params["cursor"] = body["pagination"]["next_cursor"]
    elif scenario.page > 1:
        params["page"] = scenario.page
    return str(httpx.URL(f"{base}{scenario.path}", params=params))


def wrk(url: str, headers: dict[str, str], seconds: int, connections: int) -> dict[str, float]:
    command = ["taskset", "-c", LOAD_CORE, "wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency"]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    output = subprocess.run(
        [*command, url], capture_output=True, text=True, timeout=seconds + 30, check=True
    ).stdout
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    if errors:
        raise RuntimeError(f"{url}: {errors.group(1)} non-2xx responses")
    return {
        "requests": float(re.search(r"(\d+) requests in", output).group(1)),  # type: ignore[union-attr]
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),  # type: ignore[union-attr]
        "p50": _ms(re.search(r"50%\s+([\d.]+\w+)", output).group(1)),  # type: ignore[union-attr]
        "p99": _ms(re.search(r"99%\s+([\d.]+\w+)", output).group(1)),  # type: ignore[union-attr]
    }


def _ms(text: str) -> float:
    number, unit = re.match(r"([\d.]+)(\w+)", text).groups()  # type: ignore[union-attr]
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def rss_mb(pid: int) -> float:
    """Resident memory of a process and all its descendants (the workers of ``--workers``)."""
    status = Path(f"/proc/{pid}/status").read_text()
    total = int(re.search(r"VmRSS:\s+(\d+)", status).group(1)) / 1024  # type: ignore[union-attr]
    for task in Path(f"/proc/{pid}/task").iterdir():
        children = (task / "children").read_text().split() if (task / "children").exists() else []
        total += sum(rss_mb(int(child)) for child in children)
    return total


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of a process and all its descendants so far (every thread)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    total = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    for task in Path(f"/proc/{pid}/task").iterdir():
        children = (task / "children").read_text().split() if (task / "children").exists() else []
        total += sum(cpu_seconds(int(child)) for child in children)
    return total


@dataclass
class Store:
    """A redis-server started for a scenario: its URL, and its pid (its CPU time is counted with --cpu)."""

    url: str
    pid: int


@contextmanager
def redis_server() -> Iterator[Store]:
    """A throw-away redis-server on loopback (no persistence), pinned with the load generator."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise RuntimeError("redis-server is not installed (apt-get install redis-server)")
    port = free_port()
    command = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    process = subprocess.Popen(
        ["taskset", "-c", LOAD_CORE, *command], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
                break
            time.sleep(0.02)
        yield Store(f"redis://127.0.0.1:{port}/0", process.pid)
    finally:
        process.terminate()
        process.wait(timeout=10)


def run_scenario(scenario: Scenario, load: Load) -> dict[str, Any]:
    with contextlib.ExitStack() as stack:
        state, store = scenario.state, None
        if state == "redis":
            store = stack.enter_context(redis_server())
            state = store.url
        return _run_scenario(scenario, load, state, store)


def serve_command(scenario: Scenario, port: int, fixtures: Path, state: str | None) -> tuple[list[str], str]:
    """The emulator's command line for ``scenario`` (the default one, as `make serve` runs it, its request
    log included, plus ``--workers`` and ``--state``), and the cores it runs on."""
    command = [PYTHON, "-m", "mockserver", "serve", "--port", str(port), "--fixtures", str(fixtures)]
    if scenario.workers > 1:
        command += ["--workers", str(scenario.workers)]
    if state:
        command += ["--state", state]
    return command, SERVER_CORE if scenario.workers == 1 else f"{SERVER_CORE},{LOAD_CORE}"


def _run_scenario(scenario: Scenario, load: Load, state: str | None, store: Store | None) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as scratch:
        directory = Path(scratch)
        fixtures = write_fixtures(directory, scenario)
        port, ref_port = free_port(), free_port()
        command, cores = serve_command(scenario, port, fixtures, state)
        # Large fixture files are kept prepared (mockserver/state/prepared.py): the first start after a
        # change loads the file and prepares it, the starts after it read the prepared form. Both are
        # timed, in a cache of the run's own, so that the figures do not depend on earlier runs.
        prepared = {"VENDOR_EMULATOR_CACHE_DIR": str(directory / "prepared")}
        first_start = None
        if scenario.records:
            started = time.perf_counter()
            with server(command, prepared, cores=cores):
                first_start = first_200(f"http://127.0.0.1:{port}/{scenario.vendor}{scenario.path}",
                                        scenario.headers, started)  # fmt: skip
        started = time.perf_counter()
        with server(command, prepared, cores=cores) as emulator:
            base = f"http://127.0.0.1:{port}/{scenario.vendor}"
            startup = first_200(f"{base}{scenario.path}", scenario.headers, started)
            if scenario.workers > 1:
                time.sleep(2)  # the first 200 came from one worker; let the others finish loading
            url = scenario_url(base, scenario)
            body = httpx.get(url, headers=scenario.headers).content
            (directory / "body.json").write_bytes(body)
            reference_env = {
                "BENCH_BODY": str(directory / "body.json"),
                "BENCH_PATH": f"/{scenario.vendor}{scenario.path}",
            }
            reference_command = [PYTHON, "-m", "uvicorn", "bench.reference_app:app", "--port", str(ref_port),
                                 "--log-level", "warning", "--no-access-log"]  # fmt: skip
            with server(reference_command, reference_env):
                ref_url = url.replace(f":{port}/", f":{ref_port}/")
                first_200(ref_url, scenario.headers, time.perf_counter())
                watched = [emulator.pid, *([store.pid] if store else [])]
                results = _rounds(url, ref_url, scenario.headers, load, watched)
            memory = rss_mb(emulator.pid)
    return {
        "scenario": scenario.name,
        "records": scenario.records or "default",
        "startup_s": startup,
        "first_startup_s": first_start,  # the file loaded and prepared (scenarios with generated data)
        "rss_mb": memory,
        "cores": 1 if scenario.workers == 1 else 2,
        **results,
        "per_core": results["ratio"] / (1 if scenario.workers == 1 else 2),
    }


def workers_pair(load: Load) -> dict[str, Any]:
    """``workers2-redis`` against ``workers2-memory`` in the same rounds: both servers up at once (and the
    Redis of the first), ``wrk`` driving one then the other in each round, the order alternated.

    The two scenarios of the table run minutes apart, each against its own reference; with two workers,
    ``wrk`` and Redis on two cores their requests per second swing from one run to the next by more than
    the difference sought (41,101 then 22,354 req/s for the same memory scenario). Here each round's
    ratio compares two runs seconds apart; the median of the rounds' ratios is the figure. An idle server
    costs the other next to nothing (no timer runs while it has no connection).
    """
    by_name = {scenario.name: scenario for scenario in SCENARIOS}
    pair = {"memory": by_name["workers2-memory"], "redis": by_name["workers2-redis"]}
    with contextlib.ExitStack() as stack:
        store = stack.enter_context(redis_server())
        scratch = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        targets: dict[str, tuple[str, list[int]]] = {}
        for name, scenario in pair.items():
            directory = scratch / name
            directory.mkdir()
            port = free_port()
            state = store.url if name == "redis" else "memory"
            command, cores = serve_command(scenario, port, write_fixtures(directory, scenario), state)
            prepared = {"VENDOR_EMULATOR_CACHE_DIR": str(directory / "prepared")}
            process = stack.enter_context(server(command, prepared, cores=cores))
            base = f"http://127.0.0.1:{port}/{scenario.vendor}"
            first_200(f"{base}{scenario.path}", scenario.headers, time.perf_counter())
            time.sleep(2)  # the first 200 came from one worker; let the other finish loading
            watched = [process.pid, *([store.pid] if name == "redis" else [])]
            targets[name] = (scenario_url(base, scenario), watched)
        rps: dict[str, list[float]] = {name: [] for name in pair}
        cpu: dict[str, list[float]] = {name: [] for name in pair}
        for index in range(load.rounds):
            for name in ("memory", "redis") if index % 2 == 0 else ("redis", "memory"):
                url, watched = targets[name]
                before = sum(map(cpu_seconds, watched))
                measured = wrk(url, pair[name].headers, load.seconds, load.connections)
                cpu[name].append((sum(map(cpu_seconds, watched)) - before) / measured["requests"] * 1e6)
                rps[name].append(measured["rps"])
    ratios = [shared / local for shared, local in zip(rps["redis"], rps["memory"], strict=True)]
    return {
        "ratio": statistics.median(ratios),
        "ratios": ratios,
        "memory_rps": statistics.median(rps["memory"]),
        "redis_rps": statistics.median(rps["redis"]),
        "cpu_ratio": min(cpu["memory"]) / min(cpu["redis"]),
    }


def pair_lines(pair: dict[str, Any]) -> list[str]:
    """The same-round comparison of the two --workers scenarios, as printed."""
    rounds = ", ".join(f"{ratio:.2f}" for ratio in pair["ratios"])
    return [
        "workers2-redis / workers2-memory, same rounds (both servers up, wrk alternating):"
        f" {pair['ratio']:.2f} (median of rounds {rounds};"
        f" {pair['redis_rps']:.0f} vs {pair['memory_rps']:.0f} req/s)",
        "workers2-memory / workers2-redis CPU per request, same rounds (Redis's included; the least of"
        f" the rounds): {pair['cpu_ratio']:.2f}",
    ]


@dataclass(frozen=True)
class Load:
    """How hard and how long to drive a server."""

    rounds: int
    seconds: int
    connections: int


def _rounds(
    url: str, ref_url: str, headers: dict[str, str], load: Load, watched: list[int]
) -> dict[str, float]:
    """``watched``: the emulator's process (and a Redis started for it), whose CPU time per request
    (all its processes and threads) is measured during the emulator's runs: a figure that other work on
    a shared machine moves much less than requests per second."""
    mine: list[dict[str, float]] = []
    ratios: list[float] = []
    references: list[float] = []
    cpu: list[float] = []
    for index in range(load.rounds):
        order = [("ref", ref_url), ("emu", url)] if index % 2 == 0 else [("emu", url), ("ref", ref_url)]
        measured = {}
        for name, target in order:
            before = sum(map(cpu_seconds, watched)) if name == "emu" else 0.0
            measured[name] = wrk(target, headers, load.seconds, load.connections)
            if name == "emu":
                cpu.append((sum(map(cpu_seconds, watched)) - before) / measured[name]["requests"] * 1e6)
        mine.append(measured["emu"])
        references.append(measured["ref"]["rps"])
        ratios.append(measured["emu"]["rps"] / measured["ref"]["rps"])
    return {
        "rps": statistics.median(m["rps"] for m in mine),
        "reference_rps": statistics.median(references),
        "ratio": statistics.median(ratios),
        "p50_ms": statistics.median(m["p50"] for m in mine),
        "p99_ms": statistics.median(m["p99"] for m in mine),
        "cpu_us": min(cpu),
    }


COLUMNS = (
    ("scenario", "<20", "scenario"), ("records", ">9", "records"), ("req/s", ">9.0f", "rps"),
    ("ref req/s", ">11.0f", "reference_rps"), ("ratio", ">7.2f", "ratio"), ("p50 ms", ">8.2f", "p50_ms"),
    ("p99 ms", ">8.2f", "p99_ms"), ("start s", ">9.2f", "startup_s"), ("RSS MB", ">8.1f", "rss_mb"),
    ("per core", ">9.2f", "per_core"),
)  # fmt: skip


def _width(spec: str) -> str:
    """``>9.0f`` -> ``>9``: a column's alignment and width, for its title."""
    return spec.split(".", maxsplit=1)[0]


CPU_COLUMN = ("CPU µs/req", ">11.1f", "cpu_us")


def table(results: list[dict[str, Any]], *, cpu: bool = False) -> str:
    """The results as a fixed-width table (with ``cpu``, the server's CPU time per request too)."""
    columns = (*COLUMNS, CPU_COLUMN) if cpu else COLUMNS
    header = "".join(f"{title:{_width(spec)}}" for title, spec, _ in columns)
    rows = [
        "".join(f"{r[key] if isinstance(r[key], float) else str(r[key]):{spec}}" for _, spec, key in columns)
        for r in results
    ]
    return "\n".join([header, "-" * len(header), *rows])


def summary(by_name: dict[str, dict[str, Any]], *, cpu: bool = False) -> list[str]:
    """The comparisons the targets are stated in, for the scenarios that ran."""
    lines = []
    scale, realistic = by_name.get("scale"), by_name.get("realistic")
    if scale and realistic:
        lines.append(f"scale / realistic (100,000 vs 1,000 records): {scale['rps'] / realistic['rps']:.2f}")
    if scale and scale.get("first_startup_s"):
        lines.append(
            f"scale start-up: {scale['startup_s']:.2f} s prepared, {scale['first_startup_s']:.2f} s on the"
            " first start after the fixtures changed (the file loaded, checked and prepared)"
        )
    shared, local = by_name.get("workers2-redis"), by_name.get("workers2-memory")
    if shared and local:
        lines.append(
            "workers2-redis / workers2-memory (Redis vs in-memory state, the two rows above, minutes apart):"
            f" {shared['rps'] / local['rps']:.2f}"
        )
        if cpu:
            lines.append(
                "workers2-memory / workers2-redis CPU per request (Redis's included; what the ratio would be"
                f" with a core to spare): {local['cpu_us'] / shared['cpu_us']:.2f}"
            )
    if any(name.startswith("workers") for name in by_name):
        lines.append(
            f"--workers figures are indicative: {os.cpu_count()} cores for 2 workers, wrk and Redis; "
            "per core = ratio / cores used by the server"
        )
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description="emulator vs a bare Starlette app, over HTTP with wrk")
    parser.add_argument("--seconds", type=int, default=10, help="per wrk run (default 10)")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds per scenario (default 3)")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--scenario", action="append", choices=[s.name for s in SCENARIOS])
    parser.add_argument("--json", type=Path, help="also write the results as JSON")
    parser.add_argument(
        "--cpu", action="store_true",
        help="also show the CPU time per request of the emulator's processes (and of the scenario's Redis): "
        "the least of the rounds",
    )  # fmt: skip
    arguments = parser.parse_args()
    if shutil.which("wrk") is None:
        print("wrk is not installed (apt-get install wrk)", file=sys.stderr)
        return 2
    chosen = [s for s in SCENARIOS if not arguments.scenario or s.name in arguments.scenario]
    load = Load(arguments.rounds, arguments.seconds, arguments.connections)
    results = [run_scenario(s, load) for s in chosen]
    print(table(results, cpu=arguments.cpu))
    print()
    lines = summary({r["scenario"]: r for r in results}, cpu=arguments.cpu)
    pair = None
    if {"workers2-memory", "workers2-redis"} <= {s.name for s in chosen}:
        pair = workers_pair(load)
        lines[-1:-1] = pair_lines(pair)
    for line in lines:
        print(line)
    if arguments.json:
        arguments.json.write_text(json.dumps({"scenarios": results, "workers_pair": pair}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
