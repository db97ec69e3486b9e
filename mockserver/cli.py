"""``python -m mockserver``: serve the emulator, or check its declarations and fixtures."""

from __future__ import annotations

import argparse
import contextlib
import gc
import ipaddress
import json
import logging
import os
import signal
import socket
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from mockserver.accesslog import FORMATS, AccessLog, RotatingFile
from mockserver.app import create_app
from mockserver.config import DEFAULT_FIXTURES_DIR, DEFAULT_SCHEMAS_DIR, EmulatorConfig
from mockserver.emulator import Emulator, build_emulator, credential_headers, emulator_version
from mockserver.errors import ConfigurationError, EmulatorError
from mockserver.fixturegen import generate
from mockserver.inspector_page import UI_PATH
from mockserver.installation import check_installation
from mockserver.journal import redacted_target
from mockserver.limits import add_arguments as add_limit_arguments
from mockserver.limits import from_arguments as limits_from
from mockserver.lint import lint
from mockserver.options_file import merged, parse_option, read_options_file
from mockserver.persistence import StateDir
from mockserver.recipes import RecipeError
from mockserver.scaffold import scaffold
from mockserver.schemathesis_config import schemathesis_files
from mockserver.server import fitting, guarded
from mockserver.vendor import Credential

EXIT_USAGE = 2
STATE_ENV = "VENDOR_EMULATOR_STATE"
ADMIN_TOKEN_ENV = "VENDOR_EMULATOR_ADMIN_TOKEN"  # noqa: S105 - a variable name


def _credential(text: str) -> tuple[str, Credential]:
    vendor, equals, rest = text.partition("=")
    key, _, tenant = rest.partition(":")
    if not equals or not vendor or not key:
        raise argparse.ArgumentTypeError("expected VENDOR=KEY or VENDOR=KEY:ORGANIZATION")
    return vendor, Credential(key, tenant or None)


def _option(text: str) -> tuple[str, str, Any]:
    try:
        return parse_option(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _data_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--schemas",
        type=Path,
        metavar="DIR",
        help="vendor declarations (default: the schemas shipped with the package)",
    )
    parser.add_argument(
        "--fixtures",
        type=Path,
        metavar="DIR",
        help="seed data (default: the fixtures shipped with the package)",
    )
    parser.add_argument(
        "--vendor", help="also serve this vendor at the root, so a client only changes its host"
    )
    parser.add_argument(
        "--credential",
        type=_credential,
        action="append",
        default=[],
        metavar="VENDOR=KEY[:ORG]",
        help="accept another key (repeatable); Butter keys need their organization",
    )
    parser.add_argument(
        "--option",
        type=_option,
        action="append",
        default=[],
        metavar="VENDOR.OPTION=VALUE",
        help="change an assumption, e.g. mindhunters.over_max=clamp (repeatable; GET /__mock__ lists them)",
    )
    parser.add_argument(
        "--options-file",
        type=Path,
        metavar="FILE",
        help="options, one VENDOR.OPTION=VALUE per line (contracts calibrate writes one); --option wins",
    )


def program_name(module: str, script: str = "vendor-emulator") -> str:
    """How the user started us: the console script, or ``python -m <module>``."""
    return script if Path(sys.argv[0]).name.startswith(script) else f"python -m {module}"


