"""Self-consistency (issue 24 part 6): every drift the catalogue lists for a vendor, served by the emulator,
is reported by the contract monitor with the finding kind the catalogue promises.

The cases come from the catalogue, which comes from the declarations: a new vendor or a new drift is
covered without editing this file. The monitor runs on its in-process target (the emulator's engine, as
served over HTTP) with the drift switched on for the whole run, as ``serve --drift`` does. A drift the
monitor cannot see from outside says so in the catalogue (``kind`` None, with the reason) and is not run.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import pytest

from contracts.checks.runner import run
from mockserver.authoring.drift_reference import catalogue
from mockserver.engine.config import DriftSetting
from tests.conftest import SCHEMAS, data_config

# (drift, the kind promised): why the monitor does not report it yet (strict xfails). Empty since the
# monitor checks the page size it asks for (paging.size-clamped).
NOT_YET: dict[tuple[str, str], str] = {}


def cases() -> list[Any]:
    found = []
    for entry in catalogue(SCHEMAS):
        if entry["kind"] is None:
            continue
        kinds = sorted({applies["kind"] for applies in entry["applies"]})
        reason = next((NOT_YET[entry["id"], kind] for kind in kinds if (entry["id"], kind) in NOT_YET), None)
        marks = [pytest.mark.xfail(reason=reason, strict=True)] if reason else []
        found.append(
            pytest.param(
                entry["vendor"], entry["id"], kinds, marks=marks, id=f"{entry['vendor']}-{entry['id']}"
            )
        )
    return found


@cache
def baseline(vendor: str) -> frozenset[str]:
    report = run("mock", vendors=[vendor], sleep=lambda seconds: None, config=data_config())
    return frozenset(finding.kind for finding in report.findings)


@pytest.mark.parametrize(("vendor", "drift", "kinds"), cases())
def test_the_monitor_reports_the_kind_the_catalogue_promises(
    vendor: str, drift: str, kinds: list[str]
) -> None:
    config = data_config(drifts=(DriftSetting(vendor, drift),))
    report = run("mock", vendors=[vendor], sleep=lambda seconds: None, config=config)
    found = {finding.kind for finding in report.findings}
    for kind in kinds:
        assert kind not in baseline(vendor), f"{vendor} already shows {kind} without the drift"
        assert kind in found, f"{vendor} under {drift}: expected {kind}, the monitor found {sorted(found)}"


def test_every_drift_the_monitor_cannot_see_says_why() -> None:
    for entry in catalogue(SCHEMAS):
        assert entry["kind"] is not None or entry["invisible"], entry["id"]
