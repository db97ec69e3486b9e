"""``make chaos``: shared state under faults, every answer checked against an oracle.

Starts a ``redis-server`` (AOF, fsync always) and two servers on 127.0.0.1: ``a`` (``--workers 2``)
reaches Redis through a TCP proxy, ``b`` (``--workers 1``) directly. Tenant actors churn Contactship
tenants through either server, at random: register a key, then seed (replace the records), add a fault
(every read 503), clear the faults, reset the tenant, each followed by reads through either server (a
fresh connection each: either worker); at the end of its life the key is revoked (reads 401). Meanwhile
the faults of ``--faults`` are injected in turn, ``--fault-seconds`` each, ``--quiet-seconds`` apart:

- ``redis-kill``: ``kill -9`` of Redis, started again with its data;
- ``partition``: the proxy swallows every byte between ``a`` and Redis (connections kept open);
- ``slow``: the proxy holds every chunk from Redis to ``a`` for 100 ms;
- ``worker-kill``: ``kill -9`` of one of ``a``'s workers (``serve`` starts it again);
- ``redis-empty``: ``kill -9`` of Redis, started again empty (the processes write the last state back).

The oracle knows, per tenant, the last ACKNOWLEDGED (2xx) admin write and the writes whose outcome is
unknown since (refused or failed: they may or may not have been applied). Definitions:

- a **wrong answer** is a read, sent after a write was acknowledged, whose answer matches no state the
  acknowledged writes allow (plus the unknown ones). Each tenant is written and read by one actor in
  turn, so no read is in flight during its tenant's write. Reads through a server that a fault cut off,
  from the fault's start until that server converged, are not wrong answers when stale: they are
  counted as ``stale_excused``;
- a **lost acknowledged write**: after each fault has converged, and at the end, the actors pause and
  every live tenant is read through every server (both workers, a few seconds' grace); a tenant whose
  answers still match no allowed state has lost a write;
- **time to converge** after a fault: from the end of the fault (Redis started, link restored, delay
  removed) until every server reports ready, accepts an admin write, and every server serves a seed
  made through another server (and, for a partition, one made through ``b`` during it).

Every ``--every`` seconds it prints requests, wrong answers and the servers' resident memory (master
and workers); at the end a summary (``--json PATH`` keeps it). Exit 1 on any wrong answer, lost write
or vendor read that failed (no answer, or a status that is neither 200, 401 nor the fault's 503; a read
in flight on the worker `worker-kill` kills is counted apart, as cut).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.system.redis_harness import Proxy, Redis, free_port, resident_mb, worker_pids  # noqa: E402

FAULTS = ("redis-kill", "partition", "slow", "worker-kill", "redis-empty")
DEFAULT_FAULTS = ",".join(FAULTS)
LIST = "/contactship/v1/phone-numbers?limit=100"
FRESH = httpx.Limits(max_keepalive_connections=0)  # a new connection per request: either worker answers


class State(NamedTuple):
    """What a tenant's reads should show: its key alive, its records (None: the fixtures), a fault."""

    alive: bool = True
    records: tuple[str, ...] | None = None
    fault: bool = False


@dataclass
class Tenant:
    key: str
    name: str
    allowed: set[State] = field(default_factory=lambda: {State()})


@dataclass
class Server:
    name: str
    base: str
    process: subprocess.Popen[bytes]
    output: Path

    def pids(self) -> list[int]:
        return [self.process.pid, *[pid for pid in worker_pids(self.process) if pid != self.process.pid]]


