"""Which vendors a schemas folder declares: the folder names only, no declaration read.

Apart from :mod:`mockserver.declarations.loading` so that the pytest plugin, loaded by every pytest
session of a project that installs the package, can name its ``<vendor id>_mock`` fixtures without
importing the loader (jsonschema, the model) in a session that never uses them.
"""

from __future__ import annotations

from pathlib import Path

OPENAPI_FILE = "openapi.json"


def discover_vendors(schemas_dir: Path) -> list[str]:
    """Vendor ids: every folder of ``schemas_dir`` holding an OpenAPI document (``_shared`` excluded)."""
    return sorted(
        path.parent.name
        for path in schemas_dir.glob(f"*/{OPENAPI_FILE}")
        if not path.parent.name.startswith(("_", "."))
    )
