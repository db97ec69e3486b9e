"""The container image, checked without a Docker daemon (test_container_run.py builds and runs it).

The Dockerfile is linted with hadolint and held to what a service container needs; its install steps
(docker/install.sh, the only thing the image runs at build time) run here, offline, into a fresh
virtualenv exactly as in the image, and the result serves every vendor.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
import yaml

from mockserver.engine.emulator import Emulator, credential_headers
from tests.conftest import ROOT
from tests.system.test_distribution import dependency_site, new_virtualenv, offline_environment, run, started

DOCKERFILE = ROOT / "Dockerfile"
INSTALL = ROOT / "docker" / "install.sh"
COMPOSE = ROOT / "compose.yaml"

pytestmark = pytest.mark.xdist_group("distribution")


def _stages() -> list[list[str]]:
    """The Dockerfile's instructions per stage, continuation lines joined."""
    text = re.sub(r"\\\n\s*", " ", DOCKERFILE.read_text(encoding="utf-8"))
    stages: list[list[str]] = []
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if line.startswith("FROM "):
            stages.append([])
        if stages:
            stages[-1].append(line.strip())
    return stages


def _tool(name: str) -> str:
    path = shutil.which(name, path=str(Path(sys.executable).parent))
    assert path, f"{name} is a dev dependency (pyproject [dev])"
    return path


def test_hadolint_finds_nothing_in_the_dockerfiles() -> None:
    files = [DOCKERFILE, *sorted((ROOT / "docker").glob("*/Dockerfile"))]
    result = subprocess.run(
        [_tool("hadolint"), *map(str, files)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_dockerfile_builds_offline_from_a_small_context() -> None:
    """No `# syntax=` line (BuildKit would fetch a frontend image); .dockerignore keeps .venv and .git out."""
    assert "# syntax=" not in DOCKERFILE.read_text(encoding="utf-8")
    ignored = (ROOT / ".dockerignore").read_text(encoding="utf-8").split()
    for folder in (".venv/", ".git/", ".mypy_cache/", ".pytest_cache/", ".hypothesis/"):
        assert folder in ignored


def test_shellcheck_finds_nothing_in_the_install_steps() -> None:
    result = subprocess.run([_tool("shellcheck"), str(INSTALL)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_image_is_multi_stage_slim_and_runs_the_install_steps_in_the_build_stage() -> None:
    build, runtime = _stages()
    assert "slim" in DOCKERFILE.read_text(encoding="utf-8").split("PYTHON_IMAGE=", 1)[1].split()[0]
    assert build[0].endswith("AS build")
    assert any(line == "RUN sh docker/install.sh /src /opt/venv /tmp/build" for line in build)
    assert "COPY --from=build /opt/venv /opt/venv" in runtime


def test_the_final_stage_has_no_build_tools_and_runs_as_a_numeric_non_root_user() -> None:
    runtime = _stages()[-1]
    runs = " ".join(line for line in runtime if line.startswith("RUN "))
    for tool in ("pip install", "apt-get install", "gcc", "build-essential", "hatchling"):
        assert tool not in runs
    assert "pip uninstall --yes --quiet --root-user-action=ignore pip" in runs, "the base image's pip goes"
    assert "! python -m pip --version" in runs
    (user,) = [line.split()[1] for line in runtime if line.startswith("USER ")]
    uid = user.split(":")[0]
    assert uid.isdigit()
    assert int(uid) != 0


def test_the_final_stage_exposes_the_port_checks_health_and_serves_beyond_loopback() -> None:
    runtime = _stages()[-1]
    assert "EXPOSE 8080" in runtime
    (health,) = [line for line in runtime if line.startswith("HEALTHCHECK ")]
    assert "/__mock__/live" in health, "liveness: a replica without its Redis still serves (not restarted)"
    assert 'ENTRYPOINT ["vendor-emulator"]' in runtime
    assert 'CMD ["serve", "--host", "0.0.0.0", "--port", "8080"]' in runtime


def test_compose_takes_the_token_by_name_and_publishes_on_loopback_only() -> None:
    """No `${VAR:?}` interpolation: `ps` and `down` work without the token; every port on 127.0.0.1."""
    for path in (COMPOSE, ROOT / "compose.replicas.yaml"):
        assert ":?" not in path.read_text(encoding="utf-8")
        services = yaml.safe_load(path.read_text(encoding="utf-8"))["services"]
        for name, service in services.items():
            for port in service.get("ports", []):
                assert port.startswith("127.0.0.1:"), f"{path.name} {name}: {port}"
            assert service["read_only"] is True
            assert service["cap_drop"] == ["ALL"]
            if service["image"].startswith("vendor-emulator:"):
                assert service["environment"] == ["VENDOR_EMULATOR_ADMIN_TOKEN"]
    service = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))["services"]["vendor-emulator"]
    assert service["build"] == "."
    assert service["ports"] == ["127.0.0.1:${VENDOR_EMULATOR_PORT:-8080}:8080"]


def test_the_install_steps_build_a_virtualenv_that_serves_every_vendor(
    tmp_path: Path, emulator: Emulator
) -> None:
    """docker/install.sh, offline, exactly as the build stage runs it: then serve from the result."""
    dependencies = dependency_site(tmp_path / "dependencies")
    venv, build = tmp_path / "opt-venv", tmp_path / "build"
    bin_dir = new_virtualenv(venv, dependencies)
    new_virtualenv(build, dependencies)
    run(["sh", str(INSTALL), str(ROOT), str(venv), str(build)], tmp_path)
    assert not (bin_dir / "pip").exists(), "pip stays out of the image"
    process, base = started(bin_dir, tmp_path)
    try:
        assert httpx.get(f"{base}/__mock__/health", timeout=10).status_code == 200
        for vendor_id, spec in emulator.vendors.items():
            for endpoint in spec.endpoints:
                url = f"{base}/{vendor_id}{endpoint.path}"
                assert httpx.get(url, headers=credential_headers(spec)[0], timeout=10).status_code == 200
    finally:
        process.terminate()
        process.communicate(timeout=10)


def test_the_image_command_refuses_to_serve_beyond_loopback_without_the_token(tmp_path: Path) -> None:
    """The container's CMD without VENDOR_EMULATOR_ADMIN_TOKEN: a one-line error, before binding."""
    env = {k: v for k, v in offline_environment().items() if k != "VENDOR_EMULATOR_ADMIN_TOKEN"}
    result = subprocess.run(
        [_tool("vendor-emulator"), "serve", "--host", "0.0.0.0", "--port", "0"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "--admin-token" in result.stderr