@dataclass
class Tally:
    requests: int = 0
    reads: int = 0
    writes_acknowledged: int = 0
    writes_refused: int = 0  # 503 state_unavailable
    writes_failed: int = 0  # anything else but a 2xx (transport errors, timeouts, other statuses)
    read_failures: int = 0  # a read answered neither 200, 401 nor the fault's 503, or not at all
    reads_cut: int = 0  # a read whose connection was closed while a worker was killed (kill -9)
    wrong_answers: int = 0
    stale_excused: int = 0
    lost_writes: int = 0
    examples: list[str] = field(default_factory=list)
    write_statuses: dict[str, int] = field(default_factory=dict)  # the writes not acknowledged
    convergence: dict[str, list[float]] = field(default_factory=dict)
    memory: list[dict[str, float]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def note(self, what: str, example: str, phase: str = "") -> None:
        with self.lock:
            setattr(self, what, getattr(self, what) + 1)
            if what in ("wrong_answers", "lost_writes", "read_failures") and len(self.examples) < 20:
                self.examples.append(f"{what} ({phase}): {example}")


class Run:
    """The servers, the tenants, the shared counters and the actors' pause gate."""

    def __init__(self, servers: list[Server], baseline: tuple[str, ...], seconds: float) -> None:
        self.servers = servers
        self.baseline = baseline
        self.tally = Tally()
        self.tenants: dict[str, Tenant] = {}
        self.phase = "quiet"  # what the injector is doing (in the examples of wrong answers)
        self.excused: set[str] = set()  # servers whose stale reads are excused (cut off, converging)
        self.stop = threading.Event()
        self.first_round = threading.Event()  # set once every fault was injected (and converged) once
        self.deadline = time.monotonic() + seconds
        self.started = time.monotonic()
        self._gate = threading.Condition()
        self._active = 0
        self._paused = False
        self._numbers = iter(range(10**9))
        self._numbers_lock = threading.Lock()

    def number(self) -> str:
        with self._numbers_lock:
            return f"+1555{next(self._numbers):07d}"

    @contextlib.contextmanager
    def turn(self) -> Iterator[None]:
        """An actor's operation (waits while the injector checks every tenant)."""
        with self._gate:
            while self._paused:
                self._gate.wait()
            self._active += 1
        try:
            yield
        finally:
            with self._gate:
                self._active -= 1
                self._gate.notify_all()

    @contextlib.contextmanager
    def paused(self) -> Iterator[None]:
        with self._gate:
            self._paused = True
            while self._active:
                self._gate.wait()
        try:
            yield
        finally:
            with self._gate:
                self._paused = False
                self._gate.notify_all()

    # ------------------------------------------------------------------ reads and their judgement

    def observe(self, client: httpx.Client, server: Server, tenant: Tenant) -> httpx.Response | None:
        with self.tally.lock:
            self.tally.requests += 1
            self.tally.reads += 1
        try:
            return client.get(f"{server.base}{LIST}", headers={"x-api-key": tenant.key})
        except httpx.HTTPError as error:
            killing = self.phase in ("worker-kill", "converging after worker-kill")
            if killing and not isinstance(error, httpx.TimeoutException) and server.name == "a":
                self.tally.note("reads_cut", "")  # in flight on the killed worker: no server answers it
            else:
                self.tally.note("read_failures", f"{server.name} {tenant.name}: {error!r}")
            return None

    def matches(self, answer: httpx.Response, state: State) -> bool:
        if answer.status_code == 401:
            return not state.alive
        if answer.status_code == 503:
            return state.alive and state.fault
        if answer.status_code == 200:
            phones = tuple(sorted(record["phone_number"] for record in answer.json()["data"]))
            expected = self.baseline if state.records is None else tuple(sorted(state.records))
            return state.alive and not state.fault and phones == expected
        return False

    def judge(self, client: httpx.Client, server: Server, tenant: Tenant) -> None:
        answer = self.observe(client, server, tenant)
        if answer is None:
            return
        if answer.status_code not in (200, 401, 503):
            self.tally.note(
                "read_failures", f"{server.name} {tenant.name}: {answer.status_code} {answer.text[:120]}"
            )
            return
        if any(self.matches(answer, state) for state in tenant.allowed):
            return
        detail = (
            f"{server.name} {tenant.name}: {answer.status_code} {answer.text[:120]} not in {tenant.allowed}"
        )
        what = "stale_excused" if server.name in self.excused else "wrong_answers"
        self.tally.note(what, detail, f"{time.monotonic() - self.started:.1f} s, {self.phase}")

    # ------------------------------------------------------------------ writes and the oracle

    def write(
        self,
        client: httpx.Client,
        server: Server,
        tenant: Tenant | None,
        method: str,
        path: str,
        *,
        change: Callable[[State], State] = lambda state: state,
        **options: Any,
    ) -> httpx.Response | None:
        """An admin write; the tenant's allowed states follow it (acknowledged: replaced; else: added)."""
        with self.tally.lock:
            self.tally.requests += 1
        failure = "no answer"
        try:
            answer: httpx.Response | None = client.request(method, f"{server.base}{path}", **options)
        except httpx.TimeoutException:
            answer, failure = None, "timed out"
        except httpx.HTTPError:  # e.g. the connection of a worker killed with kill -9
            answer, failure = None, "connection lost"
        acknowledged = answer is not None and answer.is_success
        if not acknowledged:
            status = str(answer.status_code) if answer is not None else failure
            with self.tally.lock:
                self.tally.write_statuses[status] = self.tally.write_statuses.get(status, 0) + 1
        if answer is not None and answer.status_code == 503:
            self.tally.note("writes_refused", "")
        elif not acknowledged:
            self.tally.note("writes_failed", f"{method} {path}: {answer.status_code if answer else failure}")
        else:
            self.tally.note("writes_acknowledged", "")
        if tenant is not None:
            after = {change(state) for state in tenant.allowed}
            tenant.allowed = after if acknowledged else tenant.allowed | after
        return answer if acknowledged else None

    def check_everywhere(self, tenant: Tenant, grace: float) -> bool:
        """Every server (a few fresh connections each) answers an allowed state, within ``grace``."""
        deadline = time.monotonic() + grace
        with httpx.Client(timeout=10, limits=FRESH) as client:
            while True:
                good = True
                for server in self.servers:
                    for _ in range(6):
                        answer = self.observe(client, server, tenant)
                        if answer is None or not any(self.matches(answer, s) for s in tenant.allowed):
                            good = False
                if good:
                    return True
                if time.monotonic() > deadline:
                    return False
                time.sleep(0.2)

    def verify(self, when: str) -> None:
        """With the actors paused: no acknowledged write lost, on any tenant, through any server."""
        with self.paused():
            for tenant in list(self.tenants.values()):
                if not self.check_everywhere(tenant, grace=5):
                    self.tally.note("lost_writes", f"{tenant.name} allowed {tenant.allowed}", when)


def actor(run: Run, index: int) -> None:
    rng = random.Random(index)
    generation = 0
    with httpx.Client(timeout=30, limits=FRESH) as client:
        while not run.stop.is_set():
            generation += 1
            key = f"chaos-{index}-{generation}"
            with run.turn():
                registered = run.write(
                    client, rng.choice(run.servers), None, "POST", "/__mock__/contactship/keys",
                    json={"key": key},
                )  # fmt: skip
            if registered is None:
                run.stop.wait(0.3)
                continue
            tenant = Tenant(key, registered.json()["tenant"])
            run.tenants[key] = tenant
            headers = {"x-api-key": key}
            for _ in range(rng.randint(4, 12)):
                if run.stop.is_set():
                    break
                operation = rng.choice(("seed", "seed", "seed", "fault", "clear", "reset"))
                with run.turn():
                    server = rng.choice(run.servers)
                    if operation == "seed":
                        phones = tuple(run.number() for _ in range(rng.randint(1, 3)))
                        records = [{"type": "inbound", "phone_number": phone} for phone in phones]
                        run.write(
                            client, server, tenant, "POST", "/__mock__/contactship/seed",
                            change=lambda state, p=phones: state._replace(records=p),  # type: ignore[misc]
                            json={"records": records}, headers=headers,
                        )  # fmt: skip
                    elif operation == "fault":
                        run.write(
                            client, server, tenant, "POST", "/__mock__/contactship/faults",
                            change=lambda state: state._replace(fault=True), json={"status": 503},
                            headers=headers,
                        )  # fmt: skip
                    elif operation == "clear":
                        run.write(
                            client, server, tenant, "DELETE", "/__mock__/contactship/faults",
                            change=lambda state: state._replace(fault=False), headers=headers,
                        )  # fmt: skip
                    else:
                        run.write(
                            client, server, tenant, "POST", "/__mock__/reset",
                            change=lambda state: state._replace(records=None, fault=False),
                            params={"vendor": "contactship", "tenant": tenant.name}, headers=headers,
                        )  # fmt: skip
                for _ in range(3):
                    with run.turn():
                        run.judge(client, rng.choice(run.servers), tenant)
            while not run.stop.is_set():  # revoke (frees the tenant); retried until acknowledged
                with run.turn():  # freeing a tenant clears its faults
                    revoked = run.write(
                        client, rng.choice(run.servers), tenant, "POST", "/__mock__/contactship/revoke",
                        change=lambda state: state._replace(alive=False), json={"key": key},
                        headers=headers,
                    )  # fmt: skip
                    if revoked is not None:
                        run.judge(client, rng.choice(run.servers), tenant)
                        del run.tenants[key]
                        break
                run.stop.wait(0.3)


# ---------------------------------------------------------------------- faults


def ready_everywhere(run: Run) -> bool:
    with httpx.Client(timeout=10, limits=FRESH) as client:
        for server in run.servers:
            for _ in range(6):
                try:
                    if client.get(f"{server.base}/__mock__/health").status_code != 200:
                        return False
                except httpx.HTTPError:
                    return False
    return True


def probe_seed(run: Run, probe: Tenant, through: Server) -> bool:
    """Seed the probe tenant through one server; True when acknowledged."""
    phone = run.number()
    records = [{"type": "inbound", "phone_number": phone}]
    with httpx.Client(timeout=30) as client:
        answer = run.write(
            client, through, probe, "POST", "/__mock__/contactship/seed",
            change=lambda state: state._replace(records=(phone,)),
            json={"records": records}, headers={"x-api-key": probe.key},
        )  # fmt: skip
    return answer is not None


def converged(run: Run, probe: Tenant) -> bool:
    if not ready_everywhere(run):
        return False
    for server in run.servers:  # an admin write through each, served by every server
        if not probe_seed(run, probe, server) or not run.check_everywhere(probe, grace=0):
            return False
    return True


@dataclass
class Plan:
    """What to inject, to what, and how long."""

    redis: Redis
    proxy: Proxy
    faults: list[str]
    fault_seconds: float
    quiet_seconds: float


def begin(plan: Plan, name: str, a: Server) -> None:
    if name in ("redis-kill", "redis-empty"):
        plan.redis.kill()
    elif name == "partition":
        plan.proxy.partition()
    elif name == "slow":
        plan.proxy.delay = 0.1
    elif name == "worker-kill":
        workers = [pid for pid in worker_pids(a.process) if pid != a.process.pid]
        if workers:
            os.kill(random.choice(workers), signal.SIGKILL)


def end(plan: Plan, name: str) -> None:
    if name in ("redis-kill", "redis-empty"):
        plan.redis.start(empty=name == "redis-empty")
    elif name == "partition":
        plan.proxy.heal()
    elif name == "slow":
        plan.proxy.delay = 0.0


def inject(run: Run, plan: Plan) -> None:
    a, b = run.servers[0], run.servers[-1]
    probe = Tenant("chaos-probe", "")
    with httpx.Client(timeout=30) as client:
        answer = run.write(client, b, None, "POST", "/__mock__/contactship/keys", json={"key": probe.key})
        assert answer is not None, "the probe tenant could not be registered"
        probe.name = answer.json()["tenant"]
    number = 0
    while not run.stop.wait(plan.quiet_seconds):
        if number >= len(plan.faults) and time.monotonic() + plan.fault_seconds + 10 > run.deadline:
            break  # no time to converge and verify (each fault is injected once, though)
        name = plan.faults[number % len(plan.faults)]
        number += 1
        affected = {server.name for server in run.servers} if name.startswith("redis") else {a.name}
        if name != "slow":
            run.excused |= affected
        print(f"  {time.monotonic() - run.started:6.1f} s  fault {number}: {name}", flush=True)
        run.phase = name
        begin(plan, name, a)
        time.sleep(plan.fault_seconds / 2)
        if name == "partition" and b is not a:
            probe_seed(run, probe, b)  # made meanwhile through the server still connected
        time.sleep(plan.fault_seconds / 2)
        end(plan, name)
        run.phase = f"converging after {name}"
        ended = time.monotonic()
        while not converged(run, probe):
            if time.monotonic() - ended > 60:
                print(f"  fault {number} ({name}): not converged after 60 s", flush=True)
                break
            time.sleep(0.2)
        else:
            run.tally.convergence.setdefault(name, []).append(time.monotonic() - ended)
        run.excused -= affected
        run.phase = f"verifying after {name}"
        run.verify(f"after fault {number} ({name})")
        run.phase = "quiet"
        if number >= len(plan.faults):
            run.first_round.set()


def sample_memory(run: Run, every: float) -> None:
    while True:
        sample = {"seconds": round(time.monotonic() - run.started, 1)}
        for server in run.servers:
            sample[server.name] = round(resident_mb(server.pids()), 1)
        run.tally.memory.append(sample)
        tally = run.tally
        print(
            f"  {sample['seconds']:6.1f} s  {tally.requests:7d} requests  {tally.wrong_answers} wrong  "
            f"{tally.lost_writes} lost  RSS "
            + ", ".join(f"{s.name} {sample[s.name]:.1f} MB" for s in run.servers),
            flush=True,
        )
        if run.stop.wait(every):
            return


# ---------------------------------------------------------------------- servers


@contextlib.contextmanager
def server(name: str, folder: Path, *options: str) -> Iterator[Server]:
    """``python -m mockserver serve`` from this tree; its output in a file (a pipe could fill up)."""
    output = folder / f"{name}.out"
    with output.open("wb") as handle:
        process = subprocess.Popen(
            [sys.executable, "-m", "mockserver", "serve", "--port", str(free_port()),
             "--log-format", "off", *options],
            cwd=ROOT, stdout=handle, stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONPATH": str(ROOT)},
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while not (found := re.search(r"on (http://127\.0\.0\.1:\d+)", output.read_text(errors="replace"))):
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(
                    f"server {name} did not start:\n{output.read_text(errors='replace')[-2000:]}"
                )
            time.sleep(0.05)
        base = found.group(1)
        while True:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{base}/__mock__/health", timeout=2).status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise SystemExit(f"server {name} did not answer")
            time.sleep(0.05)
        yield Server(name, base, process, output)
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=15)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def summarize(run: Run, seconds: float, outputs: list[Path]) -> dict[str, Any]:
    tally = run.tally
    convergence = {
        name: {
            "faults": len(times),
            "p50_s": round(statistics.median(times), 2),
            "p99_s": round(percentile(times, 0.99), 2),
        }
        for name, times in tally.convergence.items()
    }
    every = [t for times in tally.convergence.values() for t in times]
    memory: dict[str, Any] = {}
    for server in run.servers:
        series = [sample[server.name] for sample in tally.memory]
        memory[server.name] = {"first_mb": series[0], "last_mb": series[-1], "max_mb": max(series)}
    tracebacks = sum(path.read_text(errors="replace").count("Traceback") for path in outputs)
    return {
        "seconds": round(seconds, 1),
        "requests": tally.requests,
        "reads": tally.reads,
        "writes_acknowledged": tally.writes_acknowledged,
        "writes_refused": tally.writes_refused,
        "writes_failed": tally.writes_failed,
        "writes_not_acknowledged_by_status": tally.write_statuses,
        "read_failures": tally.read_failures,
        "reads_cut_by_worker_kill": tally.reads_cut,
        "wrong_answers": tally.wrong_answers,
        "stale_excused": tally.stale_excused,
        "lost_writes": tally.lost_writes,
        "convergence": convergence,
        "convergence_all": (
            {
                "faults": len(every),
                "p50_s": round(statistics.median(every), 2),
                "p99_s": round(percentile(every, 0.99), 2),
            }
            if every
            else {}
        ),
        "memory": memory,
        "memory_samples": tally.memory,
        "tracebacks": tracebacks,
        "examples": tally.examples,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description="shared state under faults, checked against an oracle")
    parser.add_argument("--seconds", type=float, default=600, help="how long (default 600)")
    parser.add_argument(
        "--faults", default=DEFAULT_FAULTS, help=f"in turn, comma-separated, of {','.join(FAULTS)}"
    )
    parser.add_argument(
        "--fault-seconds", type=float, default=10, help="how long each fault lasts (default 10)"
    )
    parser.add_argument("--quiet-seconds", type=float, default=10, help="between faults (default 10)")
    parser.add_argument("--actors", type=int, default=6, help="tenant actors (default 6)")
    parser.add_argument("--every", type=float, default=30, help="seconds between progress lines (default 30)")
    parser.add_argument("--servers", type=int, choices=(1, 2), default=2, help="1: only a (2 workers)")
    parser.add_argument("--json", type=Path, help="also write the summary as JSON")
    arguments = parser.parse_args()
    faults = [name.strip() for name in arguments.faults.split(",") if name.strip()]
    unknown = sorted(set(faults) - set(FAULTS))
    if unknown:
        parser.error(f"unknown fault(s) {unknown}; known: {', '.join(FAULTS)}")

    with tempfile.TemporaryDirectory(prefix="chaos-") as temporary, contextlib.ExitStack() as stack:
        folder = Path(temporary)
        redis = Redis(folder)
        redis.start()
        stack.callback(redis.kill)
        proxy = Proxy(redis.port)
        stack.callback(proxy.close)
        servers = [stack.enter_context(server("a", folder, "--workers", "2", "--state", proxy.url()))]
        if arguments.servers == 2:
            servers.append(stack.enter_context(server("b", folder, "--state", redis.url)))
        fixtures = httpx.get(f"{servers[0].base}{LIST}", headers={"x-api-key": "contactship-test-key"}).json()
        baseline = tuple(sorted(record["phone_number"] for record in fixtures["data"]))
        run = Run(servers, baseline, arguments.seconds)
        print(
            f"chaos: {arguments.seconds:.0f} s, faults {', '.join(faults)} "
            f"({arguments.fault_seconds:.0f} s each, {arguments.quiet_seconds:.0f} s apart), "
            f"{arguments.actors} actors, servers " + ", ".join(f"{s.name} {s.base}" for s in servers),
            flush=True,
        )
        threads = [
            threading.Thread(target=actor, args=(run, n), daemon=True) for n in range(arguments.actors)
        ]
        threads.append(threading.Thread(target=sample_memory, args=(run, arguments.every), daemon=True))
        for thread in threads:
            thread.start()
        injector = threading.Thread(
            target=inject,
            args=(run, Plan(redis, proxy, faults, arguments.fault_seconds, arguments.quiet_seconds)),
            daemon=True,
        )
        injector.start()
        # --seconds, or longer until each fault was injected once (the injector stops when none fits)
        while time.monotonic() < run.deadline or (injector.is_alive() and not run.first_round.is_set()):
            time.sleep(0.2)
        run.stop.set()
        injector.join(timeout=120)
        for thread in threads:
            thread.join(timeout=60)
        run.tally.memory.append(
            {
                "seconds": round(time.monotonic() - run.started, 1),
                **{s.name: round(resident_mb(s.pids()), 1) for s in servers},
            }
        )
        run.verify("at the end")
        summary = summarize(run, time.monotonic() - run.started, [s.output for s in servers])

    print_summary(summary)
    if arguments.json:
        arguments.json.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    return 1 if summary["wrong_answers"] or summary["lost_writes"] or summary["read_failures"] else 0


def print_summary(summary: dict[str, Any]) -> None:
    print(f"\nchaos: {summary['seconds']} s, {summary['requests']} requests ({summary['reads']} reads)")
    print(
        f"  admin writes: {summary['writes_acknowledged']} acknowledged, {summary['writes_refused']} refused "
        f"(503), {summary['writes_failed']} failed otherwise; not acknowledged, by status: "
        f"{summary['writes_not_acknowledged_by_status']}"
    )
    print(
        f"  read failures: {summary['read_failures']}"
        f"  (reads in flight on the worker killed with kill -9: {summary['reads_cut_by_worker_kill']})"
    )
    print(
        f"  wrong answers: {summary['wrong_answers']}  "
        f"(stale reads excused on a cut-off server: {summary['stale_excused']})"
    )
    print(f"  lost acknowledged writes: {summary['lost_writes']}")
    for name, figures in summary["convergence"].items():
        print(
            f"  converged after {name}: p50 {figures['p50_s']} s, p99 {figures['p99_s']} s "
            f"({figures['faults']} faults)"
        )
    for name, figures in summary["memory"].items():
        print(
            f"  RSS {name}: first {figures['first_mb']} MB, last {figures['last_mb']} MB, "
            f"max {figures['max_mb']} MB"
        )
    print(f"  tracebacks in server output: {summary['tracebacks']}")
    for example in summary["examples"][:10]:
        print(f"  e.g. {example}")


if __name__ == "__main__":
    sys.exit(main())
