"""``python -m mockserver`` / ``vendor-emulator``: serve the emulator, or check its declarations and fixtures.

The command line is the composition root of the product: ``arguments`` parses, ``serve`` runs the server,
``authoring`` holds the commands for vendor authors, and ``contracts`` hands over to the contract suite.

Layer 11, the top: may import any layer; the one module of mockserver allowed to import ``contracts``.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from mockserver.cli.arguments import EXIT_USAGE, build_parser
from mockserver.cli.serve import serve
from mockserver.data.recipes import RecipeError
from mockserver.declarations.loading import discover_vendors
from mockserver.drifts import DriftError
from mockserver.engine.config import DEFAULT_FIXTURES_DIR, DEFAULT_SCHEMAS_DIR
from mockserver.errors import EmulatorError
from mockserver.installation import check_installation, program_name

__all__ = ["COMMANDS", "main"]


def list_drifts(arguments: argparse.Namespace) -> int:
    """``drifts``: every drift each vendor can serve (or one vendor's), as text or JSON."""
    schemas = arguments.schemas_dir or DEFAULT_SCHEMAS_DIR
    if arguments.vendor is not None and arguments.vendor not in discover_vendors(schemas):
        print(f"error: no vendor {arguments.vendor!r}; known: {discover_vendors(schemas)}", file=sys.stderr)
        return EXIT_USAGE
    if arguments.from_report:
        return _replay(arguments, schemas)
    from mockserver.authoring.drift_reference import catalogue, text  # noqa: PLC0415 - not needed to serve

    entries = catalogue(schemas, arguments.vendor)
    print(
        json.dumps(entries, indent=2) if arguments.json else text(entries), end="\n" if arguments.json else ""
    )
    return 0


def _replay(arguments: argparse.Namespace, schemas: Path) -> int:
    """``drifts --from REPORT``: what ``serve --drift-from REPORT`` would serve, and what it cannot."""
    from mockserver.drifts.replay import replay_reports  # noqa: PLC0415 - not needed to serve

    try:
        found = replay_reports(arguments.from_report, schemas)
    except DriftError as error:
        print(f"error: --from {error}", file=sys.stderr)
        return EXIT_USAGE
    if arguments.vendor is not None:
        found.served = [item for item in found.served if item.vendor == arguments.vendor]
        found.unexpressed = [item for item in found.unexpressed if item.finding.vendor == arguments.vendor]
    print(json.dumps(found.as_dict(), indent=2) if arguments.json else "\n".join(found.lines()))
    return 0


# The authoring commands are imported when they run: serving (the common command, and the one whose
# start-up is timed) does not pay for them.
def check(arguments: argparse.Namespace) -> int:
    """``check``: lint every declaration and fixture (mockserver.cli.authoring)."""
    from mockserver.cli.authoring import check as command  # noqa: PLC0415

    return command(arguments)


def write_schemathesis_config(arguments: argparse.Namespace) -> int:
    """``schemathesis-config``: write schemathesis.toml and its hooks (mockserver.cli.authoring)."""
    from mockserver.cli.authoring import write_schemathesis_config as command  # noqa: PLC0415

    return command(arguments)


def write_fixtures(arguments: argparse.Namespace) -> int:
    """``fixtures``: generate every fixture from its recipe (mockserver.cli.authoring)."""
    from mockserver.cli.authoring import write_fixtures as command  # noqa: PLC0415

    return command(arguments)


def new_vendor(arguments: argparse.Namespace) -> int:
    """``new``: scaffold a vendor (mockserver.cli.authoring)."""
    from mockserver.cli.authoring import new_vendor as command  # noqa: PLC0415

    return command(arguments)


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "serve": serve,
    "drifts": list_drifts,
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
        from contracts.tools.cli import main as contracts_main  # noqa: PLC0415 - only this command needs it

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
