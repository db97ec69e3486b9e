"""``serve``: bind, print the banner, and run uvicorn in one process or ``--workers`` forked ones."""

from __future__ import annotations

import argparse
import contextlib
import gc
import logging
import os
import signal
import socket
import sys
import time
from typing import Any, NoReturn

import uvicorn

from mockserver.cli.arguments import EXIT_USAGE, config_from, replayed
from mockserver.engine.emulator import Emulator, check_drift_settings, credential_headers, emulator_version
from mockserver.engine.persistence import StateDir
from mockserver.engine.routing import resolves_to_loopback
from mockserver.errors import EmulatorError
from mockserver.serving.accesslog import AccessLog, RedactQuerySecrets, RotatingFile
from mockserver.serving.app import create_app
from mockserver.serving.inspector_page import UI_PATH
from mockserver.serving.middleware import ControlsRefused
from mockserver.serving.server import Sweep, fitting, guarded


def bind(host: str, port: int) -> socket.socket:
    """A listening socket, so that a busy port is reported before anything starts."""
    family, kind, protocol, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    sock = socket.socket(family, kind, protocol)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
    except OSError:
        sock.close()
        raise
    sock.listen(2048)
    return sock


UNSPECIFIED = {"0.0.0.0": "127.0.0.1", "::": "::1"}  # noqa: S104 - recognised, not bound


def link_base(host: str, port: int) -> str:
    """The base URL the banner prints: bound to every interface (0.0.0.0, ::), a link to 0.0.0.0 does
    not open from the host, so the loopback address (where a container's published port also lands)."""
    shown = UNSPECIFIED.get(host, host)
    return f"http://[{shown}]:{port}" if ":" in shown else f"http://{shown}:{port}"


def banner(emulator: Emulator, base: str) -> str:
    """What the server prints at start: where each vendor is, and the keys it accepts."""
    lines = [f"vendor-emulator {emulator_version()} on {base}  (index: {base}/__mock__)"]
    lines.append(f"  inspector: {base}{UI_PATH}  (open it in a browser)")
    for spec in emulator.vendors.values():
        root = "  [also at /]" if emulator.config.root_vendor == spec.id else ""
        lines.append(f"  {spec.title:<12} {base}/{spec.id}{root}")
        lines += [f"      GET {base}/{spec.id}{endpoint.path}" for endpoint in spec.endpoints]
        lines += [
            "      " + "  ".join(f"{k}: {v}" for k, v in headers.items())
            for headers in credential_headers(spec)
        ]
    return "\n".join(lines) + "\n"


def serve(arguments: argparse.Namespace) -> int:
    """Bind, print the banner, and serve until Ctrl-C or SIGTERM (from N processes with --workers N)."""
    signal.signal(signal.SIGTERM, _stopped)  # a SIGTERM while loading ends the command with 0, as later
    if not resolves_to_loopback(arguments.host) and not arguments.admin_token:
        message = (
            f"error: listening on {arguments.host} would expose the /__mock__/ controls: set --admin-token"
        )
        print(message, file=sys.stderr)
        return EXIT_USAGE
    problem = _workers_problem(arguments.workers, arguments.state) or _state_dir_problem(arguments)
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return EXIT_USAGE
    try:
        config = config_from(arguments)  # checked here even for --workers: each worker builds its own
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USAGE
    replaying = replayed(arguments, config.options)
    if replaying is not None:  # what the report's findings became, before the banner
        print("\n".join(replaying.lines()), flush=True)
    if arguments.workers > 1 and config.drifts:
        check_drift_settings(config)  # once, here: not once per worker
    if arguments.workers == 1:
        app = create_app(config)
        emulator: Emulator = app.state.emulator
        if arguments.state_dir is not None:
            state = StateDir(arguments.state_dir, emulator)
            if state.restore():
                print(f"restored the state saved in {state.path}", flush=True)
            emulator.changed.append(state.save)
    try:
        sock = bind(arguments.host, arguments.port)
    except OSError as error:
        print(
            f"error: cannot listen on {arguments.host}:{arguments.port}: {error.strerror or error}",
            file=sys.stderr,
        )
        return EXIT_USAGE
    if arguments.workers == 1:
        return _serve_app(app, arguments, sock)
    return _serve_workers(arguments, sock)


def _workers_problem(workers: int, state: str | None) -> str | None:
    """Why --workers and --state do not go together, or None."""
    if workers < 1:
        return "--workers is at least 1"
    if workers > 1 and state is None:
        return (
            f"--workers {workers} needs --state: each process would otherwise answer with its own data. "
            "Give --state redis://HOST:PORT to share seeding, keys, faults, rate limits and the journal, "
            "or --state memory for independent read-only workers (the /__mock__/ controls and the vendors' "
            "write operations are then refused)"
        )
    return None


