"""Each endpoint keeps the contract our schemas promise (on the target given by --target)."""

from __future__ import annotations

import pytest

from contracts.checks.findings import Severity
from contracts.checks.runner import Report
from contracts.reporting.formats import as_markdown


def test_endpoint_keeps_its_contract(
    contract_report: Report, contract_endpoint: tuple[str, str], fail_on: Severity
) -> None:
    vendor, endpoint = contract_endpoint
    status = next(s for s in contract_report.endpoints if (s.vendor, s.endpoint) == (vendor, endpoint))
    if status.status == "skipped":
        pytest.skip(status.reason or "skipped")
    assert status.status == "checked", status.reason
    failing = [f for f in contract_report.reaching(fail_on) if (f.vendor, f.endpoint) == (vendor, endpoint)]
    assert not failing, as_markdown(
        Report(contract_report.target, contract_report.started, failing, [status])
    )
