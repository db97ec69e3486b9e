"""The container image, built and run where a Docker daemon runs (`make test` starts one as root).

The base images come from Debian's packages, offline (scripts/container_images.py, cached in Docker by
tag); then the project's Dockerfile, compose.yaml and compose.replicas.yaml are used as a user would.
Every container publishes on 127.0.0.1 only, on ports Docker or the test picks. Without a daemon every
test here skips, with the reason. The timings and the image size go to reports/container.json and are
printed at the end of the run (tests/conftest.py).
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
import yaml

from mockserver.engine.emulator import Emulator, credential_headers
from tests.conftest import ROOT

REPORT = ROOT / "reports" / "container.json"
TOKEN_VARIABLE = "VENDOR_EMULATOR_ADMIN_TOKEN"
IMAGE = str(
    yaml.safe_load((ROOT / "compose.yaml").read_text(encoding="utf-8"))["services"]["vendor-emulator"][
        "image"
    ]
)
SECURE = ["--read-only", "--cap-drop", "ALL", "--security-opt", "no-new-privileges"]


def _daemon_missing() -> str | None:
    if shutil.which("docker") is None:
        return "docker not found (make test installs docker.io when run as root)"
    answer = subprocess.run(["docker", "info"], capture_output=True, text=True, check=False, timeout=30)
    if answer.returncode != 0:
        return "no Docker daemon running (make test starts one when run as root)"
    if shutil.which("debootstrap") is None and not _image_exists("python:3.11-slim-bookworm"):
        return "debootstrap not found, and no base image to build on"
    return None


def _image_exists(tag: str) -> bool:
    found = subprocess.run(["docker", "image", "inspect", tag], capture_output=True, check=False)
    return found.returncode == 0


MISSING = _daemon_missing()
pytestmark = [
    pytest.mark.skipif(MISSING is not None, reason=MISSING or ""),
    pytest.mark.xdist_group("docker"),
]


def compose_command() -> list[str]:
    """The compose plugin where it is installed, else docker-compose (Debian bookworm packages 1.29)."""
    if subprocess.run(["docker", "compose", "version"], capture_output=True, check=False).returncode == 0:
        return ["docker", "compose"]
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    pytest.skip(
        "neither `docker compose` nor docker-compose is installed (make test installs docker-compose)"
    )


def docker(*args: str, env: dict[str, str] | None = None, timeout: float = 600) -> str:
    """Run docker (or compose) and return its output; fail with what it said."""
    command = list(args) if args[0] in ("docker", "docker-compose", sys.executable) else ["docker", *args]
    result = subprocess.run(
        command, capture_output=True, text=True, check=False, timeout=timeout, env=env, cwd=ROOT
    )
    assert result.returncode == 0, (
        f"{command[:4]} exited {result.returncode}\n{result.stdout}\n{result.stderr}"
    )
    return result.stdout.strip()


def report(**values: Any) -> None:
    """Add ``values`` to reports/container.json (printed at the end of the run)."""
    REPORT.parent.mkdir(exist_ok=True)
    old = json.loads(REPORT.read_text(encoding="utf-8")) if REPORT.exists() else {}
    REPORT.write_text(json.dumps({**old, **values}, indent=2) + "\n", encoding="utf-8")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def eventually(check: Callable[[], bool], seconds: float, what: str) -> float:
    """Poll ``check`` until true; the seconds it took."""
    started = time.monotonic()
    while not check():
        assert time.monotonic() - started < seconds, f"{what}: not within {seconds} s"
        time.sleep(0.05)
    return time.monotonic() - started


def answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


@pytest.fixture(scope="module")
def image() -> str:
    """The base images (offline, cached by tag), then the project's image and the replica set's two."""
    REPORT.unlink(missing_ok=True)
    started = time.monotonic()
    bases = json.loads(docker(sys.executable, str(ROOT / "scripts" / "container_images.py")))
    report(base_build_seconds=bases)
    started = time.monotonic()
    docker("build", "--quiet", "-t", IMAGE, ".")
    report(image_build_seconds=round(time.monotonic() - started, 1))
    size = int(docker("image", "inspect", "-f", "{{.Size}}", IMAGE))
    report(image=IMAGE, image_size_mb=round(size / 1e6, 1))
    for tag, folder in (
        ("vendor-emulator-haproxy:bookworm", "haproxy"),
        ("vendor-emulator-redis:bookworm", "redis"),
    ):
        docker("build", "--quiet", "-t", tag, f"docker/{folder}")
    return IMAGE


@pytest.fixture
def token() -> dict[str, str]:
    """A fresh admin token, passed by name (-e NAME) so it shows in no command line or log."""
    return {**os.environ, TOKEN_VARIABLE: secrets.token_hex(16)}


@pytest.fixture
def container(image: str) -> Iterator[Callable[..., str]]:
    """Start containers of the image (removed afterwards); returns the container's name."""
    names: list[str] = []

    def start(*options: str, env: dict[str, str] | None = None, command: tuple[str, ...] = ()) -> str:
        name = f"vendor-emulator-test-{os.getpid()}-{len(names)}"
        names.append(name)
        docker("run", "-d", "--name", name, *options, image, *command, env=env)
        return name

    yield start
    for name in names:
        subprocess.run(["docker", "rm", "-f", name], capture_output=True, check=False)


