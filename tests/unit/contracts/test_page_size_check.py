"""The page-size check (issue 24): a page shorter than the size asked for, while the list goes on, is a
page size silently clamped, and the finding names the size asked for and the size served."""

from __future__ import annotations

from contracts.checks.runner import run
from mockserver.engine.config import DriftSetting
from tests.conftest import data_config


def _clamped(vendor: str, **params: object) -> list[str]:
    config = data_config(drifts=(DriftSetting(vendor, "paging.size-clamped", params),))
    report = run("mock", vendors=[vendor], sleep=lambda seconds: None, config=config)
    return [f.message for f in report.findings if "clamped" in f.message]


def test_a_clamped_page_size_is_reported_with_the_size_asked_and_served() -> None:
    messages = _clamped("contactship", max=3)
    assert messages, "a clamp to 3 records went unseen"
    assert any("listed 3 items" in message and "limit=" in message for message in messages), messages


def test_a_page_size_served_as_asked_is_not_reported() -> None:
    for vendor in ("butter", "contactship", "mindhunters"):
        report = run("mock", vendors=[vendor], sleep=lambda seconds: None, config=data_config())
        assert not [f.message for f in report.findings if "clamped" in f.message], vendor
