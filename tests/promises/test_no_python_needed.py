"""A new vendor is a folder of schemas and a folder of fixtures: each declared vendor, copied under a fresh
name into a temporary copy of the data, is served by the engine with no Python written for it."""

from __future__ import annotations

import shutil
from pathlib import Path

import httpx
import pytest

from mockserver import EmulatorConfig, create_app
from mockserver.engine.emulator import credential_headers
from mockserver.intercept.transport import EmulatorTransport
from tests.conftest import FIXTURES, SCHEMAS, VENDORS


def fresh_name(taken: list[str], base: str) -> str:
    """A vendor id no declared vendor has (``copy-of-<base>``, numbered if that is taken too)."""
    candidates = (f"copy-of-{base}" + (f"-{n}" if n else "") for n in range(len(taken) + 1))
    return next(name for name in candidates if name not in taken)


@pytest.mark.parametrize("vendor_id", VENDORS)
def test_a_copied_vendor_is_served_under_its_new_name(tmp_path: Path, vendor_id: str) -> None:
    """Adding a vendor touches schemas/<new>/ and fixtures/<new>/, no Python."""
    shutil.copytree(SCHEMAS, tmp_path / "schemas")
    shutil.copytree(FIXTURES, tmp_path / "fixtures")
    name = fresh_name(VENDORS, vendor_id)
    shutil.copytree(SCHEMAS / vendor_id, tmp_path / "schemas" / name)
    shutil.copytree(FIXTURES / vendor_id, tmp_path / "fixtures" / name)
    config = EmulatorConfig(
        schemas_dir=tmp_path / "schemas", fixtures_dir=tmp_path / "fixtures", vendors=(name,)
    )
    app = create_app(config)
    spec = app.state.emulator.vendors[name]
    with httpx.Client(transport=EmulatorTransport(app), base_url="http://e") as client:
        for endpoint in spec.endpoints:
            response = client.get(f"/{name}{endpoint.path}", headers=credential_headers(spec)[0])
            assert response.status_code == 200, response.text


def test_a_fresh_name_avoids_every_declared_vendor() -> None:
    assert fresh_name(["a", "copy-of-a", "copy-of-a-1"], "a") == "copy-of-a-2"
