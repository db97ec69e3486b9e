"""The HTML drift report and the drift history (contracts/reporting/html.py and history.py)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from contracts.checks.findings import Finding
from contracts.checks.runner import EndpointStatus, Report
from contracts.reporting.history import SCHEMA, append_history, history_runs, read_history
from contracts.reporting.html import assumptions_of, endpoint_states, render_html, vendor_options
from contracts.tools.cli import main
from tests.conftest import ROOT, SCHEMAS

BUTTER = "GET /api/phone-numbers"
FAMULOR = "GET /api/user/phone-numbers"


def finding(vendor: str, endpoint: str, kind: str, message: str = "changed", **fields: object) -> Finding:
    return Finding(vendor, endpoint, kind, str(fields.pop("path", "/data")), message, **fields)  # type: ignore[arg-type]


def a_report(findings: list[Finding], *, unreachable: bool = False) -> Report:
    endpoints = [
        EndpointStatus("butter", BUTTER, "checked", requests=5),
        EndpointStatus("famulor", FAMULOR, "unreachable" if unreachable else "checked", "refused", 1),
        EndpointStatus("contactship", "GET /v1/phone-numbers", "checked", requests=3),
        EndpointStatus("mindhunters", "GET /api/v1/phone-numbers", "skipped", "MINDHUNTERS_API_TOKEN unset"),
    ]
    return Report("live", "2026-12-01T03:17:00+00:00", findings, endpoints)


def assumed(vendor: str, endpoint: str, option: str) -> Finding:
    return finding(
        vendor, endpoint, "assumption-differs", f"{option} differs",
        provenance="assumption", option=f"{vendor}.{option}", fix=f"--option {vendor}.{option}=asc",
    )  # fmt: skip


def test_a_finding_names_the_option_only_when_the_monitor_says_it_is_an_assumption() -> None:
    assert assumptions_of(assumed("butter", BUTTER, "sort_direction")) == ["sort_direction"]
    assert assumptions_of(finding("butter", BUTTER, "sort-order-changed")) == [], "documented"
    assert "sort_direction" in vendor_options(SCHEMAS, "butter").texts
    assert vendor_options(SCHEMAS, "no-such-vendor").texts == {}


def test_endpoint_states_clean_drift_assumption_and_unreachable() -> None:
    sort = assumed("butter", BUTTER, "sort_direction")
    rename = finding("famulor", FAMULOR, "probable-rename")
    states = endpoint_states(a_report([sort, rename]))
    assert states == {
        ("butter", BUTTER): "assumption-differs",
        ("famulor", FAMULOR): "drift",
        ("contactship", "GET /v1/phone-numbers"): "clean",
    }
    assert endpoint_states(a_report([], unreachable=True))[("famulor", FAMULOR)] == "unreachable"
    mixed = endpoint_states(a_report([sort, finding("butter", BUTTER, "type-mismatch")]))
    assert mixed[("butter", BUTTER)] == "drift", "one documented finding makes it drift"


def test_an_assumption_shows_its_option_text_and_the_fix() -> None:
    page = render_html(a_report([assumed("butter", BUTTER, "sort_direction")]), (), SCHEMAS)
    assert "assumption <code>sort_direction</code>" in page
    assert "--option butter.sort_direction=asc" in page
    assert "data-state='assumption-differs'" in page


def test_the_report_is_one_file_with_findings_escaped_and_no_script() -> None:
    hostile = finding(
        "famulor",
        FAMULOR,
        "type-mismatch",
        "<script>alert(1)</script>",
        path="/data/0/<b>",
        expected="string",
        observed={"x": "</pre><img src=x>"},
        doc="https://docs.famulor.io/en/api-reference/phone-numbers/list",
    )
    page = render_html(a_report([hostile]), (), SCHEMAS)
    assert "<script" not in page
    assert "<img" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "/data/0/&lt;b&gt;" in page
    assert "href='https://docs.famulor.io/en/api-reference/phone-numbers/list'" in page
    assert re.findall(r"(?:src|href)=['\"](?!https://docs|#)", page) == [], "nothing to load"
    assert "MINDHUNTERS_API_TOKEN unset" in page
    assert "data-state='skipped'" in page
    assert "No history given" in page


def test_history_appends_one_line_per_run_and_reads_back(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "history.jsonl"
    rename = finding("famulor", FAMULOR, "probable-rename", path="/data/3/phone_number", expected="x")
    first = append_history(path, a_report([rename]))
    append_history(path, a_report([]))
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert lines[0] == first
    assert first["schema"] == SCHEMA
    assert first["run_at"] == "2026-12-01T03:17:00+00:00"
    assert first["target"] == "live"
    assert first["counts"] == {"error": 1, "warning": 0, "info": 0}
    assert set(first["endpoints"]) == {
        f"butter {BUTTER}",
        f"famulor {FAMULOR}",
        "contactship GET /v1/phone-numbers",
    }
    entry = first["endpoints"][f"famulor {FAMULOR}"]
    assert entry["state"] == "drift"
    assert entry["findings"] == [
        {"kind": "probable-rename", "severity": "error", "path": "/data/3/phone_number",
         "fingerprint": rename.fingerprint, "message": "changed"},
    ]  # fmt: skip
    moved = finding("famulor", FAMULOR, "probable-rename", path="/data/7/phone_number", expected="x")
    assert moved.fingerprint == rename.fingerprint, "the same drift on another item is the same finding"
    assert [run.total for run in history_runs(read_history(path))] == [1, 0]


def test_reading_skips_a_cut_line_foreign_lines_and_ignores_unknown_fields(tmp_path: Path) -> None:
    path = tmp_path / "history.jsonl"
    good = {"schema": SCHEMA, "run_at": "2026-11-30T03:17:00Z", "target": "live", "later": [1],
            "counts": {"error": 2, "warning": 1, "info": 0, "fatal": 9}, "endpoints": {}}  # fmt: skip
    lines = [
        json.dumps(good),
        json.dumps({"schema": "something/else", "counts": {"error": 1}}),
        json.dumps({**good, "counts": {"error": -1}}),
        "[]",
        json.dumps(good)[:25],
    ]
    path.write_text("\n".join(lines), encoding="utf-8")
    runs = history_runs(read_history(path))
    assert len(runs) == 1
    assert dict(runs[0].counts) == {"error": 2, "warning": 1, "info": 0}
    assert runs[0].total == 3
    append_history(path, a_report([]))
    assert len(history_runs(read_history(path))) == 2, "an append after a cut line starts a new line"
    assert read_history(tmp_path / "missing.jsonl") == []


def test_the_cli_writes_html_and_history_and_charts_every_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    html, history = tmp_path / "out" / "drift.html", tmp_path / "h.jsonl"
    for _ in range(2):
        assert main(["check", "--vendor", "contactship", "--html", str(html), "--history", str(history)]) == 0
    capsys.readouterr()
    page = html.read_text()
    assert "data-runs='2'" in page
    assert page.count("<g class='run' data-total='0'") == 2
    assert "data-state='clean'" in page
    assert len(history.read_text().splitlines()) == 2
    assert main(["check", "--vendor", "contactship", "--html", str(html)]) == 0
    assert "No history given" in html.read_text()


def test_the_nightly_workflow_keeps_the_html_report_with_its_history() -> None:
    workflow = (ROOT / ".github" / "workflows" / "vendor-drift.yml").read_text(encoding="utf-8")
    command = " ".join(workflow.split())
    assert "--html reports/drift.html" in command
    assert "--history reports/history.jsonl" in command
    assert "--junit reports/drift.xml --markdown reports/drift.md" in command
    assert "path: reports/" in workflow  # the artifact holds every report
