"""The proof that a kind is one module: a Link-header paging style and a date-range filter, added as
``mockserver/kinds/paging_styles/link.py`` and ``mockserver/kinds/filter_kinds/date_range.py`` alone, are
declared, served, walked by the contract checks and the recorder, linted and fixture-generated."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from contracts import run
from contracts.tools.record_run import record_target
from mockserver.authoring.fixturegen import generate
from mockserver.authoring.lint import lint
from mockserver.engine.config import EmulatorConfig
from mockserver.engine.emulator import build_emulator
from mockserver.intercept.transport import EmulatorTransport
from mockserver.kinds.filter_kinds.date_range import Between, DateRange, instant
from mockserver.kinds.filters import Filter
from mockserver.kinds.paging import Pager, PageSeen
from mockserver.kinds.paging_styles.link import LinkPaging, parse_links
from mockserver.kinds.params import ParamSpec, Violation
from mockserver.serving.app import create_app
from tests.conftest import SCHEMAS
from tests.madeup import PATH, edit, write_madeup

SIZE = ParamSpec("per_page", "integer", default=10, minimum=1, maximum=100)
PAGE = ParamSpec("page", "integer", default=1, minimum=1, maximum=100000)


def _date_param(name: str) -> dict[str, Any]:
    return {"name": name, "in": "query", "schema": {"type": "string"}, "description": f"{name} bound."}


def _link_and_dates(document: dict[str, Any]) -> None:
    operation = document["paths"][PATH]["get"]
    declaration = operation["x-emulator"]
    declaration["paging"] = {"style": "link", "page_param": "page", "size_param": "per_page"}
    declaration["envelope"] = {"results": "${items}", "paging": {"total": "${total}"}}
    declaration["filters"].append(
        {
            "param": "created_after",
            "kind": "date-range",
            "before_param": "created_before",
            "field": "created_at",
        }
    )
    operation["parameters"] += [_date_param("created_after"), _date_param("created_before")]


def _list_schema(schema: dict[str, Any]) -> None:
    schema["properties"]["paging"] = {
        "type": "object",
        "required": ["total"],
        "properties": {"total": {"type": "integer"}},
    }


@pytest.fixture(scope="module")
def madeup(tmp_path_factory: pytest.TempPathFactory) -> EmulatorConfig:
    """The made-up vendor, paged by Link headers and filtered by a creation-date range."""
    root = tmp_path_factory.mktemp("newkinds")
    schemas, fixtures = write_madeup(root, SCHEMAS)
    edit(schemas / "madeup" / "openapi.json", _link_and_dates)
    edit(schemas / "madeup" / "number-list.json", _list_schema)
    written, problems = generate(schemas, fixtures)
    assert problems == []
    for fixture in written:
        fixture.path.write_text(fixture.text, encoding="utf-8")
    return EmulatorConfig(schemas_dir=schemas, fixtures_dir=fixtures)


def _client(config: EmulatorConfig) -> tuple[httpx.Client, dict[str, str]]:
    emulator = build_emulator(config)
    spec = emulator.vendors["madeup"]
    credential = spec.auth.test_credentials[0]
    headers = {spec.auth.header or "": credential.key}
    client = httpx.Client(transport=EmulatorTransport(create_app(config)), base_url="http://emulator.test")
    return client, headers


# ---------------------------------------------------------------------------------------------- unit


def test_both_kinds_are_found_without_being_named_anywhere_else() -> None:
    assert Pager.kinds()["link"] is LinkPaging
    assert Filter.kinds()["date-range"] is DateRange


def test_a_link_header_is_parsed_by_relation() -> None:
    header = '<https://h/x?page=2&per_page=10>; rel="next", <https://h/x?page=5>; rel="last first"'
    assert parse_links(header) == {
        "next": "https://h/x?page=2&per_page=10",
        "last": "https://h/x?page=5",
        "first": "https://h/x?page=5",
    }
    assert parse_links(None) == {}


def test_the_link_client_follows_rel_next_and_stops_without_it() -> None:
    pager = Pager.from_declaration(
        {"style": "link", "page_param": "page", "size_param": "per_page"}, {"page": PAGE, "per_page": SIZE}
    )
    more = PageSeen({"page": 1}, 10, {}, {"link": '<?page=2&per_page=10&status=free>; rel="next"'})
    assert pager.next_query(more) == {"page": "2", "per_page": "10", "status": "free"}
    assert pager.next_query(PageSeen({"page": 2}, 3, {}, {"link": '<?page=1>; rel="prev"'})) is None
    assert pager.records_for(3) == 30
    assert pager.first_query(25) == {"page": 1, "per_page": 25}


def test_the_link_verdict_finds_a_short_page_that_links_a_next_one() -> None:
    pager = Pager.from_declaration(
        {"style": "link", "page_param": "page", "size_param": "per_page"}, {"page": PAGE, "per_page": SIZE}
    )
    seen = PageSeen({"page": 1, "per_page": 10}, 4, {}, {"link": '<?page=2&per_page=10>; rel="next"'})
    verdict = pager.verdict(seen, 10, 1, 4)
    assert verdict.next is None
    assert not verdict.complete
    assert [broken.message for broken in verdict.broken] == ['page 1 lists 4 of 10 but links rel="next"']


@pytest.mark.parametrize(
    ("declared", "moment", "admitted"),
    [
        ({}, "2024-05-01T00:00:00Z", True),  # the lower bound is inclusive by default
        ({}, "2024-06-01T00:00:00Z", False),  # the upper bound is exclusive by default
        ({"after": "exclusive"}, "2024-05-01T00:00:00Z", False),
        ({"before": "inclusive"}, "2024-06-01T00:00:00+00:00", True),
        ({}, "2024-05-15T12:00:00+02:00", True),
        ({}, "2024-04-30T23:59:59Z", False),
        ({}, None, False),  # no timestamp: not within any range
    ],
)
def test_a_date_range_bounds_a_timestamp_field(declared: dict[str, str], moment: Any, admitted: bool) -> None:
    declaration = {"param": "after", "before_param": "before", "field": "at", "kind": "date-range"}
    between = DateRange({**declaration, **declared}).constraint_for(
        {"after": "2024-05-01T00:00:00Z", "before": "2024-06-01"}
    )
    assert isinstance(between, Between)
    assert between.admits(instant(moment)) is admitted


def test_a_date_range_refuses_what_is_not_a_timestamp_and_ignores_no_bound() -> None:
    declared = DateRange({"param": "after", "before_param": "before", "field": "at"})
    refused = declared.constraint_for({"before": "yesterday"})
    assert isinstance(refused, Violation)
    assert (refused.field, refused.rule) == ("before", "date-time")
    assert declared.constraint_for({}) is None


def test_a_date_range_probes_with_timestamps_of_the_sample() -> None:
    declared = DateRange({"param": "after", "before_param": "before", "field": "at"})
    sample = [{"at": f"2024-0{month}-01T00:00:00Z"} for month in (1, 2, 3)]
    probes = list(declared.probes(ParamSpec("after", "string"), sample))
    assert [probe.query for probe in probes] == [
        {"after": "2024-02-01T00:00:00Z"},
        {"before": "2024-02-01T00:00:00Z"},
        {"after": "2024-01-01T00:00:00Z", "before": "2024-02-01T00:00:00Z"},
    ]
    assert [[probe.matches(item) for item in sample] for probe in probes] == [
        [False, True, True],
        [True, False, False],
        [True, False, False],
    ]


# ---------------------------------------------------------------------------------------------- a vendor


def test_a_vendor_declaring_both_is_linted_clean(madeup: EmulatorConfig) -> None:
    _, problems = lint(madeup.schemas_dir, madeup.fixtures_dir)
    assert problems == []


def test_the_pages_are_linked_and_the_range_narrows_them(madeup: EmulatorConfig) -> None:
    client, headers = _client(madeup)
    seen: list[str] = []
    url: str | None = f"/madeup{PATH}?per_page=7"
    while url is not None:
        response = client.get(url, headers=headers)
        assert response.status_code == 200
        seen += [item["id"] for item in response.json()["results"]]
        following = response.links.get("next", {}).get("url")
        url = str(response.url.join(following)) if following else None
    total = client.get(f"/madeup{PATH}", headers=headers).json()["paging"]["total"]
    assert len(seen) == len(set(seen)) == total

    middle = sorted(item["created_at"] for item in json.loads(_fixture(madeup))["records"])[total // 2]
    narrowed = client.get(
        f"/madeup{PATH}", params={"created_after": middle, "per_page": 100}, headers=headers
    )
    assert narrowed.status_code == 200
    assert narrowed.json()["results"]
    assert all(instant(item["created_at"]) >= instant(middle) for item in narrowed.json()["results"])  # type: ignore[operator]


def test_an_invalid_timestamp_gets_the_vendors_validation_error(madeup: EmulatorConfig) -> None:
    client, headers = _client(madeup)
    response = client.get(f"/madeup{PATH}", params={"created_before": "last tuesday"}, headers=headers)
    like = client.get(f"/madeup{PATH}", params={"per_page": "many"}, headers=headers)
    assert 400 <= response.status_code < 500
    assert response.status_code == like.status_code
    assert set(response.json()) == set(like.json())
    assert "created_before" in response.text


def test_the_contract_checks_walk_it_and_find_nothing(madeup: EmulatorConfig) -> None:
    report = run("mock", vendors=["madeup"], config=madeup, sleep=lambda seconds: None)
    assert [status.status for status in report.endpoints] == ["checked"], report.endpoints
    assert report.findings == []


def test_the_recorder_walks_every_page(madeup: EmulatorConfig, tmp_path: Path) -> None:
    recorded = record_target("mock", out=tmp_path, vendors=["madeup"], config=madeup, keep=True)
    assert [len(result.records) for result in recorded] == [len(json.loads(_fixture(madeup))["records"])]


def _fixture(config: EmulatorConfig) -> str:
    return next((config.fixtures_dir / "madeup").glob("*.json")).read_text(encoding="utf-8")