def health(name: str) -> str:
    return docker("inspect", "-f", "{{if .State.Health}}{{.State.Health.Status}}{{end}}", name)


def published(name: str) -> str:
    (line,) = docker("port", name, "8080/tcp").splitlines()[:1]
    host, port = line.rsplit(":", 1)
    assert host == "127.0.0.1", "published on loopback only"
    return f"http://127.0.0.1:{port}"


def test_the_image_serves_every_vendor_hardened_as_a_non_root_user_and_stops_at_once(
    container: Callable[..., str], token: dict[str, str], emulator: Emulator, http: httpx.Client
) -> None:
    name = container(*SECURE, "-p", "127.0.0.1::8080", "-e", TOKEN_VARIABLE, env=token)
    check = json.loads(docker("inspect", "-f", "{{json .Config.Healthcheck}}", name))
    budget = (check["StartPeriod"] + check["Interval"] * check["Retries"]) / 1e9
    to_healthy = eventually(lambda: health(name) == "healthy", budget, "healthy within its HEALTHCHECK")
    report(start_to_healthy_seconds=round(to_healthy, 2), healthcheck_budget_seconds=budget)
    base = published(name)

    for vendor_id, spec in emulator.vendors.items():
        good = credential_headers(spec)[0]
        wrong = dict.fromkeys(good, "wrong-key-0000")
        for endpoint in spec.endpoints:
            path = f"/{vendor_id}{endpoint.path}"
            assert httpx.get(f"{base}{path}", headers=good, timeout=10).status_code == 200, path
            refused, expected = (
                httpx.get(f"{base}{path}", headers=wrong, timeout=10),
                http.get(path, headers=wrong),
            )
            assert refused.status_code == expected.status_code == 401, path
            assert refused.json() == expected.json(), f"{path}: the vendor's own 401 body"

    assert httpx.post(f"{base}/__mock__/reset", timeout=10).status_code == 401, "controls need the token"
    admin = {"X-Mock-Admin-Token": token[TOKEN_VARIABLE]}
    assert httpx.post(f"{base}/__mock__/reset", headers=admin, timeout=10).status_code == 200

    status = docker("exec", name, "cat", "/proc/1/status")
    uids = next(line for line in status.splitlines() if line.startswith("Uid:")).split()[1:]
    assert uids == ["10001"] * 4
    assert (
        docker("inspect", "-f", "{{.HostConfig.ReadonlyRootfs}} {{.HostConfig.CapDrop}}", name)
        == "true [ALL]"
    )
    pip = subprocess.run(
        ["docker", "exec", name, "python", "-m", "pip", "--version"], capture_output=True, check=False
    )
    assert pip.returncode != 0, "no pip in the image"
    logs = subprocess.run(["docker", "logs", name], capture_output=True, text=True, check=False)
    assert token[TOKEN_VARIABLE] not in logs.stdout + logs.stderr
    assert "http://127.0.0.1:8080/__mock__/ui" in logs.stdout, (
        "the banner links to where the port is published"
    )
    assert "http://0.0.0.0" not in logs.stdout

    started = time.monotonic()
    docker("stop", name)
    stopped = time.monotonic() - started
    report(stop_seconds=round(stopped, 2))
    assert stopped < 1.0, f"docker stop took {stopped:.2f} s"
    assert docker("inspect", "-f", "{{.State.ExitCode}}", name) == "0"