def build_parser() -> argparse.ArgumentParser:
    """The command line: serve, check, contracts, schemathesis-config, fixtures and new."""
    parser = argparse.ArgumentParser(
        prog=program_name("mockserver"), description="Phone-number API vendor emulator"
    )
    parser.add_argument("--version", action="version", version=f"vendor-emulator {emulator_version()}")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve every vendor over HTTP")
    serve.add_argument(
        "--host", default="127.0.0.1", help="address to bind (default: %(default)s, loopback only)"
    )
    serve.add_argument(
        "--port", type=int, default=8080, help="port (default: %(default)s; 0 picks a free one)"
    )
    serve.add_argument(
        "--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"]
    )
    serve.add_argument(
        "--log-format",
        choices=FORMATS,
        default="text",
        help="the per-request log on stdout: one compact line (default), JSON lines, or off",
    )
    serve.add_argument(
        "--no-access-log", action="store_true", help="do not log each request (--log-format off)"
    )
    serve.add_argument(
        "--workers",
        type=int,
        default=1,
        metavar="N",
        help="serve from N processes on one port (needs --state: redis://... shares what callers change)",
    )
    serve.add_argument(
        "--state",
        metavar="URL",
        default=os.environ.get(STATE_ENV),
        help=f"where changed state lives: memory (default; this process) or redis://HOST:PORT (${STATE_ENV})",
    )
    serve.add_argument(
        "--admin-token",
        default=os.environ.get(ADMIN_TOKEN_ENV),
        help=f"required by /__mock__/ controls (default: ${ADMIN_TOKEN_ENV}); mandatory beyond loopback",
    )
    serve.add_argument(
        "--rate-limits", action="store_true", help="emulate the vendors' documented rate limits"
    )
    serve.add_argument(
        "--allowed-host",
        action="append",
        default=[],
        metavar="NAME",
        help="also answer requests with this Host (repeatable; '*' for any); others get 421",
    )
    serve.add_argument(
        "--state-dir",
        type=Path,
        metavar="DIR",
        help="save seeded data, keys, faults and rate-limit switches here after each admin write, and"
        " restore them at start",
    )
    serve.add_argument(
        "--log-file",
        type=Path,
        metavar="PATH",
        help="write the access log to this file, rotated at --log-max-bytes (default: the terminal)",
    )
    _data_arguments(serve)
    add_limit_arguments(serve)
    check = commands.add_parser("check", help="load every declaration and fixture, report problems, and exit")
    _data_arguments(check)
    commands.add_parser(
        "contracts",
        help="the contract suite and drift monitor (`contracts --help`); same as python -m contracts",
        add_help=False,
    )
    hooks = commands.add_parser(
        "schemathesis-config",
        help="write a schemathesis.toml (test credentials, hooks for opaque cursors) for this emulator",
    )
    hooks.add_argument(
        "--dir",
        type=Path,
        default=Path(),
        help="where to write the two files (default: the current directory)",
    )
    _data_arguments(hooks)
    fixtures = commands.add_parser("fixtures", help="write every fixture that has a recipe.json")
    _data_arguments(fixtures)
    fixtures.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 if a fixture is not what its recipe writes",
    )
    new = commands.add_parser("new", help="write a new vendor's skeleton (schemas, recipe, fixtures)")
    new.add_argument("vendor_id", help="the vendor's id: its mount and folder name, e.g. acme-voice")
    _data_arguments(new)
    return parser


def config_from(arguments: argparse.Namespace) -> EmulatorConfig:
    """The EmulatorConfig the command line describes."""
    credentials: dict[str, tuple[Credential, ...]] = {}
    for vendor, credential in arguments.credential:
        credentials[vendor] = (*credentials.get(vendor, ()), credential)
    given: dict[str, dict[str, Any]] = {}
    for vendor, name, value in arguments.option:
        given.setdefault(vendor, {})[name] = value
    from_file = read_options_file(arguments.options_file) if getattr(arguments, "options_file", None) else {}
    options = merged(from_file, given)
    return EmulatorConfig(
        schemas_dir=arguments.schemas or DEFAULT_SCHEMAS_DIR,
        fixtures_dir=arguments.fixtures or DEFAULT_FIXTURES_DIR,
        root_vendor=arguments.vendor,
        credentials=credentials,
        options=options,
        admin_token=getattr(arguments, "admin_token", None) or None,
        rate_limits=getattr(arguments, "rate_limits", False),
        limits=limits_from(arguments),
        state=getattr(arguments, "state", None),
    )


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


def _is_loopback(host: str) -> bool:
    """Whether every address ``host`` resolves to is a loopback address (decided before binding)."""
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)}
    except OSError:
        return False
    return all(ipaddress.ip_address(str(address).split("%")[0]).is_loopback for address in addresses)


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
    if not _is_loopback(arguments.host) and not arguments.admin_token:
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
            "or --state memory for independent read-only workers (the /__mock__/ controls are then refused)"
        )
    return None


