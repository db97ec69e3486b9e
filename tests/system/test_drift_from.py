"""``serve --drift-from`` the whole way over HTTP: a server serving drifts is checked with ``contracts check
--target url --report-json``, a fresh server replays that report (its drifts listed before the banner),
and checking it again reports the same finding kinds."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from contracts.tools.cli import main as contracts
from tests.system.test_hostile_traffic import Server


def kinds(report: Path) -> set[str]:
    return {finding["kind"] for finding in json.loads(report.read_text())["findings"]} - {
        "assumption-differs"
    }


def test_the_whole_way_over_http(serve: Callable[..., Server], tmp_path: Path) -> None:
    drifted = serve(
        "--drift",
        "contactship:field.renamed:to=msisdn",
        "--drift",
        "contactship:errors.other-shape:shape=jsonapi",
    )
    first = tmp_path / "first.json"
    url = ["check", "--target", "url", "--vendor", "contactship", "--fail-on", "error"]
    assert contracts([*url, "--url", drifted.base, "--report-json", str(first)]) == 1  # findings: exit 1
    replaying = serve("--drift-from", str(first))
    output = replaying.output()
    banner_at = output.index("http://127.0.0.1")
    assert output.index("  serve   contactship:field.renamed:field=phone_number,to=msisdn") < banner_at
    assert output.index("  serve   contactship:errors.other-shape:shape=jsonapi") < banner_at
    again = tmp_path / "again.json"
    assert contracts([*url, "--url", replaying.base, "--report-json", str(again)]) == 1
    assert (
        kinds(again)
        == kinds(first)
        == {
            "probable-rename",
            "error-shape-changed",
        }
    )