def _serve_app(app: Any, arguments: argparse.Namespace, sock: socket.socket, *, worker: int = 0) -> int:
    """Run uvicorn on ``sock`` until SIGTERM or Ctrl-C; the banner from the first worker only."""
    emulator: Emulator = app.state.emulator
    gc.freeze()  # start-up objects (schemas, fixtures, indexes) live for ever: keep the collector off them
    _release_freed_memory()
    host, port = sock.getsockname()[:2]
    every = f"  (listening on every interface, {host} port {port})\n" if host in UNSPECIFIED else ""
    announcement = banner(emulator, link_base(host, port)) + every + _state_line(arguments)
    log_format = "off" if arguments.no_access_log else arguments.log_format
    limits = emulator.config.limits
    stream = None if arguments.log_file is None else RotatingFile(arguments.log_file, limits)
    # The request log wraps the emulator itself (its vendor apps then write their own lines, the fast
    # path); the Host/Origin guard and the guarded protocol of issue 11 stay outermost.
    request_log: Any = AccessLog(app, log_format, stream) if log_format != "off" else app
    served: Any = request_log
    if arguments.workers > 1 and not emulator.shared.shared:
        served = ControlsRefused(served)
        for vendor_app in emulator.apps.values():  # each worker would keep its own purchases
            vendor_app.writes.read_only = True
    served, protocol = guarded(served, emulator, arguments.host, arguments.allowed_host)
    guarded_protocol = protocol(fitting(limits))
    server = StoppingServer(
        emulator,
        announcement if worker == 0 else None,
        uvicorn.Config(
            served,
            log_level=arguments.log_level,
            access_log=False,  # the request log above replaces uvicorn's (it cost half the speed)
            lifespan="off",
            proxy_headers=False,
            http=guarded_protocol,
        ),
        sweep=guarded_protocol.sweep,
    )
    logging.getLogger("uvicorn.access").addFilter(RedactQuerySecrets())  # if anyone turns it back on
    # uvicorn shuts down gracefully on SIGINT/SIGTERM, then re-raises the signal to the previous handler:
    # make that handler end the process quietly with status 0.
    signal.signal(signal.SIGTERM, _stopped)
    try:
        with contextlib.suppress(KeyboardInterrupt, Stopped):
            server.run(sockets=[sock])
    finally:
        if isinstance(request_log, AccessLog):
            request_log.writer.flush()
        if stream is not None:
            stream.close()
        emulator.shared.close()
    return 0


class StoppingServer(uvicorn.Server):
    """uvicorn's server that announces itself once ready and, on stopping, first ends the endless responses.

    The banner is printed after start-up, when the socket is served and uvicorn's signal handlers are in
    place: whoever waits for it (a script, a test) may then send SIGTERM and get a graceful stop.
    A graceful stop waits for every response under way; an open inspector page's event stream would hold
    it up for ever (until a second Ctrl-C). The emulator's ``stopping`` hooks end those streams.
    The guarded protocol's deadline sweep ends with it.
    """

    def __init__(
        self, emulator: Emulator, announcement: str | None, config: uvicorn.Config, sweep: Sweep | None = None
    ) -> None:
        super().__init__(config)
        self.emulator = emulator
        self.announcement = announcement
        self.sweep = sweep

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started and self.announcement is not None:
            print(self.announcement, flush=True)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        for stop in self.emulator.stopping:
            stop()
        try:
            await super().shutdown(sockets)  # the sweep still cuts slow bodies while responses finish
        finally:
            if self.sweep is not None:
                self.sweep.stop()


def _state_dir_problem(arguments: argparse.Namespace) -> str | None:
    """Why --state-dir does not go with the --state/--workers given, or None.

    --state-dir saves one process's in-memory state. With --state redis://... the state lives in Redis
    (persist it with Redis's own RDB/AOF); with --workers N every worker would hold and save a different
    state. Refused rather than half done.
    """
    if arguments.state_dir is None:
        return None
    if arguments.state not in (None, "memory"):
        return (
            "--state-dir saves in-memory state; with --state redis://... the state lives in Redis"
            " (use Redis persistence, RDB or AOF, to keep it over restarts): give one of the two"
        )
    if arguments.workers > 1:
        return "--state-dir saves one process's state: it cannot be combined with --workers above 1"
    return None


def _state_line(arguments: argparse.Namespace) -> str:
    if arguments.workers == 1 and arguments.state in (None, "memory"):
        return ""
    from mockserver.state.backends import redacted_url  # noqa: PLC0415

    where = redacted_url(arguments.state) if arguments.state != "memory" else "memory (per worker, read-only)"
    return f"  workers: {arguments.workers}; state: {where}\n"


