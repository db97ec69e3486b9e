"""A made-up vendor, written into a temporary data directory: the proof that a vendor is data.

It starts from the ``mockserver new`` skeleton and changes what a real vendor would: its path, its
envelope's shape, its header and its filters. Its ids are ``num_`` and four digits, which the seeder must
draw to the pattern.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mockserver.authoring.fixturegen import generate
from mockserver.authoring.scaffold import scaffold

PATH = "/api/lines"


def _vary(document: dict[str, Any]) -> None:
    operation = document["paths"].pop("/v1/numbers")["get"]
    document["paths"][PATH] = {"get": operation}
    declaration = operation["x-emulator"]
    declaration["envelope"] = {
        "results": "${items}",
        "paging": {
            "page": "${page}",
            "per_page": "${per_page}",
            "total": "${total}",
            "last_page": "${last_page}",
        },
    }
    document["x-emulator"]["auth"]["header"] = "X-Madeup-Token"
    document["components"]["securitySchemes"]["apiKey"]["name"] = "X-Madeup-Token"


def _vary_list(schema: dict[str, Any]) -> None:
    schema["required"] = ["results", "paging"]
    schema["properties"] = {"results": schema["properties"]["data"], "paging": schema["properties"]["meta"]}


def edit(path: Path, change: Callable[[Any], None]) -> None:
    """Apply ``change`` to the JSON document at ``path``."""
    document = json.loads(path.read_text(encoding="utf-8"))
    change(document)
    path.write_text(json.dumps(document, indent=2), encoding="utf-8")


def write_madeup(root: Path, source_schemas: Path, vendor_id: str = "madeup") -> tuple[Path, Path]:
    """schemas/ (with _shared) and fixtures/ under ``root`` holding only the made-up vendor."""
    schemas, fixtures = root / "schemas", root / "fixtures"
    shutil.copytree(source_schemas / "_shared", schemas / "_shared")
    fixtures.mkdir(parents=True)
    _add(vendor_id, schemas, fixtures)
    return schemas, fixtures


def write_fifth(
    root: Path, source_schemas: Path, source_fixtures: Path, vendor_id: str = "madeup"
) -> tuple[Path, Path]:
    """schemas/ and fixtures/ under ``root``: a copy of every vendor of the sources, and the made-up one."""
    schemas, fixtures = root / "schemas", root / "fixtures"
    shutil.copytree(source_schemas, schemas)
    shutil.copytree(source_fixtures, fixtures)
    _add(vendor_id, schemas, fixtures)
    return schemas, fixtures


def _add(vendor_id: str, schemas: Path, fixtures: Path) -> None:
    scaffold(vendor_id, schemas, fixtures)
    edit(schemas / vendor_id / "openapi.json", _vary)
    edit(schemas / vendor_id / "number-list.json", _vary_list)
    written, problems = generate(schemas, fixtures)
    assert problems == []
    for fixture in written:
        if fixture.path.parent == fixtures / vendor_id:
            fixture.path.write_text(fixture.text, encoding="utf-8")
