"""The command line: serve, check, and clean failures."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from mockserver.cli import main
from mockserver.declarations.loading import discover_vendors
from mockserver.engine.config import DEFAULT_SCHEMAS_DIR
from tests.conftest import ROOT, wait_until_serving


def test_check_loads_every_vendor(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check"]) == 0
    listed = re.findall(r"^ok\s+(\S+)", capsys.readouterr().out, re.MULTILINE)
    assert listed == discover_vendors(DEFAULT_SCHEMAS_DIR), "the directory check reads by default"


def test_check_reports_a_broken_fixture_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fixtures = tmp_path / "fixtures"
    shutil.copytree(ROOT / "fixtures", fixtures)
    (fixtures / "butter" / "phone-numbers.json").write_text(json.dumps({"records": [{"phone_number_id": 1}]}))
    assert main(["check", "--fixtures", str(fixtures)]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1
    assert "butter/phone-numbers.json: record 0:" in error


def test_a_malformed_credential_argument_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as raised:
        main(["serve", "--credential", "no-equals-sign"])
    assert raised.value.code == 2


@pytest.fixture
def server() -> Iterator[tuple[subprocess.Popen[str], str, str]]:
    """``python -m mockserver serve --port 0`` in a subprocess, and its base URL."""
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mockserver",
            "serve",
            "--port",
            "0",
            "--vendor",
            "butter",
            "--credential",
            "butter=bk_test_extra:org_extra",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert process.stdout is not None
    first = process.stdout.readline()
    match = re.search(r"on (http://127\.0\.0\.1:\d+)", first)
    assert match, first
    banner = first + "".join(iter(process.stdout.readline, "\n"))
    yield process, match.group(1), banner
    if process.returncode is None:
        process.kill()
        process.communicate(timeout=10)


def test_serve_prints_where_each_vendor_is_and_answers_on_loopback(
    server: tuple[subprocess.Popen[str], str, str],
) -> None:
    _, base, banner = server
    deadline = time.monotonic() + 10
    while True:
        try:
            response = httpx.get(
                f"{base}/api/phone-numbers",
                headers={"X-API-Key": "bk_test_extra", "X-Organization-Id": "org_extra"},
            )
            break
        except httpx.ConnectError:
            assert time.monotonic() < deadline
            time.sleep(0.05)
    assert response.status_code == 200
    famulor = httpx.get(
        f"{base}/famulor/api/user/phone-numbers/all", headers={"Authorization": "Bearer famulor-test-key"}
    )
    assert famulor.status_code == 200
    expected = [
        "Authorization: Bearer famulor-test-key",
        "X-API-Key: bk_test_butter  X-Organization-Id: org_test",
        "x-api-key: contactship-test-key",
        "Authorization: Bearer mindhunters-test-token",
        f"GET {base}/mindhunters/api/v1/phone-numbers",
        f"{base}/butter  [also at /]",
    ]
    assert [line for line in expected if line not in banner] == [], banner
    assert "bk_test_extra" not in banner, "configured keys are not printed"


def test_sigterm_stops_the_server_cleanly(server: tuple[subprocess.Popen[str], str, str]) -> None:
    process, base, _ = server
    while True:
        try:
            httpx.get(f"{base}/__mock__")
            break
        except httpx.ConnectError:
            time.sleep(0.05)
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=10)
    assert process.returncode == 0
    assert "Traceback" not in stderr
    assert "bk_test_extra" not in stderr


def test_a_busy_port_is_a_one_line_error() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "mockserver", "serve", "--port", str(port)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("host", ["0.0.0.0", "::"])
def test_listening_beyond_loopback_without_an_admin_token_is_refused_before_binding(
    host: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["serve", "--host", host, "--port", "0"]) == 2
    assert "set --admin-token" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--state", "redis://127.0.0.1:1/0"], "with --state redis://... the state lives in Redis"),
        (["--workers", "2", "--state", "memory"], "cannot be combined with --workers above 1"),
    ],
)
def test_state_dir_with_shared_or_several_processes_is_refused(
    tmp_path: Path, options: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """--state-dir saves one in-memory process: combined with Redis or workers it is a usage error."""
    assert main(["serve", "--port", "0", "--state-dir", str(tmp_path / "state"), *options]) == 2
    error = capsys.readouterr().err
    assert message in error
    assert error.count("\n") == 1
    assert not (tmp_path / "state").exists(), "nothing was written"


def test_bound_to_every_interface_the_banner_links_to_loopback() -> None:
    """``serve --host 0.0.0.0`` (the container's command): links that open from the host, not 0.0.0.0."""
    process = subprocess.Popen(
        [sys.executable, "-m", "mockserver", "serve", "--host", "0.0.0.0", "--port", "0", "--no-access-log"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1", "VENDOR_EMULATOR_ADMIN_TOKEN": "banner-test-token"},
    )
    try:
        assert process.stdout is not None
        lines: list[str] = []
        while (line := process.stdout.readline()) not in ("\n", ""):  # up to the blank line (or the end)
            lines.append(line)
        banner = "".join(lines)
        port = re.search(r"on http://127\.0\.0\.1:(\d+)  \(index: ", banner)
        assert port, banner
        assert "0.0.0.0:" not in banner.replace(f"0.0.0.0 port {port.group(1)}", "")
        assert f"inspector: http://127.0.0.1:{port.group(1)}/__mock__/ui" in banner
        assert f"(listening on every interface, 0.0.0.0 port {port.group(1)})" in banner
    finally:
        stop(process)
    assert process.returncode == 0


def stop(process: subprocess.Popen[str]) -> None:
    """SIGTERM, and a kill if the process has not ended 10 s later (the test then fails, nothing leaks)."""
    process.terminate()
    try:
        process.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        raise


@pytest.mark.parametrize("attempt", range(3))
def test_the_banner_means_ready_and_a_sigterm_right_after_it_stops_with_0(attempt: int) -> None:
    """Whoever waits for the banner may use the server at once, and stop it at once (no start-up race)."""
    process = subprocess.Popen(
        [sys.executable, "-m", "mockserver", "serve", "--port", "0", "--no-access-log"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        base = re.search(r"on (http://127\.0\.0\.1:\d+)  \(index: ", first)
        assert base, first
        if attempt == 0:  # once: a request with no retry, straight after the banner's first line
            assert httpx.get(f"{base.group(1)}/__mock__", timeout=5).status_code == 200
    finally:
        stop(process)
    assert process.returncode == 0


def test_an_open_inspector_event_stream_does_not_hold_up_the_stop(
    server: tuple[subprocess.Popen[str], str, str],
) -> None:
    """The inspector page keeps an event stream open for ever; SIGTERM ends it and the server in < 2 s."""
    process, base, _ = server
    wait_until_serving(base)
    with (
        httpx.Client(timeout=10) as client,
        client.stream("GET", f"{base}/__mock__/journal/events") as stream,
    ):
        assert stream.status_code == 200
        assert next(stream.iter_raw()).startswith(b"retry:")
        started = time.monotonic()
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=10)
        stopped = time.monotonic() - started
    assert process.returncode == 0
    assert stopped < 2.0, f"the stop waited {stopped:.1f} s for the open stream"
