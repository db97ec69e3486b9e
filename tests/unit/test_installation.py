"""The clash check: another distribution in ``mockserver/`` or ``contracts/`` is named, with the fix.

An installed distribution is faked on disk (a dist-info with a RECORD, and the package folder), so the
check reads real files the way it does in a virtualenv; tests/system/test_distribution.py does the same with a
real installed wheel.
"""

from __future__ import annotations

import base64
import hashlib
import sys
from importlib import metadata
from pathlib import Path
from types import SimpleNamespace

import pytest

from mockserver import installation

INIT = b'"""Ours."""\n'


def _record_line(path: str, content: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(content).digest()).rstrip(b"=").decode()
    return f"{path},sha256={digest},{len(content)}"


def _installed(site: Path, package: str = "contracts") -> dict[str, metadata.PackagePath]:
    """Our package as a wheel installs it into ``site``: the folder, and a dist-info whose RECORD lists it."""
    (site / package).mkdir(parents=True)
    (site / package / "__init__.py").write_bytes(INIT)
    (site / package / "cli.py").write_bytes(b"")
    info = site / "vendor_emulator-0.2.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: vendor-emulator\nVersion: 0.2.0\n")
    lines = [_record_line(f"{package}/__init__.py", INIT), _record_line(f"{package}/cli.py", b"")]
    (info / "RECORD").write_text("\n".join(lines) + "\n")
    files = metadata.PathDistribution(info).files or []
    return {file.as_posix(): file for file in files}


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(installation, "TOP_LEVEL_PACKAGES", ("contracts",))
    files = _installed(tmp_path)
    monkeypatch.setattr(installation, "_our_files", lambda: files)
    monkeypatch.setitem(
        sys.modules, "contracts", SimpleNamespace(__file__=str(tmp_path / "contracts/__init__.py"))
    )
    return tmp_path


def _owned_by(monkeypatch: pytest.MonkeyPatch, *names: str) -> None:
    owners = {"contracts": ["vendor-emulator", *names]}
    monkeypatch.setattr(metadata, "packages_distributions", lambda: owners)


def test_our_own_installation_is_no_clash(site: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _owned_by(monkeypatch, "PyContracts")  # claimed, but nothing in the folder shows it: not looked up
    assert installation.clash_messages() == []


def test_a_foreign_file_in_our_folder_names_the_other_distribution_and_the_fix(
    site: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _owned_by(monkeypatch, "PyContracts")
    (site / "contracts" / "library.py").write_text("")
    (message,) = installation.clash_messages()
    assert "installed by both vendor-emulator and PyContracts" in message
    assert "pip uninstall -y PyContracts vendor-emulator" in message


def test_an_overwritten_init_is_a_clash_too(site: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _owned_by(monkeypatch, "PyContracts")
    (site / "contracts" / "__init__.py").write_text("from contracts.library import *\n")
    (message,) = installation.clash_messages()
    assert "PyContracts" in message


def test_a_local_folder_that_shadows_ours_is_named(site: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    local = site / "project" / "contracts" / "__init__.py"
    monkeypatch.setitem(sys.modules, "contracts", SimpleNamespace(__file__=str(local)))
    (message,) = installation.clash_messages()
    assert f"imported from {local.parent}" in message
    assert "rename the local 'contracts'" in message


def test_a_checkout_or_editable_install_has_nothing_to_compare(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(installation, "_our_files", dict)
    assert installation.clash_messages() == []


def test_check_installation_stops_with_exit_2_and_one_line_per_clash(
    site: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _owned_by(monkeypatch, "PyContracts")
    (site / "contracts" / "library.py").write_text("")
    with pytest.raises(SystemExit) as stopped:
        installation.check_installation()
    assert stopped.value.code == 2
    assert capsys.readouterr().err.startswith("error: vendor-emulator: the package 'contracts'")


def test_other_owners_ignore_our_own_name_however_it_is_spelled() -> None:
    owners = {"mockserver": ["vendor_emulator", "Vendor-Emulator", "mockserver-client"]}
    assert installation.other_owners("mockserver", owners) == ["mockserver-client"]
