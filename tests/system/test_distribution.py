"""The package as users get it: built, installed (not editable) outside the checkout, and used from there.

For the wheel and for the sdist: build it from this checkout, install it into a new virtualenv in a
temporary directory, and from that directory check that ``vendor-emulator serve`` answers every vendor,
``python -m contracts check --target mock`` passes, and a separate consumer project's pytest run, with
only the installed plugin, reaches every vendor in-process with httpx, requests and aiohttp.

No network: the new virtualenv sees the dependencies already installed for the test suite (a folder of
links to them, minus this project's own editable install), and pip runs with ``--no-index``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tomllib
from pathlib import Path

import httpx
import pytest

from mockserver.declarations.loading import discover_vendors
from mockserver.engine.emulator import Emulator, credential_headers
from tests.conftest import ROOT, SCHEMAS

# One worker builds and installs both artifacts (make test runs xdist with --dist loadgroup).
pytestmark = pytest.mark.xdist_group("distribution")

CONSUMER_TESTS = Path(__file__).parents[1] / "installed_consumer" / "clients.py"
OWN_DISTRIBUTION = re.compile(r"^_?(vendor_emulator|__editable__)", re.IGNORECASE)
BUILD_TIMEOUT = 180


def dependency_site(directory: Path) -> Path:
    """Links to everything the test environment has installed, except this project itself."""
    site = Path(sysconfig.get_paths()["purelib"])
    directory.mkdir(parents=True)
    for entry in site.iterdir():
        if not OWN_DISTRIBUTION.match(entry.name) and entry.suffix != ".pth":
            (directory / entry.name).symlink_to(entry)
    return directory


def offline_environment() -> dict[str, str]:
    """The environment of every command run here: no index, no coverage, no path from this checkout."""
    drop = ("PYTHONPATH", "VIRTUAL_ENV", "COV_CORE_SOURCE", "COV_CORE_CONFIG", "COV_CORE_DATAFILE")
    env = {
        key: value for key, value in os.environ.items() if key not in drop and not key.startswith("COVERAGE")
    }
    return {**env, "PIP_NO_INDEX": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1", "PYTHONUNBUFFERED": "1"}


def attempt(
    command: list[str], cwd: Path, timeout: float = BUILD_TIMEOUT
) -> subprocess.CompletedProcess[str]:
    """Run a command outside the checkout, offline, and return what it did."""
    return subprocess.run(
        command,
        cwd=cwd,
        env=offline_environment(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def run(command: list[str], cwd: Path, timeout: float = BUILD_TIMEOUT) -> subprocess.CompletedProcess[str]:
    """Run a command outside the checkout; fail with its output if it fails."""
    result = attempt(command, cwd, timeout)
    assert result.returncode == 0, f"{command} exited {result.returncode}\n{result.stdout}\n{result.stderr}"
    return result


def new_virtualenv(path: Path, dependencies: Path) -> Path:
    """A fresh virtualenv whose only extra is the path to the already-installed dependencies."""
    base = getattr(sys, "_base_executable", sys.executable)
    subprocess.run([base, "-m", "venv", str(path)], check=True, timeout=BUILD_TIMEOUT)
    purelib = subprocess.run(
        [str(path / "bin" / "python"), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    (Path(purelib) / "zz_test_dependencies.pth").write_text(f"{dependencies}\n")
    return path / "bin"


def build(kind: str, out: Path) -> Path:
    """Build a wheel (``--wheel``) or an sdist (``--sdist``) of this checkout into ``out``."""
    run(
        [sys.executable, "-m", "build", "--no-isolation", f"--{kind}", "--outdir", str(out), str(ROOT)],
        out.parent,
    )
    (artifact,) = out.iterdir()
    return artifact


@pytest.fixture(scope="module", params=["wheel", "sdist"])
def installed(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bin/ folder of a new virtualenv with the package installed from a wheel or an sdist."""
    work = tmp_path_factory.mktemp(f"installed-{request.param}")
    artifact = build(request.param, work / "dist")
    run([sys.executable, "-m", "twine", "check", "--strict", str(artifact)], work)
    bin_dir = new_virtualenv(work / "venv", dependency_site(work / "dependencies"))
    extras = "[requests,aiohttp]"
    requirement = f"vendor-emulator{extras} @ {artifact.as_uri()}"
    run([str(bin_dir / "python"), "-m", "pip", "install", "--no-build-isolation", requirement], work)
    return bin_dir


