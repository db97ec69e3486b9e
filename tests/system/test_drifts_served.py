"""Drifts served over HTTP behave as in-process: the same drifted answers for httpx, requests and aiohttp,
from ``serve --drift``, ``--drift-file`` and the admin API; a body cut short really ends the connection."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path

import aiohttp
import httpx
import pytest
import requests

from mockserver.cli import main
from mockserver.engine.config import DriftSetting, EmulatorConfig
from mockserver.testing import mock_vendors
from tests.system.test_hostile_traffic import Server
from tests.system.test_shared_state import Redis, eventually, serving

BUTTER_KEY = {"X-API-Key": "bk_test_butter", "X-Organization-Id": "org_test"}
MINDHUNTERS_KEY = {"Authorization": "Bearer mindhunters-test-token"}
CASES = (  # (vendor, path, headers, query)
    ("butter", "/api/phone-numbers", BUTTER_KEY, "page_size=5"),
    ("mindhunters", "/api/v1/phone-numbers", MINDHUNTERS_KEY, "per_page=100"),
)
DRIFTED = (
    DriftSetting("butter", "field.renamed", {"to": "msisdn"}),
    DriftSetting("mindhunters", "paging.end-flag-never-false"),
)


def in_process() -> dict[str, dict[str, bytes]]:
    """Each case's body as httpx, requests and aiohttp get it in-process, with the same drifts on."""
    found: dict[str, dict[str, bytes]] = {}
    with mock_vendors(config=EmulatorConfig(drifts=DRIFTED)) as vendors:
        for vendor, path, headers, query in CASES:
            url = f"{vendors[vendor].base_url}{path}?{query}"

            async def fetch(url: str = url, headers: dict[str, str] = headers) -> bytes:
                async with aiohttp.ClientSession() as session, session.get(url, headers=headers) as response:
                    return await response.read()

            found[vendor] = {
                "httpx": httpx.get(url, headers=headers).content,
                "requests": requests.get(url, headers=headers, timeout=10).content,
                "aiohttp": asyncio.run(fetch()),
            }
    return found


def test_the_same_drifted_answer_over_http_and_in_process(
    serve: Callable[..., Server], tmp_path: Path
) -> None:
    drift_file = tmp_path / "drifts.json"
    drift_file.write_text(json.dumps([{"vendor": "mindhunters", "drift": "paging.end-flag-never-false"}]))
    server = serve("--drift", "butter:field.renamed:to=msisdn", "--drift-file", str(drift_file))
    local = in_process()
    for vendor, path, headers, query in CASES:
        served = httpx.get(f"{server.base}/{vendor}{path}?{query}", headers=headers).content
        assert {client: body == served for client, body in local[vendor].items()} == {
            "httpx": True,
            "requests": True,
            "aiohttp": True,
        }, vendor
    assert b'"msisdn"' in local["butter"]["httpx"]
    assert json.loads(local["mindhunters"]["httpx"])["data"]["pagination"]["has_more"] is True
    journal = httpx.get(f"{server.base}/__mock__/butter/journal").json()["entries"]
    assert journal[-1]["drifts"] == ["field.renamed"]


def test_a_body_cut_short_ends_the_connection_cleanly(serve: Callable[..., Server]) -> None:
    server = serve()
    url = f"{server.base}/butter/api/phone-numbers"
    drift = {"drift": "transport.body-cut-short", "params": {"fraction": 0.5}, "times": 1}
    assert httpx.post(f"{server.base}/__mock__/butter/drifts", json=drift).status_code == 201
    with pytest.raises(httpx.RemoteProtocolError):
        httpx.get(url, headers=BUTTER_KEY)
    assert httpx.get(url, headers=BUTTER_KEY).status_code == 200  # the server goes on (times: 1)


def test_a_bad_drift_stops_serve_in_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--port", "0", "--drift", "butter:field.renamed:colour=red"]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1
    assert "its parameters: field, to" in error


def test_the_drifts_command_lists_each_vendor_s_drifts(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["drifts", "--vendor", "famulor", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert {entry["vendor"] for entry in listed} == {"famulor"}
    by_id = {entry["id"]: entry for entry in listed}
    assert "paging.end-flag-never-false" not in by_id  # Famulor does not page
    assert by_id["field.removed"]["kind"] == "required-property-missing"
    assert main(["drifts", "--vendor", "acme"]) == 2


def renamed(base: str) -> bool:
    item = httpx.get(f"{base}/butter/api/phone-numbers", headers=BUTTER_KEY).json()["data"][0]
    return "msisdn" in item


def test_a_drift_rule_is_shared_through_redis_and_counted_across_servers(redis: Redis) -> None:
    with serving("--state", redis.url) as (one, _), serving("--state", redis.url) as (two, _):
        drift = {"drift": "field.renamed", "params": {"to": "msisdn"}, "times": 2}
        assert httpx.post(f"{one}/__mock__/butter/drifts", json=drift).status_code == 201
        eventually(lambda: bool(httpx.get(f"{two}/__mock__/butter/drifts").json()["drifts"]))
        assert [renamed(base) for base in (two, one, two)] == [True, True, False]

        def journal() -> list[list[str]]:
            entries = httpx.get(f"{one}/__mock__/butter/journal").json()["entries"]
            return [entry["drifts"] for entry in entries]

        eventually(lambda: len(journal()) == 3)  # both servers' entries, through Redis
        # each server writes its entries in batches: the journal's order is not the requests' order
        assert sorted(journal()) == [[], ["field.renamed"], ["field.renamed"]]


def test_a_drift_rule_is_kept_by_state_dir(serve: Callable[..., Server], tmp_path: Path) -> None:
    state = tmp_path / "state"
    first = serve("--state-dir", str(state))
    drift = {"drift": "field.renamed", "params": {"to": "msisdn"}}
    assert httpx.post(f"{first.base}/__mock__/butter/drifts", json=drift).status_code == 201
    first.stop()
    again = serve("--state-dir", str(state))
    assert renamed(again.base)


def test_a_bad_drift_stops_serve_with_workers_before_any_worker_starts(
    capsys: pytest.CaptureFixture[str],
) -> None:
    arguments = ["serve", "--port", "0", "--workers", "2", "--state", "redis://127.0.0.1:1/0"]
    assert main([*arguments, "--drift", "famulor:paging.cursor-ignored"]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1
    assert "no drift 'paging.cursor-ignored' for famulor" in error
