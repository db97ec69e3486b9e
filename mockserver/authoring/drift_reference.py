"""The drift catalogue of every vendor, as the ``drifts`` command prints it and docs/drifts.md shows it.

``python -m mockserver.authoring.drift_reference`` rewrites the generated part of docs/drifts.md (between
its ``drifts:begin`` and ``drifts:end`` markers); ``--check`` exits 1 when it is out of date.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from mockserver.declarations.loading import discover_vendors, load_vendor
from mockserver.documents.schemas import SchemaStore
from mockserver.drifts import Drift, VendorDrifts, vendor_view
from mockserver.engine.config import DEFAULT_SCHEMAS_DIR

DOC = Path(__file__).resolve().parents[2] / "docs" / "drifts.md"
BEGIN, END = "<!-- drifts:begin -->", "<!-- drifts:end -->"


def catalogue(schemas_dir: Path = DEFAULT_SCHEMAS_DIR, vendor: str | None = None) -> list[dict[str, Any]]:
    """Every drift of every vendor (or of ``vendor``), in the JSON form of ``drifts --json``."""
    store = SchemaStore(schemas_dir)
    found: list[dict[str, Any]] = []
    for vendor_id in discover_vendors(schemas_dir):
        if vendor is None or vendor_id == vendor:
            spec = load_vendor(schemas_dir / vendor_id, store)
            found.extend(VendorDrifts(vendor_view(spec, store)).describe())
    return found


def _params(entry: dict[str, Any]) -> str:
    defaults: dict[str, set[str]] = {}
    for applies in entry["applies"]:
        for name, value in applies["defaults"].items():
            defaults.setdefault(name, set()).add(str(value))
    parts = []
    for param in entry["params"]:
        shown = sorted(defaults.get(param["name"], set()))
        parts.append(f"`{param['name']}` ({', '.join(shown) or 'no default'})")
    return "; ".join(parts) or "none"


def text(entries: Sequence[dict[str, Any]]) -> str:
    """One line per drift and vendor: id, kind produced, parameters with defaults, endpoints."""
    lines = []
    for entry in entries:
        kind = entry["kind"] or f"not visible ({entry['invisible']})"
        where = ", ".join(applies["endpoint"] for applies in entry["applies"])
        lines.append(f"{entry['vendor']:<12} {entry['id']:<36} {kind}")
        lines.append(f"{'':<12}   params: {_params(entry)}; applies to: {where}")
    return "\n".join(lines) + "\n"


def markdown(entries: Sequence[dict[str, Any]]) -> str:
    """The generated part of docs/drifts.md: one row per drift, the vendors and endpoints where it applies
    (with the finding kind where it differs from the drift's own)."""
    by_id: dict[str, list[dict[str, Any]]] = {}
    for entry in entries:
        by_id.setdefault(entry["id"], []).append(entry)
    rows = [
        "| drift | what the vendor does | finding kind | parameters (defaults) | applies to |",
        "|---|---|---|---|---|",
    ]
    for drift_id, drift in Drift.kinds().items():
        found = by_id.get(drift_id, [])
        kind = f"`{drift.kind}`" if drift.kind else f"not visible: {drift.invisible}"
        params = _params({"params": found[0]["params"], "applies": [a for e in found for a in e["applies"]]})
        where = "<br>".join(
            f"{entry['vendor']}: " + ", ".join(_where(applies, drift.kind) for applies in entry["applies"])
            for entry in found
        )
        summary = f"{drift.summary}.{' May make a naive client page for ever.' if drift.loops else ''}"
        rows.append(f"| `{drift_id}` | {summary} | {kind} | {params if found else ''} | {where or 'none'} |")
    return "\n".join(rows) + "\n"


def _where(applies: dict[str, Any], kind: str | None) -> str:
    other = f" → `{applies['kind']}`" if applies["kind"] != kind else ""
    return f"`{applies['endpoint']}`{other}"


def generated_doc(current: str, entries: Sequence[dict[str, Any]]) -> str:
    """docs/drifts.md with its generated part replaced."""
    head, _, rest = current.partition(BEGIN)
    _, _, tail = rest.partition(END)
    return f"{head}{BEGIN}\n{markdown(entries)}{END}{tail}"


def main(argv: Sequence[str] | None = None) -> int:
    """Rewrite docs/drifts.md's table (or, with --check, exit 1 when it is out of date)."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if out of date")
    arguments = parser.parse_args(argv)
    current = DOC.read_text(encoding="utf-8")
    wanted = generated_doc(current, catalogue())
    if arguments.check:
        if wanted != current:
            sys.stderr.write(f"{DOC} is out of date: python -m mockserver.authoring.drift_reference\n")
            return 1
        return 0
    DOC.write_text(wanted, encoding="utf-8", newline="\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
