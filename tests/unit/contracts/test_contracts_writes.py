"""The contract checks of the declared writes: a search is checked like a list on every target; purchase,
update and release (with their cheap error paths) always on the mock, on live only with --allow-writes.

"Live" here is a stand-in on 127.0.0.1: the emulator served over real HTTP behind a recorder that notes
every request (method, path, status, body) and may change an answer, so a test sees exactly what the
contract suite sent and what it found. No request leaves the machine.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import threading
from collections.abc import Awaitable, Callable, Iterator, MutableMapping
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from contracts import run
from contracts.checks.findings import Severity
from contracts.checks.runner import Report
from contracts.checks.writes import WRITES_NEED_FLAG, label
from contracts.targets.client import Budget, GuardedClient, Redactor, WritesRefused
from contracts.tools import cli
from contracts.tools.cli import main
from mockserver import create_app
from mockserver.engine.emulator import build_emulator
from tests.conftest import data_config
from tests.drifting_upstream import free_socket

ROOT = Path(__file__).resolve().parents[3]
CONFIG = data_config()
SPECS = build_emulator(CONFIG).vendors
WITH_WRITES = [vendor_id for vendor_id, spec in SPECS.items() if spec.writes]
FAMULOR = SPECS["famulor"]
SEARCH = next(label(w) for w in FAMULOR.writes if w.operation == "search")
CHANGING = {label(w): w for w in FAMULOR.writes if w.operation != "search"}
PURCHASE = next(name for name, w in CHANGING.items() if w.operation == "create")
UPDATE = next(name for name, w in CHANGING.items() if w.operation == "update")
RELEASE = next(name for name, w in CHANGING.items() if w.operation == "delete")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
Change = Callable[[str, str, int, Any], tuple[int, Any] | None]


@dataclass(frozen=True)
class Seen:
    """One request the stand-in answered."""

    method: str
    path: str
    status: int
    body: Any


@dataclass
class StandIn:
    """The emulator behind a recorder; ``change(method, path, status, body)`` may replace an answer."""

    app: Any
    base: str = ""
    seen: list[Seen] = field(default_factory=list)
    change: Change | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started: Message = {}
        chunks: list[bytes] = []

        async def keep(message: Message) -> None:
            if message["type"] == "http.response.start":
                started.update(message)
            else:
                chunks.append(message.get("body", b""))

        await self.app(scope, receive, keep)
        raw = b"".join(chunks)
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        status = int(started["status"])
        changed = self.change(scope["method"], scope["path"], status, body) if self.change else None
        if changed is not None:
            status, body = changed
            raw = json.dumps(body).encode()
        self.seen.append(Seen(scope["method"], scope["path"], status, body))
        headers = [(k, v) for k, v in started["headers"] if k.lower() != b"content-length"]
        headers.append((b"content-length", str(len(raw)).encode()))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": raw})

    def environ(self) -> dict[str, str]:
        """The live environment of every vendor, pointed at the stand-in, with the test keys."""
        out = {}
        for spec in SPECS.values():
            declared = spec.live_environment
            out[declared["base_url_variable"]] = f"{self.base}/{spec.id}"
            credential = spec.auth.test_credentials[0]
            values = [credential.key, credential.tenant]
            out.update({n: v for n, v in zip(declared["credentials"], values, strict=False) if v})
        return out

    def methods(self) -> set[str]:
        return {seen.method for seen in self.seen}


@pytest.fixture
def stand_in() -> Iterator[StandIn]:
    """A fresh stand-in per test: purchases of one test do not change what the next one sees."""
    recorder = StandIn(create_app(CONFIG))
    sock = free_socket()
    recorder.base = f"http://127.0.0.1:{sock.getsockname()[1]}"
    server = uvicorn.Server(uvicorn.Config(recorder, log_level="error", access_log=False, lifespan="off"))
    thread = threading.Thread(target=lambda: asyncio.run(server.serve(sockets=[sock])), daemon=True)
    thread.start()
    while not server.started:
        threading.Event().wait(0.01)
    yield recorder
    server.should_exit = True
    thread.join(timeout=10)


def live(stand_in: StandIn, **settings: Any) -> Report:
    settings.setdefault("sleep", lambda seconds: None)
    return run("live", vendors=["famulor"], environ=stand_in.environ(), config=CONFIG, **settings)


def statuses(report: Report) -> dict[str, tuple[str, str | None]]:
    return {s.endpoint: (s.status, s.reason) for s in report.endpoints if s.vendor == "famulor"}


def found(report: Report, endpoint: str) -> set[str]:
    return {f.kind for f in report.findings if f.endpoint == endpoint}


# ------------------------------------------------------------------------------ the mock: always


def test_against_the_mock_the_search_and_every_write_are_checked_and_keep_the_contract() -> None:
    report = run("mock", vendors=WITH_WRITES)
    by_label = {(s.vendor, s.endpoint): s for s in report.endpoints}
    for vendor_id in WITH_WRITES:
        for write in SPECS[vendor_id].writes:
            status = by_label[(vendor_id, label(write))]
            assert status.status == "checked", status
            assert status.requests >= 3, f"{status.endpoint}: its requests were sent and counted"
    assert report.findings == [], [f.as_dict() for f in report.findings]


def test_a_vendor_without_writes_has_no_write_checks() -> None:
    without = [vendor_id for vendor_id, spec in SPECS.items() if not spec.writes]
    assert without, "some vendor declares no write"
    report = run("mock", vendors=without)
    assert {s.endpoint.split()[0] for s in report.endpoints} == {"GET"}
    assert len(report.endpoints) == sum(len(SPECS[v].endpoints) for v in without)


# ------------------------------------------------------------------------------ live: only when allowed


def test_live_without_allow_writes_never_sends_a_write_and_says_why_each_is_skipped(
    stand_in: StandIn,
) -> None:
    report = live(stand_in)
    assert stand_in.methods() == {"GET"}, "no POST, PUT or DELETE reached the vendor"
    seen = statuses(report)
    assert seen[SEARCH][0] == "checked", "the search only reads: checked on live by default"
    assert {name: seen[name] for name in CHANGING} == dict.fromkeys(CHANGING, ("skipped", WRITES_NEED_FLAG))
    assert any(s.path.endswith(FAMULOR.writes[0].path) for s in stand_in.seen if s.method == "GET")


def test_a_client_that_may_not_write_refuses_to_send_a_write() -> None:
    client = GuardedClient(None, "http://127.0.0.1:9", Budget(10, 10), Redactor())  # type: ignore[arg-type]
    for method in ("POST", "PUT", "DELETE", "PATCH"):
        with pytest.raises(WritesRefused):
            client.send("x", method, "/anything", body={})


def test_live_with_allow_writes_buys_renames_and_releases_what_it_bought(stand_in: StandIn) -> None:
    report = live(stand_in, allow_writes=True)
    seen = statuses(report)
    assert {name: seen[name][0] for name in (SEARCH, *CHANGING)} == dict.fromkeys(
        (SEARCH, *CHANGING), "checked"
    )
    assert report.reaching(Severity.INFO) == [], [f.as_dict() for f in report.findings]
    assert {"POST", "PUT", "DELETE"} <= stand_in.methods()
    bought = [s.body["data"]["id"] for s in stand_in.seen if s.method == "POST" and s.status == 201]
    assert len(bought) == 1, "one number bought"
    released = [s for s in stand_in.seen if s.method == "DELETE" and s.path.endswith(f"/{bought[0]}")]
    assert released[0].status == 200, "and released"
    statuses_seen = {(s.method, s.status) for s in stand_in.seen}
    # the documented error paths were provoked: held or not offered (400), a long nickname (422), an id
    # nobody holds (404 on PUT and DELETE), a second release (400)
    assert {("POST", 400), ("PUT", 422), ("PUT", 404), ("DELETE", 404), ("DELETE", 400)} <= statuses_seen


def test_what_it_bought_is_released_even_when_the_checks_stop_midway(stand_in: StandIn) -> None:
    # two requests per endpoint: the purchase flow stops after its search and its purchase
    report = live(stand_in, allow_writes=True, budget_per_endpoint=2)
    bought = [s.body["data"]["id"] for s in stand_in.seen if s.method == "POST" and s.status == 201]
    assert len(bought) == 1
    releases = [s for s in stand_in.seen if s.method == "DELETE" and s.path.endswith(f"/{bought[0]}")]
    assert [s.status for s in releases] == [200]
    notes = [note for s in report.endpoints for note in s.notes]
    assert f"cleanup: deleted {bought[0]}, which the checks created" in notes
    assert any("budget" in note for note in notes)


def test_a_release_that_fails_is_a_note_telling_to_release_by_hand(stand_in: StandIn) -> None:
    def refuse_releases(method: str, path: str, status: int, body: Any) -> tuple[int, Any] | None:
        return (500, {"message": "Server Error"}) if method == "DELETE" else None

    stand_in.change = refuse_releases
    report = live(stand_in, allow_writes=True)
    bought = [s.body["data"]["id"] for s in stand_in.seen if s.method == "POST" and s.status == 201]
    notes = [note for s in report.endpoints for note in s.notes]
    assert f"cleanup: could not delete {bought[0]} (500): delete it by hand" in notes
    assert "status-unexpected" in found(report, RELEASE)


def test_the_unknown_id_of_the_404_checks_is_never_one_the_account_holds(stand_in: StandIn) -> None:
    unknown = "2147483647"

    def hold_it(method: str, path: str, status: int, body: Any) -> tuple[int, Any] | None:
        if method == "GET" and path.endswith("/phone-numbers/all") and status == 200:
            body["data"].append({**body["data"][0], "id": int(unknown)})
            return status, body
        return None

    stand_in.change = hold_it
    report = live(stand_in, allow_writes=True)
    assert not [s for s in stand_in.seen if s.method != "GET" and s.path.endswith(f"/{unknown}")]
    notes = {note for s in report.endpoints if s.endpoint in (UPDATE, RELEASE) for note in s.notes}
    assert notes == {f"{unknown} is listed: the check of an unknown key was not run"}


# ------------------------------------------------------------------------------ drift of writes


def test_drift_of_the_search_and_of_each_write_is_found_the_monitors_way(stand_in: StandIn) -> None:
    def drift(method: str, path: str, status: int, body: Any) -> tuple[int, Any] | None:
        if method == "GET" and path.endswith("/search") and status == 200:
            for item in body["data"]:
                item["sms_capable"] = "yes"  # a boolean became a string
            return status, body
        if method == "POST" and status == 201:
            body["data"]["id"] = str(body["data"]["id"])  # an id that became a string
            return status, body
        if method == "PUT" and status == 422:
            return status, {"error": "nickname too long"}  # not Laravel's validation body any more
        return None

    stand_in.change = drift
    report = live(stand_in, allow_writes=True)
    assert "type-mismatch" in found(report, SEARCH)
    assert "type-mismatch" in found(report, PURCHASE)
    assert "error-shape-changed" in found(report, UPDATE)
    doc = next(f.doc for f in report.findings if f.endpoint == PURCHASE)
    assert doc is not None
    assert doc.startswith("https://"), "each finding carries the vendor's doc"


# ------------------------------------------------------------------------------ command line and pytest


def test_the_command_line_runs_writes_on_live_only_with_allow_writes(
    stand_in: StandIn, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for name, value in stand_in.environ().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(cli, "run", partial(run, sleep=lambda seconds: None))  # no pacing in tests
    common = ["check", "--target", "live", "--vendor", "famulor", "--budget", "1000"]
    assert main([*common, "--report-json", str(tmp_path / "without.json")]) == 0
    assert f"skipped     famulor      {PURCHASE:<40}{WRITES_NEED_FLAG}" in capsys.readouterr().out
    assert stand_in.methods() == {"GET"}
    assert main([*common, "--allow-writes", "--report-json", str(tmp_path / "with.json")]) == 0
    report = json.loads((tmp_path / "with.json").read_text())
    assert {
        e["endpoint"]: e["status"] for e in report["endpoints"] if e["endpoint"] in CHANGING
    } == dict.fromkeys(CHANGING, "checked")
    assert {"POST", "PUT", "DELETE"} <= stand_in.methods()


def test_pytest_allow_writes_runs_the_write_tests_on_live(stand_in: StandIn) -> None:
    """``pytest contracts/ --target live --allow-writes``: one passing test per write too (without the
    flag, each is skipped with the runner's reason: see the tests above)."""
    environment = {**os.environ, **stand_in.environ()}
    command = [
        sys.executable,
        "-m",
        "pytest",
        "contracts/",
        "--target",
        "live",
        "--contract-vendor",
        "famulor",
    ]
    command += ["--allow-writes", "-q", "-p", "no:cacheprovider", "-p", "no:xdist"]
    tests = len(FAMULOR.endpoints) + len(FAMULOR.writes)
    result = subprocess.run(
        command, cwd=ROOT, env=environment, capture_output=True, text=True, timeout=300, check=False
    )
    assert f"{tests} passed" in result.stdout, result.stdout[-2000:]
    assert {"POST", "PUT", "DELETE"} <= stand_in.methods()


def test_the_nightly_workflow_never_allows_writes() -> None:
    workflow = (ROOT / ".github" / "workflows" / "vendor-drift.yml").read_text(encoding="utf-8")
    assert "contracts check --target live" in workflow, "the nightly job is the live check"
    assert "allow-writes" not in workflow.lower(), "a nightly purchase would cost money every night"