def started(bin_dir: Path, cwd: Path) -> tuple[subprocess.Popen[str], str]:
    """``vendor-emulator serve --port 0`` from the installed console script, and its base URL."""
    process = subprocess.Popen(
        [str(bin_dir / "vendor-emulator"), "serve", "--port", "0", "--no-access-log"],
        cwd=cwd,
        env=offline_environment(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    first = process.stdout.readline()
    match = re.search(r"on (http://127\.0\.0\.1:\d+)", first)
    if match is None:
        process.kill()
        pytest.fail(f"no banner: {first}{process.communicate(timeout=10)}")
    return process, match.group(1)


def test_the_installed_data_is_found_inside_the_installation(installed: Path, tmp_path: Path) -> None:
    """Schemas and fixtures come from the installed package, never from this checkout."""
    code = "from mockserver.engine import config as c; print(c.DEFAULT_SCHEMAS_DIR, c.DEFAULT_FIXTURES_DIR)"
    schemas, fixtures = run([str(installed / "python"), "-c", code], tmp_path).stdout.split()
    venv = installed.parent.resolve()
    for folder in (Path(schemas), Path(fixtures)):
        assert folder.resolve().is_relative_to(venv), folder
        assert folder.is_dir()
    assert sorted(
        p.name for p in Path(schemas).iterdir() if p.is_dir() and not p.name.startswith("_")
    ) == sorted(discover_vendors(SCHEMAS))
    help_text = run([str(installed / "vendor-emulator"), "serve", "--help"], tmp_path).stdout
    assert "the schemas shipped with the package" in " ".join(help_text.split())
    assert str(ROOT) not in help_text


def test_the_metadata_is_complete(installed: Path, tmp_path: Path) -> None:
    """What an index page and pip show: licence, Python, URLs, classifiers, extras, the long description."""
    code = (
        "import importlib.metadata as m, json; d = m.metadata('vendor-emulator'); print(json.dumps(d.json))"
    )
    fields = json.loads(run([str(installed / "python"), "-c", code], tmp_path).stdout)
    assert fields["version"] == tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert fields["license_expression"] == "MIT"
    assert fields["requires_python"] == ">=3.11"
    assert {"requests", "aiohttp", "all"} <= set(fields["provides_extra"])
    assert any(url.startswith("Changelog, ") for url in fields["project_url"])
    assert "Typing :: Typed" in fields["classifier"]
    assert fields["description"].startswith("# vendor-emulator")
    entry_points = run(
        [str(installed / "python"), "-c", "import importlib.metadata as m; print(m.entry_points())"], tmp_path
    )
    assert "vendor-emulator" in entry_points.stdout
    assert "mockserver.testing.plugin" in entry_points.stdout


def test_the_installed_server_answers_every_vendor(
    installed: Path, tmp_path: Path, emulator: Emulator
) -> None:
    """``vendor-emulator serve`` from outside the checkout serves each declared endpoint with test keys."""
    process, base = started(installed, tmp_path)
    try:
        for vendor_id, spec in emulator.vendors.items():
            headers = credential_headers(spec)[0]
            for endpoint in spec.endpoints:
                response = httpx.get(f"{base}/{vendor_id}{endpoint.path}", headers=headers, timeout=10)
                assert response.status_code == 200, (vendor_id, endpoint.path, response.text)
        assert httpx.get(f"{base}/__mock__/health", timeout=10).json()["status"] == "ok"
        page = httpx.get(f"{base}/__mock__/ui", timeout=10)  # the inspector's files are in the package
        assert page.status_code == 200
        for asset in re.findall(r'(?:src|href)="(/__mock__/ui/static/[^"]+)"', page.text):
            assert httpx.get(f"{base}{asset}", timeout=10).status_code == 200, asset
        assert len(re.findall(r"/__mock__/ui/static/", page.text)) == 2
    finally:
        process.terminate()
        process.communicate(timeout=10)


def test_the_installed_contract_check_passes(installed: Path, tmp_path: Path) -> None:
    """``python -m contracts check --target mock`` and its console-script form pass outside the checkout."""
    module = run([str(installed / "python"), "-m", "contracts", "check", "--target", "mock"], tmp_path)
    script = run([str(installed / "vendor-emulator"), "contracts", "check", "--target", "mock"], tmp_path)
    for result in (module, script):
        lines = [line for line in result.stdout.splitlines() if line.startswith("checked")]
        assert len(lines) >= 6, result.stdout
        assert all(" 0 error, 0 warning" in line for line in lines), result.stdout


def test_a_consumer_project_reaches_every_vendor_with_every_client(installed: Path, tmp_path: Path) -> None:
    """A project with only the installed plugin: httpx sync/async, requests and aiohttp, in-process."""
    project = tmp_path / "consumer"
    project.mkdir()
    shutil.copy(CONSUMER_TESTS, project / "test_clients.py")
    result = run(
        [str(installed / "python"), "-m", "pytest", "-p", "no:cacheprovider", "-q", str(project)], project
    )
    summary = result.stdout.strip().splitlines()[-1]
    assert re.match(r"^\d+ passed in ", summary), result.stdout
    assert int(summary.split()[0]) >= 15


def test_a_clashing_distribution_stops_the_cli_and_the_plugin(installed: Path, tmp_path: Path) -> None:
    """Another distribution that writes into ``mockserver/`` is named, with the fix, before anything runs."""
    purelib = Path(
        run(
            [
                str(installed / "python"),
                "-c",
                "import mockserver, pathlib; print(pathlib.Path(mockserver.__file__).parent.parent)",
            ],
            tmp_path,
        ).stdout.strip()
    )
    foreign = purelib / "mockserver" / "mockserver_client_api.py"
    info = purelib / "mockserver_client-5.1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: mockserver-client\nVersion: 5.1.0\n")
    (info / "RECORD").write_text("mockserver/__init__.py,,\nmockserver/mockserver_client_api.py,,\n")
    foreign.write_text("")
    try:
        for command in (["vendor-emulator", "check"], ["python", "-m", "pytest", "-p", "no:cacheprovider"]):
            result = attempt([str(installed / command[0]), *command[1:]], tmp_path)
            output = result.stdout + result.stderr
            assert result.returncode != 0, output
            assert "vendor-emulator and mockserver-client" in output, output
            assert "pip uninstall -y mockserver-client vendor-emulator" in output, output
    finally:
        foreign.unlink()
        shutil.rmtree(info)