def _serve_app(app: Any, arguments: argparse.Namespace, sock: socket.socket, *, worker: int = 0) -> int:
    """Run uvicorn on ``sock`` until SIGTERM or Ctrl-C; the banner from the first worker only."""
    import uvicorn  # noqa: PLC0415 - only the serve command needs the server

    emulator: Emulator = app.state.emulator
    gc.freeze()  # start-up objects (schemas, fixtures, indexes) live for ever: keep the collector off them
    _release_freed_memory()
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    if worker == 0:
        print(banner(emulator, f"http://{shown}:{port}") + _state_line(arguments), flush=True)
    log_format = "off" if arguments.no_access_log else arguments.log_format
    limits = emulator.config.limits
    stream = None if arguments.log_file is None else RotatingFile(arguments.log_file, limits)
    # The request log wraps the emulator itself (its vendor apps then write their own lines, the fast
    # path); the Host/Origin guard and the guarded protocol of issue 11 stay outermost.
    request_log: Any = AccessLog(app, log_format, stream) if log_format != "off" else app
    served: Any = request_log
    if arguments.workers > 1 and not emulator.shared.shared:
        served = ControlsRefused(served)
    served, protocol = guarded(served, emulator, arguments.host, arguments.allowed_host)
    server = uvicorn.Server(
        uvicorn.Config(
            served,
            log_level=arguments.log_level,
            access_log=False,  # the request log above replaces uvicorn's (it cost half the speed)
            lifespan="off",
            proxy_headers=False,
            http=protocol(fitting(limits)),
        )
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
    from mockserver.state_backends import redacted_url  # noqa: PLC0415

    where = redacted_url(arguments.state) if arguments.state != "memory" else "memory (per worker, read-only)"
    return f"  workers: {arguments.workers}; state: {where}\n"


def _release_freed_memory() -> None:
    """Give the memory freed after loading (parsed fixture files) back to the system, where glibc can."""
    with contextlib.suppress(OSError, AttributeError):
        import ctypes  # noqa: PLC0415

        ctypes.CDLL("libc.so.6").malloc_trim(0)


def _serve_workers(arguments: argparse.Namespace, sock: socket.socket) -> int:
    """Fork ``--workers`` processes that accept on the one listening socket; stop them all together."""
    children: dict[int, int] = {}
    for index in range(arguments.workers):
        pid = os.fork()
        if pid == 0:  # the worker: its own emulator (and its own connection to the shared state)
            code = EXIT_USAGE
            try:
                code = _serve_app(create_app(config_from(arguments)), arguments, sock, worker=index)
            except EmulatorError as error:
                print(f"error: {error}", file=sys.stderr, flush=True)
            finally:
                os._exit(code)
        children[pid] = index
    sock.close()

    def stop(signum: int, frame: object) -> None:
        for pid in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    status = 0
    while children:
        try:
            pid, code = os.wait()
        except ChildProcessError:
            break
        children.pop(pid, None)
        exit_code = os.waitstatus_to_exitcode(code)
        if exit_code not in (0, -signal.SIGTERM, -signal.SIGINT) and status == 0:
            status = exit_code if exit_code > 0 else 1
            stop(signal.SIGTERM, None)  # one worker failed: stop the others, report its status
    return status


class ControlsRefused:
    """``--workers N --state memory``: each worker has its own state, so changing or reading it through
    one worker would mislead; the /__mock__/ controls answer 409 (the index and health still answer)."""

    OPEN = frozenset({"/__mock__", "/__mock__/", "/__mock__/health"})

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        path: str = scope.get("path", "")
        if scope["type"] == "http" and path.startswith("/__mock__/") and path not in self.OPEN:
            body = json.dumps(
                {
                    "error": "state_not_shared",
                    "message": "these workers do not share state (--state memory): serve with "
                    "--state redis://... or one worker to use the /__mock__/ controls",
                }
            ).encode()
            headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
            await send({"type": "http.response.start", "status": 409, "headers": headers})
            await send({"type": "http.response.body", "body": body})
            return
        await self.app(scope, receive, send)


class RedactQuerySecrets(logging.Filter):
    """Keeps a key passed in a query string (``?api_key=...``) out of the access log."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and len(record.args) >= 3 and isinstance(record.args[2], str):
            record.args = (*record.args[:2], redacted_target(record.args[2]), *record.args[3:])
        return True


class Stopped(Exception):  # noqa: N818 - it is an event, not an error
    """SIGTERM arrived after the server had shut down gracefully."""


def _stopped(signum: int, frame: object) -> None:
    raise Stopped


def check(arguments: argparse.Namespace) -> int:
    """Lint every declaration and fixture: one line per problem on stderr, a summary per sound vendor."""
    for directory in (arguments.schemas, arguments.fixtures):
        if not directory.is_dir():
            raise ConfigurationError(f"directory not found: {directory}")
    vendors, problems = lint(arguments.schemas, arguments.fixtures)
    failed = {problem.file for problem in problems}
    for loaded in vendors:
        if str(loaded.spec.source) in failed or loaded.state is None:
            continue
        counts = ", ".join(
            f"{name}: {len(loaded.state.dataset('default', name))}" for name in loaded.spec.datasets
        )
        print(f"ok  {loaded.spec.id:<12} {len(loaded.spec.endpoints)} endpoint(s); {counts}")
    for problem in problems:
        print(f"error: {problem}", file=sys.stderr)
    return EXIT_USAGE if problems else 0


def write_fixtures(arguments: argparse.Namespace) -> int:
    """Generate every fixture from its recipe (or, with --check, compare); problems are one line each."""
    fixtures, problems = generate(arguments.schemas, arguments.fixtures)
    stale = [f for f in fixtures if not f.path.is_file() or f.path.read_text(encoding="utf-8") != f.text]
    for fixture in fixtures if not (arguments.check or problems) else []:
        fixture.path.write_text(fixture.text, encoding="utf-8", newline="\n")
    for fixture in fixtures:
        print(f"{'stale' if arguments.check and fixture in stale else 'ok':<6}{fixture.path}")
    for problem in problems:
        print(f"error: {problem}", file=sys.stderr)
    return 1 if problems or (arguments.check and stale) else 0


def new_vendor(arguments: argparse.Namespace) -> int:
    """Scaffold a vendor, write its fixtures from the skeleton's recipe, and say what to edit next."""
    written = scaffold(arguments.vendor_id, arguments.schemas, arguments.fixtures)
    fixtures, problems = generate(arguments.schemas, arguments.fixtures)
    mine = [f for f in fixtures if f.path.parent == arguments.fixtures / arguments.vendor_id]
    for fixture in mine:
        fixture.path.write_text(fixture.text, encoding="utf-8", newline="\n")
    for path in [*written, *(f.path for f in mine)]:
        print(f"wrote {path}")
    print("next: edit those files to what the vendor documents (CONTRIBUTING.md), then `make test`")
    for problem in problems:
        print(f"error: {problem}", file=sys.stderr)
    return 1 if problems else 0


def write_schemathesis_config(arguments: argparse.Namespace) -> int:
    """Write schemathesis.toml and its hooks file, so that the README's Schemathesis command passes."""
    emulator = build_emulator(config_from(arguments))
    paths = schemathesis_files(emulator, arguments.dir)
    print(f"wrote {paths[0]} and {paths[1]}; from {arguments.dir}, run for each vendor:")
    for vendor_id in emulator.vendors:
        print(f"  schemathesis run http://127.0.0.1:8080/{vendor_id}/openapi.json --checks all")
    return 0


COMMANDS = {
    "serve": serve,
    "check": check,
    "schemathesis-config": write_schemathesis_config,
    "fixtures": write_fixtures,
    "new": new_vendor,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; start-up problems are one line on stderr and exit status 2, never a traceback."""
    check_installation()
    words = list(sys.argv[1:] if argv is None else argv)
    if words[:1] == ["contracts"]:
        from contracts.cli import main as contracts_main  # noqa: PLC0415 - only this command needs it

        return contracts_main(words[1:], prog=f"{program_name('mockserver')} contracts")
    arguments = build_parser().parse_args(words)
    if hasattr(arguments, "schemas"):  # the shipped data, unless the command line names other folders
        arguments.schemas = arguments.schemas or DEFAULT_SCHEMAS_DIR
        arguments.fixtures = arguments.fixtures or DEFAULT_FIXTURES_DIR
    try:
        return COMMANDS[arguments.command](arguments)
    except (EmulatorError, RecipeError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USAGE
