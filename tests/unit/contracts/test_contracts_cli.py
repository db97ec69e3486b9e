"""``python -m contracts check``: exit codes, reports, skips and safety, as a scheduled job sees them."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from contracts import run
from contracts.checks.findings import Severity
from contracts.targets.client import Budget, BudgetExhausted, Redactor, cleartext_to_remote
from contracts.targets.selection import live_target
from contracts.tools.cli import main
from mockserver.engine.config import EmulatorConfig
from mockserver.engine.emulator import build_emulator
from tests import drifting_upstream as drift
from tests.conftest import ROOT
from tests.drifting_upstream import Upstream

SPECS = build_emulator(EmulatorConfig()).vendors


@pytest.fixture(scope="module")
def upstream() -> Iterator[Upstream]:
    running = drift.start()
    yield running.upstream
    drift.stop(running)


def test_the_mock_keeps_the_contract_on_every_endpoint(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["check", "--target", "mock", "--report-json", str(tmp_path / "r.json"), "--fail-on", "info"])
    report = json.loads((tmp_path / "r.json").read_text())
    assert code == 0
    assert report["findings"] == []
    endpoints = sum(len(spec.endpoints) + len(spec.writes) for spec in SPECS.values())
    assert [e["status"] for e in report["endpoints"]] == ["checked"] * endpoints
    assert len(capsys.readouterr().out.splitlines()) == endpoints, "one line per endpoint"


def test_a_live_run_without_credentials_checks_nothing_and_says_which_variable(
    capsys: pytest.CaptureFixture[str],
) -> None:
    declared = {
        name
        for spec in SPECS.values()
        for name in (*spec.live_environment["credentials"], spec.live_environment["base_url_variable"])
    }
    environment = {k: v for k, v in os.environ.items() if k not in declared}
    result = subprocess.run(
        [sys.executable, "-m", "contracts", "check", "--target", "live"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 2
    assert "set FAMULOR_API_KEY to check Famulor live" in result.stdout
    assert "set BUTTER_API_KEY, BUTTER_ORGANIZATION_ID" in result.stdout
    assert "MINDHUNTERS_SUBDOMAIN" in result.stdout
    assert "no endpoint was checked" in result.stderr


def test_skip_reasons_name_the_missing_variable() -> None:
    target = live_target(SPECS["butter"], {"BUTTER_API_KEY": "x"})
    assert target.skipped == "set BUTTER_ORGANIZATION_ID to check Butter AI live"
    assert live_target(
        SPECS["mindhunters"], {"MINDHUNTERS_API_TOKEN": "t", "MINDHUNTERS_SUBDOMAIN": "acme"}
    ).base_url == ("https://acme.mindhunters.ai")


def test_credentials_are_never_sent_in_clear_text_to_another_host() -> None:
    assert cleartext_to_remote("http://api.contactship.ai")
    assert not cleartext_to_remote("http://127.0.0.1:8080")
    assert not cleartext_to_remote("https://api.contactship.ai")
    # the same loopback rule as the emulator's host guard (mockserver.engine.routing.is_loopback)
    for url in ("http://[::1]:8080", "http://LOCALHOST.:80", "http://ip6-localhost", "http://mock.localhost"):
        assert not cleartext_to_remote(url), url
    assert cleartext_to_remote("http://localhost.evil.test")
    environ = {"CONTACTSHIP_BASE_URL": "http://api.contactship.ai", "CONTACTSHIP_API_KEY": "k-1234"}
    with pytest.raises(Exception, match="refusing to send credentials over plain http"):
        run("live", vendors=["contactship"], environ=environ)


def test_drift_fails_the_run_and_every_report_is_written_without_the_key(
    upstream: Upstream, tmp_path: Path
) -> None:
    secret = "ck_live_7f3a9e1b2c4d5e6f"
    upstream.play(mutation=drift.echo_key)
    environment = {**os.environ, **upstream.environ(contactship=secret)}
    paths = {name: tmp_path / name for name in ("r.json", "r.xml", "r.md")}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "contracts",
            "check",
            "--target",
            "live",
            "--vendor",
            "contactship",
            "--report-json",
            str(paths["r.json"]),
            "--junit",
            str(paths["r.xml"]),
            "--markdown",
            str(paths["r.md"]),
            "--fail-on",
            "warning",
        ],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    upstream.play()
    assert result.returncode == 1, result.stdout + result.stderr
    texts = [path.read_text() for path in paths.values()] + [result.stdout, result.stderr]
    assert all(secret not in text for text in texts)
    report = json.loads(texts[0])
    assert {f["kind"] for f in report["findings"]} >= {"error-shape-changed"}
    assert set(report["findings"][0]) >= {
        "vendor",
        "endpoint",
        "kind",
        "severity",
        "path",
        "message",
        "expected",
        "observed",
        "doc",
    }
    suite = ET.fromstring(texts[1])
    assert suite.get("failures") == "1"


def test_fail_on_decides_the_exit_code(upstream: Upstream) -> None:
    upstream.play(mutation=drift.extra_field)
    environment = {**os.environ, **upstream.environ()}
    codes = {}
    for level in ("error", "info"):
        codes[level] = subprocess.run(
            [
                sys.executable,
                "-m",
                "contracts",
                "check",
                "--target",
                "live",
                "--vendor",
                "famulor",
                "--fail-on",
                level,
            ],
            cwd=ROOT,
            env=environment,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        ).returncode
    upstream.play()
    assert codes == {"error": 0, "info": 1}, "an undocumented field is info"


def test_a_429_is_retried_after_its_retry_after(upstream: Upstream) -> None:
    answered: list[int] = []

    def rate_limited_once(exchange: drift.Exchange) -> None:
        if not answered:
            exchange.status, exchange.headers["retry-after"] = 429, "7"
        answered.append(exchange.status)

    upstream.play(mutation=rate_limited_once)
    slept: list[float] = []
    report = run("live", vendors=["contactship"], environ=upstream.environ(), sleep=slept.append)
    upstream.play()
    assert 7.0 in slept
    assert report.reaching(Severity.WARNING) == []


def test_the_request_budget_is_a_hard_limit() -> None:
    budget = Budget(per_run=3, per_endpoint=2)
    budget.take("a")
    budget.take("a")
    with pytest.raises(BudgetExhausted):
        budget.take("a")
    budget.take("b")
    with pytest.raises(BudgetExhausted):
        budget.take("c")
    report = run("mock", vendors=["mindhunters"], budget_per_endpoint=5)
    assert report.endpoints[0].requests == 5
    assert any("budget" in note for note in report.endpoints[0].notes)


def test_the_redactor_removes_every_secret_even_inside_structures() -> None:
    redactor = Redactor()
    redactor.add("abcd-secret", None, "")
    assert redactor.value({"m": ["key abcd-secret here"], "abcd-secret": 1}) == {
        "m": ["key [redacted] here"],
        "[redacted]": 1,
    }


def test_pytest_runs_the_same_contract_on_a_target(tmp_path: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "contracts/",
            "--target",
            "mock",
            "-q",
            "-p",
            "no:cacheprovider",
            "-p",
            "no:xdist",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-2000:]
    endpoints = sum(len(spec.endpoints) + len(spec.writes) for spec in SPECS.values())
    assert f"{endpoints} passed" in result.stdout, "one contract test per endpoint and per write"


def test_every_endpoint_unreachable_is_exit_1_as_the_readme_says() -> None:
    """Nothing listens there: each endpoint is reported unreachable, and the run fails with 1, not 2."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "contracts",
            "check",
            "--target",
            "url",
            "--url",
            f"http://127.0.0.1:{closed}",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    endpoints = sum(len(spec.endpoints) + len(spec.writes) for spec in SPECS.values())
    assert result.stdout.count("unreachable") >= endpoints
