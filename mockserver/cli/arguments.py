"""The command line's arguments: the parser, and the emulator configuration they describe."""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import orjson

from mockserver.drifts import DriftError, parse_spec
from mockserver.drifts.replay import Replay, replay_reports
from mockserver.engine.config import DEFAULT_FIXTURES_DIR, DEFAULT_SCHEMAS_DIR, DriftSetting, EmulatorConfig
from mockserver.engine.emulator import emulator_version
from mockserver.engine.options_file import merged, parse_option, read_options_file
from mockserver.errors import ConfigurationError
from mockserver.installation import program_name
from mockserver.kinds.auth import Credential
from mockserver.limits import add_arguments as add_limit_arguments
from mockserver.limits import from_arguments as limits_from
from mockserver.serving.accesslog import FORMATS

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


def _drift(text: str) -> DriftSetting:
    try:
        vendor, drift, params = parse_spec(text)
    except DriftError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    return DriftSetting(vendor, drift, params)


DRIFT_FILE_KEYS = frozenset({"vendor", "drift", "params", "endpoint", "probability"})


def read_drift_file(path: Path) -> tuple[DriftSetting, ...]:
    """``--drift-file``: a JSON list of the admin API's drift objects, each with its ``vendor``."""
    try:
        items = orjson.loads(path.read_bytes())
    except OSError as error:
        raise ConfigurationError(f"--drift-file {path}: {error.strerror or error}") from None
    except orjson.JSONDecodeError as error:
        raise ConfigurationError(f"--drift-file {path}: not JSON ({error})") from None
    if not isinstance(items, list):
        raise ConfigurationError(f"--drift-file {path}: a JSON list of drift objects")
    found = []
    for number, item in enumerate(items, 1):
        where = f"--drift-file {path}: item {number}"
        if not isinstance(item, dict) or not isinstance(item.get("vendor"), str):
            raise ConfigurationError(f'{where}: an object with "vendor" and "drift"')
        unknown = sorted(set(item) - DRIFT_FILE_KEYS)
        if unknown:
            keys = sorted(DRIFT_FILE_KEYS)
            raise ConfigurationError(f"{where}: unknown keys {unknown} (a standing drift takes {keys})")
        params = item.get("params") or {}
        if not isinstance(params, dict):
            raise ConfigurationError(f"{where}: params is an object")
        endpoint, probability = item.get("endpoint"), item.get("probability")
        found.append(DriftSetting(item["vendor"], str(item.get("drift")), params, endpoint, probability))
    return tuple(found)


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
    serve.add_argument(
        "--drift",
        type=_drift,
        action="append",
        default=[],
        metavar="VENDOR:ID[:PARAM=VALUE,...]",
        help="serve a vendor change for every request while the server runs (repeatable; see `drifts`)",
    )
    serve.add_argument(
        "--drift-file",
        type=Path,
        metavar="FILE",
        help="drifts to serve: a JSON list of the admin API's drift objects, each with its vendor",
    )
    serve.add_argument(
        "--drift-from",
        type=Path,
        action="append",
        default=[],
        metavar="REPORT",
        help="serve every finding of a `contracts check --format json` report that a drift can express"
        " (repeatable; lists those it cannot at start-up)",
    )
    _data_arguments(serve)
    add_limit_arguments(serve)
    drifts = commands.add_parser(
        "drifts", help="list the drifts (vendor changes) each vendor can serve: kind found, params, endpoints"
    )
    drifts.add_argument("--vendor", help="only this vendor's drifts")
    drifts.add_argument("--json", action="store_true", help="print JSON (one object per drift and vendor)")
    drifts.add_argument(
        "--from",
        type=Path,
        action="append",
        dest="from_report",
        default=[],
        metavar="REPORT",
        help="what `serve --drift-from REPORT` would serve, and the findings it cannot express",
    )
    drifts.add_argument(
        "--schemas",
        type=Path,
        dest="schemas_dir",
        metavar="DIR",
        help="vendor declarations (default: the shipped schemas)",
    )
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
        drifts=(*getattr(arguments, "drift", ()), *_drift_file(arguments), *_replayed(arguments, options)),
    )


def replayed(arguments: argparse.Namespace, options: Mapping[str, Mapping[str, Any]]) -> Replay | None:
    """``serve --drift-from``: the drifts that replay the reports (read once), or None without reports;
    ConfigurationError (one line) for an unreadable or invalid report."""
    paths = getattr(arguments, "drift_from", None)
    if not paths:
        return None
    cached: Replay | None = getattr(arguments, "replayed_reports", None)
    if cached is None:
        try:
            cached = replay_reports(paths, arguments.schemas or DEFAULT_SCHEMAS_DIR, options)
        except DriftError as error:
            raise ConfigurationError(f"--drift-from {error}") from None
        arguments.replayed_reports = cached
    return cached


def _replayed(
    arguments: argparse.Namespace, options: Mapping[str, Mapping[str, Any]]
) -> tuple[DriftSetting, ...]:
    found = replayed(arguments, options)
    return tuple(
        DriftSetting(item.vendor, item.drift, item.params, item.endpoint)
        for item in (found.served if found else ())
    )


def _drift_file(arguments: argparse.Namespace) -> tuple[DriftSetting, ...]:
    path = getattr(arguments, "drift_file", None)
    return read_drift_file(path) if path is not None else ()