def _release_freed_memory() -> None:
    """Give the memory freed after loading (parsed fixture files) back to the system, where glibc can."""
    with contextlib.suppress(OSError, AttributeError):
        import ctypes  # noqa: PLC0415

        ctypes.CDLL("libc.so.6").malloc_trim(0)


RESTARTS_ALLOWED = 5  # a worker killed after it started is restarted, at most this often per minute
RESTART_WINDOW_SECONDS = 60.0


STOP_SIGNALS = {signal.SIGTERM, signal.SIGINT}


def _run_worker(arguments: argparse.Namespace, sock: socket.socket, worker: int, mask: set[int]) -> NoReturn:
    """A forked worker: its own emulator (and its own connection to the shared state), until stopped.

    It starts with SIGTERM and SIGINT blocked (see ``_serve_workers``) and unblocks them, to ``mask``,
    once its own handlers are in place: a SIGTERM sent before then waits for them instead of running
    the supervisor's handler, which would leave this worker serving after the supervisor stopped it.
    """
    # not the master's handlers: a SIGTERM while this worker starts ends it (uvicorn's own handlers
    # take over once it serves)
    signal.signal(signal.SIGTERM, _stopped)
    signal.signal(signal.SIGINT, _stopped)
    code = EXIT_USAGE
    try:
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)  # a SIGTERM sent meanwhile is raised here
        code = _serve_app(create_app(config_from(arguments)), arguments, sock, worker=worker)
    except Stopped:
        code = 0
    except EmulatorError as error:
        print(f"error: {error}", file=sys.stderr, flush=True)
    finally:
        os._exit(code)


def _serve_workers(arguments: argparse.Namespace, sock: socket.socket) -> int:
    """Fork ``--workers`` processes that accept on the one listening socket; stop them all together.

    A worker killed by a signal (``kill -9``, the OOM killer) is started again, with one line on
    stderr: the others go on serving meanwhile, and with ``--state redis://`` the new one loads the
    shared state (an admin write it was making is in the store and announced, or not at all). More than
    RESTARTS_ALLOWED restarts within a minute (a crash loop), or a worker that exits with an error (it
    could not start: a bad option, an unreachable store), stops every worker; the exit status is then
    non-zero.
    """
    children: dict[int, int] = {}
    stopping = False

    def fork(index: int, restarted: bool) -> None:
        # the child inherits this process's signal handlers until it installs its own: blocked until then
        mask = signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
        try:
            pid = os.fork()
            if pid == 0:  # a restarted worker prints no banner again (worker 0 prints it once)
                _run_worker(arguments, sock, arguments.workers + index if restarted else index, mask)
            children[pid] = index
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)

    for index in range(arguments.workers):
        fork(index, restarted=False)

    def stop(signum: int, frame: object) -> None:
        nonlocal stopping
        stopping = True
        for pid in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    status = 0
    restarts: list[float] = []
    while children:
        try:
            pid, code = os.wait()
        except ChildProcessError:
            break
        index = children.pop(pid, -1)
        exit_code = os.waitstatus_to_exitcode(code)
        if exit_code in (0, -signal.SIGTERM, -signal.SIGINT) or index < 0:
            continue
        now = time.monotonic()
        restarts = [moment for moment in restarts if now - moment < RESTART_WINDOW_SECONDS]
        if exit_code < 0 and not stopping and status == 0 and len(restarts) < RESTARTS_ALLOWED:
            restarts.append(now)
            name = signal.Signals(-exit_code).name if -exit_code in signal.valid_signals() else -exit_code
            print(
                f"worker {index} (pid {pid}) was killed by {name}; starting it again",
                file=sys.stderr,
                flush=True,
            )
            fork(index, restarted=True)
            continue
        if status == 0:
            status = exit_code if exit_code > 0 else 1
            if exit_code < 0 and not stopping:
                print(
                    f"worker {index} was killed {len(restarts)} times within a minute; stopping",
                    file=sys.stderr,
                    flush=True,
                )
            stop(signal.SIGTERM, None)  # one worker failed: stop the others, report its status
    sock.close()
    return status


class Stopped(SystemExit):
    """SIGTERM outside uvicorn's own handler (after a graceful stop, or before start-up): exit with 0.

    A ``SystemExit`` because asyncio re-raises only that (and ``KeyboardInterrupt``) from its callbacks;
    any other exception raised by a signal handler inside the loop would be logged and swallowed, and the
    server would go on serving after its SIGTERM.
    """

    def __init__(self) -> None:
        super().__init__(0)


def _stopped(signum: int, frame: object) -> None:
    raise Stopped