def test_without_a_token_it_serves_only_on_the_containers_loopback(
    container: Callable[..., str], image: str
) -> None:
    env = {k: v for k, v in os.environ.items() if k != TOKEN_VARIABLE}
    refused = subprocess.run(
        ["docker", "run", "--rm", *SECURE, image],
        capture_output=True,
        text=True,
        check=False,
        env=env,
        timeout=60,
    )
    assert refused.returncode == 2
    assert "--admin-token" in refused.stderr

    name = container(*SECURE, env=env, command=("serve", "--host", "127.0.0.1", "--port", "8080"))
    eventually(lambda: health(name) == "healthy", 40, "healthy on loopback without a token")


def test_compose_up_ps_and_down_as_printed(image: str, token: dict[str, str], emulator: Emulator) -> None:
    compose = [*compose_command(), "-p", f"vendor-emulator-test-{os.getpid()}", "-f", "compose.yaml"]
    port = free_port()
    env = {**token, "VENDOR_EMULATOR_PORT": str(port)}
    without_token = {k: v for k, v in env.items() if k != TOKEN_VARIABLE}
    try:
        docker(*compose, "up", "-d", "--no-build", env=env)
        base = f"http://127.0.0.1:{port}"
        eventually(lambda: answers(f"{base}/__mock__/health"), 30, "compose.yaml serving")
        spec = next(iter(emulator.vendors.values()))
        url = f"{base}/{spec.id}{spec.endpoints[0].path}"
        assert httpx.get(url, headers=credential_headers(spec)[0], timeout=10).status_code == 200
        assert "vendor-emulator" in docker(*compose, "ps", env=without_token), "ps needs no token"
    finally:
        docker(*compose, "down", env=without_token)


def test_two_replicas_behind_one_address_share_seeds_and_cursors(image: str, token: dict[str, str]) -> None:
    compose = [
        *compose_command(),
        "-p",
        f"vendor-emulator-replicas-{os.getpid()}",
        "-f",
        "compose.replicas.yaml",
    ]
    ports = {name: free_port() for name in ("", "_REPLICA_A", "_REPLICA_B")}
    env = {**token, **{f"VENDOR_EMULATOR{name}_PORT": str(port) for name, port in ports.items()}}
    balancer, one, two = (f"http://127.0.0.1:{port}" for port in ports.values())
    admin = {"X-Mock-Admin-Token": token[TOKEN_VARIABLE]}
    butter = {"X-API-Key": "bk_test_butter", "X-Organization-Id": "org_test"}
    numbers = "/butter/api/phone-numbers"
    try:
        started = time.monotonic()
        docker(*compose, "up", "-d", "--no-build", env=env)
        eventually(lambda: answers(f"{balancer}/__mock__/health"), 60, "the balancer serving")
        report(replicas_up_seconds=round(time.monotonic() - started, 1))
        served_by = {httpx.get(f"{balancer}/__mock__/health").headers["x-served-by"] for _ in range(4)}
        assert served_by == {"replica-a", "replica-b"}, "round robin over both replicas"

        records = [{"phone_number": f"+1555010{n:04d}"} for n in range(7)]
        seeded = httpx.post(
            f"{one}/__mock__/butter/seed", json={"records": records}, headers=admin, timeout=10
        )
        assert seeded.status_code == 200, seeded.text
        listed = httpx.get(f"{two}{numbers}", headers=butter, params={"page_size": 100}).json()["data"]
        served = [r["phone_number"] for r in listed]
        assert sorted(served) == sorted(r["phone_number"] for r in records), (
            "a seed seen by the other replica"
        )
        first = httpx.get(f"{one}{numbers}", headers=butter, params={"page_size": 3}).json()
        cursor = first["pagination"]["next_cursor"]
        assert cursor
        assert first["pagination"]["has_more"]
        second = httpx.get(f"{two}{numbers}", headers=butter, params={"page_size": 3, "cursor": cursor})
        assert second.status_code == 200, second.text
        pages = [r["phone_number"] for r in first["data"] + second.json()["data"]]
        assert pages == served[:6], "a cursor issued by one replica, continued by the other"
    finally:
        docker(*compose, "down", env={k: v for k, v in env.items() if k != TOKEN_VARIABLE})
