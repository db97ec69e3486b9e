"""calibrate, record, ack/--baseline and --history, as a nightly job uses them, against local upstreams.

Every upstream listens on 127.0.0.1 (tests/drifting_upstream.py); nothing reaches a vendor.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from contracts.checks.provenance import Site
from contracts.checks.runner import Report
from contracts.reporting.history import SCHEMA, append_history, read_history
from contracts.tools.cli import main
from mockserver import EmulatorConfig
from mockserver.declarations.model import VendorSpec
from mockserver.engine.emulator import build_emulator
from mockserver.testing import mock_vendors
from tests import drifting_upstream as drift
from tests.conftest import ROOT, data_config
from tests.drifting_upstream import Exchange, Upstream
from tests.unit.contracts.test_contracts_monitor import CHANGED, DEFAULT_SIZES, whole_list_in_one_bare_page

SPECS = build_emulator(data_config()).vendors
ENV_NAMES = {
    name
    for spec in SPECS.values()
    for name in (*spec.live_environment["credentials"], spec.live_environment["base_url_variable"])
}


@pytest.fixture(scope="module")
def choosy() -> Iterator[Upstream]:
    """Differs from our assumptions in every option."""
    running = drift.start(data_config(options=CHANGED))
    yield running.upstream
    drift.stop(running)


@pytest.fixture(scope="module")
def upstream() -> Iterator[Upstream]:
    running = drift.start(data_config())
    yield running.upstream
    drift.stop(running)


@pytest.fixture
def live_env(monkeypatch: pytest.MonkeyPatch) -> Any:
    def point_at(upstream: Upstream) -> None:
        for name in ENV_NAMES:
            monkeypatch.delenv(name, raising=False)
        for name, value in upstream.environ().items():
            monkeypatch.setenv(name, value)

    return point_at


def _report(path: Path) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return document


def test_calibrate_writes_every_observed_option_with_where_and_when(
    choosy: Upstream, live_env: Any, tmp_path: Path
) -> None:
    live_env(choosy)
    options = tmp_path / "calibrated.options"
    assert main(["calibrate", "--target", "live", "--output", str(options)]) == 0
    text = options.read_text(encoding="utf-8")
    lines = [line for line in text.splitlines() if line and not line.startswith("#")]
    written = dict(line.split("=", 1) for line in lines)
    for vendor, names in CHANGED.items():
        for name, value in names.items():
            assert written[f"{vendor}.{name}"] == (value if isinstance(value, str) else json.dumps(value))
            assert f"# {vendor}.{name}: observed {value!r} at 20" in text  # the date it was observed
    assert choosy.base in text, "where it was observed"


@pytest.mark.parametrize(("spec", "found"), DEFAULT_SIZES, ids=[s.id for s, _ in DEFAULT_SIZES])
def test_calibrate_writes_a_default_page_size_seen_as_a_lower_bound(
    spec: VendorSpec, found: Site, live_env: Any, tmp_path: Path
) -> None:
    """Issue 24 part 7: the whole list in the first bare page, longer than our default: its length."""
    options = tmp_path / "calibrated.options"
    with whole_list_in_one_bare_page(spec, found) as (upstream, records):
        live_env(upstream)
        assert main(["calibrate", "--target", "live", "--vendor", spec.id, "--output", str(options)]) == 0
    text = options.read_text(encoding="utf-8")
    assert f"\n{spec.id}.{found.option}={records}\n" in text
    assert f"the default is at least {records} (a lower bound" in text


def test_calibrate_then_serve_with_the_file_then_check_gives_no_assumption_differs(
    choosy: Upstream, live_env: Any, tmp_path: Path
) -> None:
    live_env(choosy)
    options = tmp_path / "calibrated.options"
    assert main(["calibrate", "--target", "live", "--output", str(options)]) == 0
    before, after = tmp_path / "before.json", tmp_path / "after.json"
    main(["check", "--target", "live", "--report-json", str(before)])
    assert (
        main(["check", "--target", "live", "--options-file", str(options), "--report-json", str(after)]) == 0
    )
    kinds_before = [f["kind"] for f in _report(before)["findings"]]
    assert kinds_before.count("assumption-differs") >= len(CHANGED)
    assert [f for f in _report(after)["findings"] if f["kind"] == "assumption-differs"] == []
    # The emulator served with the file does what the calibrated vendor does: a check of it that
    # expects the file's values is clean, one that expects the defaults sees the same differences.
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mockserver",
            "serve",
            "--port",
            "0",
            "--no-access-log",
            "--options-file",
            str(options),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert server.stdout is not None
        banner = server.stdout.readline()
        base = banner.split("http://", 1)[1].split()[0].rstrip("/:,")
        url = f"http://{base}"
        served = tmp_path / "served.json"
        assert (
            main(
                [
                    "check",
                    "--target",
                    "url",
                    "--url",
                    url,
                    "--options-file",
                    str(options),
                    "--fail-on",
                    "info",
                    "--report-json",
                    str(served),
                ]
            )
            == 0
        )
        default = tmp_path / "served-default.json"
        main(["check", "--target", "url", "--url", url, "--report-json", str(default)])
        differing = {f["option"] for f in _report(default)["findings"] if f["kind"] == "assumption-differs"}
        assert differing == {f"{vendor}.{name}" for vendor, names in CHANGED.items() for name in names}
    finally:
        server.terminate()
        server.wait(timeout=10)
        assert server.stdout is not None
        server.stdout.close()


def test_a_broken_options_file_is_one_line_naming_the_file_and_line(tmp_path: Path) -> None:
    options = tmp_path / "bad.options"
    options.write_text("# fine\nbutter.sort_direction=asc\nnot an option line\n", encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "mockserver", "serve", "--port", "0", "--options-file", str(options)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert f"{options}:3: expected VENDOR.OPTION=VALUE" in result.stderr
    assert "Traceback" not in result.stderr
    options.write_text("butter.sort_direction=sideways\n", encoding="utf-8")
    assert main(["check", "--target", "mock", "--options-file", str(options)]) == 2


def test_mock_vendors_takes_options_and_an_options_file(tmp_path: Path) -> None:
    url = "https://api.getbutter.ai/api/phone-numbers"
    headers = {"X-API-Key": "bk_test_butter", "X-Organization-Id": "org_test"}

    def created(**settings: Any) -> list[str]:
        with mock_vendors("butter", **settings):
            return [item["created_at"] for item in httpx.get(url, headers=headers).json()["data"]]

    newest_first = created()
    assert newest_first == sorted(newest_first, reverse=True)
    oldest_first = created(options={"butter": {"sort_direction": "asc"}})
    assert oldest_first == sorted(oldest_first)
    assert oldest_first[0] < newest_first[-1]
    options = tmp_path / "o.options"
    options.write_text(
        "# calibrated\nbutter.sort_direction=asc\nbutter.default_page_size=7\n", encoding="utf-8"
    )
    from_file = created(options_file=options)
    assert from_file == sorted(from_file)
    assert len(from_file) == 7
    assert created(options_file=options, options={"butter": {"sort_direction": "desc"}}) == newest_first[:7]


def test_the_pytest_plugin_reads_the_options_file_named_in_the_ini(tmp_path: Path) -> None:
    (tmp_path / "calibrated.options").write_text("butter.default_page_size=3\n", encoding="utf-8")
    (tmp_path / "pytest.ini").write_text(
        "[pytest]\nvendor_emulator_options_file = calibrated.options\n", encoding="utf-8"
    )
    (tmp_path / "test_size.py").write_text(
        textwrap.dedent(
            """
            import httpx

            def test_default_page_size(butter_mock):
                url = "https://api.getbutter.ai/api/phone-numbers"
                body = httpx.get(url, headers=butter_mock.headers).json()
                assert len(body["data"]) == 3
            """
        ),
        encoding="utf-8",
    )
    environment = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-p",
            "no:xdist",
            "-p",
            "no:randomly",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=environment,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert "1 passed" in result.stdout


# ------------------------------------------------------------------------------ record


def _originals(records: list[dict[str, Any]]) -> set[str]:
    """The personal values of records: E.164 numbers, e-mails, names."""
    out: set[str] = set()

    def walk(value: Any, key: str = "") -> None:
        if isinstance(value, dict):
            for name, item in value.items():
                walk(item, name)
        elif isinstance(value, list):
            for item in value:
                walk(item, key)
        elif isinstance(value, str) and (
            value.startswith("+") or "@" in value or key.lower().endswith("name")
        ):
            out.add(value)

    walk(records)
    return out


def test_record_writes_valid_fixtures_without_personal_data_that_serve(
    upstream: Upstream, live_env: Any, tmp_path: Path
) -> None:
    upstream.play()
    live_env(upstream)
    out, again = tmp_path / "recorded", tmp_path / "again"
    assert main(["record", "--target", "live", "--out", str(out)]) == 0
    assert main(["record", "--target", "live", "--out", str(again)]) == 0
    emulator = build_emulator(EmulatorConfig(fixtures_dir=out))  # loads and validates every record, strictly
    served = build_emulator(data_config())
    for vendor_id, spec in SPECS.items():
        for dataset in spec.datasets:
            recorded = json.loads((out / vendor_id / f"{dataset}.json").read_text())["records"]
            second = json.loads((again / vendor_id / f"{dataset}.json").read_text())["records"]
            original = served.apps[vendor_id].datasets.dataset("default", dataset).copies()
            assert len(recorded) == len(original), (vendor_id, dataset)
            assert recorded == second, "fakes are stable"
            personal = _originals(original)
            assert personal, "the fixtures hold personal data to replace"
            assert not personal & _originals(recorded), (vendor_id, dataset)
            assert emulator.apps[vendor_id].datasets.dataset("default", dataset).copies() == recorded
    kept = tmp_path / "kept"
    assert main(["record", "--target", "live", "--out", str(kept), "--keep", "--vendor", "butter"]) == 0
    records = json.loads((kept / "butter" / "phone-numbers.json").read_text())["records"]
    assert _originals(records) == _originals(
        served.apps["butter"].datasets.dataset("default", "phone-numbers").copies()
    )


def test_record_leaves_out_a_record_that_carries_a_credential(
    upstream: Upstream, live_env: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key = SPECS["contactship"].auth.test_credentials[0].key

    def leaky(exchange: Exchange) -> None:
        items = exchange.items()
        if items:
            items[0]["phone_number"] = key

    upstream.play(mutation=leaky)
    live_env(upstream)
    try:
        code = main(["record", "--target", "live", "--vendor", "contactship", "--out", str(tmp_path)])
    finally:
        upstream.play()
    assert code == 1, "something was left out"
    written = (tmp_path / "contactship" / "phone-numbers.json").read_text()
    output = capsys.readouterr().out
    assert key not in written
    assert key not in output
    assert "contained a credential" in output


# ------------------------------------------------------------------------------ baseline and history


def _renamed_and_null(exchange: Exchange) -> None:
    drift.rename(exchange)
    drift.null(exchange)


def test_ack_then_baseline_fails_only_on_new_drift_until_the_acknowledgement_expires(
    upstream: Upstream, live_env: Any, tmp_path: Path
) -> None:
    live_env(upstream)
    report, baseline = tmp_path / "r.json", tmp_path / "baseline.json"
    upstream.play(mutation=drift.rename)
    try:
        assert main(["check", "--target", "live", "--vendor", "butter", "--report-json", str(report)]) == 1
        tomorrow = (datetime.now(UTC).date() + timedelta(days=1)).isoformat()
        assert (
            main(
                [
                    "ack",
                    "--report-json",
                    str(report),
                    "--baseline",
                    str(baseline),
                    "--reason",
                    "vendor announced the rename",
                    "--expires",
                    tomorrow,
                ]
            )
            == 0
        )
        acknowledged = json.loads(baseline.read_text())["acknowledged"]
        assert {a["reason"] for a in acknowledged} == {"vendor announced the rename"}
        assert {a["expires"] for a in acknowledged} == {tomorrow}
        args = ["check", "--target", "live", "--vendor", "butter", "--baseline", str(baseline)]
        assert main([*args, "--report-json", str(report)]) == 0
        suppressed = _report(report)["suppressed"]
        assert suppressed
        assert {s["reason"] for s in suppressed} == {"vendor announced the rename"}
        upstream.play(mutation=_renamed_and_null)
        assert main([*args, "--report-json", str(report)]) == 1, "new drift still fails"
        assert {f["kind"] for f in _report(report)["findings"]} >= {"unexpected-null"}
        upstream.play(mutation=drift.rename)
        data = json.loads(baseline.read_text())
        for entry in data["acknowledged"]:
            entry["expires"] = (date.today() - timedelta(days=1)).isoformat()
        baseline.write_text(json.dumps(data))
        assert main([*args, "--report-json", str(report)]) == 1, (
            "an expired acknowledgement no longer applies"
        )
        assert any("expired" in note for note in _report(report)["notes"])
    finally:
        upstream.play()


def test_history_is_json_lines_and_the_report_shows_last_clean_and_first_seen(
    upstream: Upstream, live_env: Any, tmp_path: Path
) -> None:
    live_env(upstream)
    history, markdown = tmp_path / "history.jsonl", tmp_path / "r.md"
    args = ["check", "--target", "live", "--vendor", "contactship", "--history", str(history)]
    upstream.play()
    assert main(args) == 0
    first = read_history(history)[0]
    upstream.play(mutation=drift.extra_field)
    try:
        main([*args, "--markdown", str(markdown)])
    finally:
        upstream.play()
    runs = read_history(history)
    assert [run["schema"] for run in runs] == [SCHEMA, SCHEMA]
    key = "contactship GET /v1/phone-numbers"
    assert [run["endpoints"][key]["state"] for run in runs] == ["clean", "drift"]
    assert set(runs[1]["counts"]) == {"error", "warning", "info"}
    assert runs[1]["target"] == "live"
    finding = runs[1]["endpoints"][key]["findings"][0]
    assert set(finding) >= {"kind", "severity", "path", "fingerprint"}
    text = markdown.read_text()
    assert f"| {first['run_at']} |" in text, "last verified clean, from the history"
    assert f"first seen {runs[1]['run_at']}" in text
    with history.open("a", encoding="utf-8") as handle:
        handle.write('{"schema": "vendor-emulator/drift-history/1", "run_at": "2026-')  # a run cut short
    assert len(read_history(history)) == 2
    append_history(history, Report("live", "2026-12-31T00:00:00+00:00"))
    assert [run["run_at"] for run in read_history(history)][-1] == "2026-12-31T00:00:00+00:00"


def test_a_key_echoed_where_an_assumption_is_observed_never_reaches_a_file(
    upstream: Upstream,
    live_env: Any,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Mindhunters' success message is an option read from the body: a vendor echoing the token there
    must not put it into the report, the history or the calibrated options file."""
    key = "mh_live_4c1d2e3f5a6b7c8d"

    def echo(exchange: Exchange) -> None:
        if exchange.status == 200 and isinstance(exchange.body, dict) and "message" in exchange.body:
            exchange.body["message"] = f"welcome {key}"

    upstream.play(mutation=echo, ignore_auth=True)  # the upstream accepts our made-up live token
    live_env(upstream)
    monkeypatch.setenv("MINDHUNTERS_API_TOKEN", key)
    files = {name: tmp_path / name for name in ("r.json", "r.md", "h.jsonl", "o.options")}
    only = ["--target", "live", "--vendor", "mindhunters"]
    try:
        main(
            [
                "check",
                *only,
                "--report-json",
                str(files["r.json"]),
                "--markdown",
                str(files["r.md"]),
                "--history",
                str(files["h.jsonl"]),
            ]
        )
        main(["calibrate", *only, "--output", str(files["o.options"])])
    finally:
        upstream.play()
    texts = [path.read_text() for path in files.values()] + [capsys.readouterr().out]
    assert all(key not in text for text in texts)
    assert "welcome [redacted]" in files["o.options"].read_text()
