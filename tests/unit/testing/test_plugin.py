"""mockserver.testing.plugin: importing it is free; a pytest run gets one fixture per declared vendor."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import httpx
import pytest

from mockserver.declarations.loading import discover_vendors
from mockserver.engine.config import DEFAULT_FIXTURES_DIR, DEFAULT_SCHEMAS_DIR
from mockserver.testing import plugin
from tests.conftest import ROOT

# Every file opened and folder listed under the vendor data while the plugin module is imported.
AUDIT = textwrap.dedent(
    """
    import sys
    data = (sys.argv[1], sys.argv[2])
    touched = []

    def audit(event, args):
        if event in ("open", "os.scandir", "os.listdir") and args and isinstance(args[0], str):
            if args[0].startswith(data):
                touched.append(f"{event} {args[0]}")

    sys.addaudithook(audit)
    import mockserver.testing.plugin as plugin
    for line in touched:
        print(line)
    print("module fixtures:", sorted(name for name in vars(plugin) if name.endswith("_mock")))
    """
)


def test_importing_the_plugin_reads_no_declaration_and_makes_no_fixture() -> None:
    """Any pytest run in an environment with the package installed imports the plugin: that must be free."""
    result = subprocess.run(
        [sys.executable, "-c", AUDIT, str(DEFAULT_SCHEMAS_DIR), str(DEFAULT_FIXTURES_DIR)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert result.stdout.splitlines() == ["module fixtures: []"]


def test_the_vendor_fixtures_follow_the_declared_folders(tmp_path: Path) -> None:
    for folder in ("acme", "zeta", "_shared"):
        (tmp_path / folder).mkdir()
    (tmp_path / "acme" / "openapi.json").write_text("not read", encoding="utf-8")
    (tmp_path / "zeta" / "openapi.json").write_text("not read", encoding="utf-8")
    holder = plugin.vendor_fixtures(tmp_path)
    assert sorted(name for name in vars(holder) if name.endswith("_mock")) == ["acme_mock", "zeta_mock"]


@pytest.mark.parametrize("vendor_id", discover_vendors(DEFAULT_SCHEMAS_DIR))
def test_every_declared_vendor_has_its_fixture(vendor_id: str, request: pytest.FixtureRequest) -> None:
    vendor = request.getfixturevalue(f"{vendor_id}_mock")
    assert vendor.id == vendor_id
    answer = httpx.get(vendor.base_url + vendor.spec.endpoints[0].path, headers=vendor.headers)
    assert answer.status_code == 200
    vendor.assert_called(times=1)
