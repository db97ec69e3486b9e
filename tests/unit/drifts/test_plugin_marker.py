"""The ``vendor_drift`` marker switches drifts on for one test; the next test starts without them."""

from __future__ import annotations

from pathlib import Path

from tests.pytest_session import run_pytest

SESSION = """
import httpx
import pytest

URL = "https://api.getbutter.ai/api/phone-numbers"


@pytest.mark.vendor_drift("butter:field.renamed:to=msisdn", "butter:paging.end-flag-always-false")
def test_1_under_the_drifts(butter_mock):
    body = httpx.get(URL, params={"page_size": 5}, headers=butter_mock.headers).json()
    assert "msisdn" in body["data"][0]
    assert body["pagination"]["has_more"] is False
    assert [rule.drift for rule in butter_mock.drifts()] == ["field.renamed", "paging.end-flag-always-false"]


@pytest.mark.vendor_drift("butter:field.null", field="status")
def test_2_keyword_arguments_are_parameters(butter_mock):
    assert httpx.get(URL, headers=butter_mock.headers).json()["data"][0]["status"] is None


def test_3_without_the_marker_nothing_is_drifted(butter_mock):
    body = httpx.get(URL, params={"page_size": 5}, headers=butter_mock.headers).json()
    assert "phone_number" in body["data"][0]
    assert body["pagination"]["has_more"] is True
    assert butter_mock.drifts() == []


@pytest.mark.vendor_drift("butter:field.gone")
def test_4_a_bad_drift_is_a_usage_error_naming_the_drifts():
    pass
"""


def test_the_marker_drifts_one_test_only(tmp_path: Path) -> None:
    result = run_pytest(tmp_path, {"test_session.py": SESSION})
    output = result.stdout + result.stderr
    assert "3 passed" in output, output[-4000:]
    assert "no drift 'field.gone'" in output, output[-4000:]
