"""The commands for vendor authors and fuzzing: ``check``, ``fixtures``, ``new``, ``schemathesis-config``."""

from __future__ import annotations

import argparse
import sys

from mockserver.authoring.fixturegen import generate
from mockserver.authoring.lint import lint
from mockserver.authoring.scaffold import scaffold
from mockserver.cli.arguments import EXIT_USAGE, config_from
from mockserver.engine.emulator import build_emulator
from mockserver.errors import ConfigurationError
from mockserver.testing.schemathesis_config import schemathesis_files


def check(arguments: argparse.Namespace) -> int:
    """Lint every declaration and fixture: one line per problem on stderr, a summary per sound vendor."""
    for directory in (arguments.schemas, arguments.fixtures):
        if not directory.is_dir():
            raise ConfigurationError(f"directory not found: {directory}")
    vendors, problems = lint(arguments.schemas, arguments.fixtures)
    failed = {problem.file for problem in problems}
    for loaded in vendors:
        if str(loaded.spec.source) in failed or loaded.datasets is None:
            continue
        counts = ", ".join(
            f"{name}: {len(loaded.datasets.dataset('default', name))}" for name in loaded.spec.datasets
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
    """Write schemathesis.toml and its hooks file, so that the documented Schemathesis command passes."""
    emulator = build_emulator(config_from(arguments))
    paths = schemathesis_files(emulator, arguments.dir)
    print(f"wrote {paths[0]} and {paths[1]}; from {arguments.dir}, run for each vendor:")
    for vendor_id in emulator.vendors:
        print(f"  schemathesis run http://127.0.0.1:8080/{vendor_id}/openapi.json --checks all")
    return 0
