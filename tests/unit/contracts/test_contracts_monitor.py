"""The drift monitor against drifting upstreams of our own, one class of change at a time.

Each upstream is the emulator on 127.0.0.1 (tests/drifting_upstream.py) with options changed, its
queries rewritten or its answers altered. Every scenario is derived from the declarations (which
defaults are documented, which paging signals an envelope has, which options exist), so a vendor added
later is covered too. The classes:
- undocumented choices that differ: only info, each named with its option and the fix;
- documented defaults that changed (order, page size, filter): found with their kind;
- paging signals broken on the last page, an end-of-list flag that never turns false, a total that is
  the page length: found on every endpoint whose envelope has the signal;
- data that changes mid-walk, transient 429/502/503/504 and timeouts: no warning, no error, a note.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from contracts import run
from contracts.checks import provenance
from contracts.checks.findings import KINDS, Severity
from contracts.checks.runner import Report
from contracts.checks.writes import WRITES_NEED_FLAG
from contracts.targets.client import MAX_RETRY_AFTER_SECONDS, MAX_TOTAL_WAIT_SECONDS
from mockserver.declarations.model import EndpointSpec, VendorSpec
from mockserver.documents.reading import path_get
from mockserver.engine.emulator import build_emulator
from mockserver.kinds.filter_kinds.equals import Equals
from mockserver.kinds.paging import Pager, signal_paths
from mockserver.kinds.paging_styles.cursor import CursorPaging
from mockserver.kinds.templates import placeholders
from mockserver.testing import VendorMock
from tests import drifting_upstream as drift
from tests.conftest import data_config
from tests.drifting_upstream import Exchange, Params, Upstream

CONFIG = data_config()
SPECS = build_emulator(CONFIG).vendors
ENDPOINTS = [(spec, e) for spec in SPECS.values() for e in spec.endpoints]
PAGED = [(spec, e) for spec, e in ENDPOINTS if e.paging.style != "none"]


def _changed_value(spec: VendorSpec, name: str) -> Any:
    """Another value of an option: the next choice, a larger number, another text."""
    option = next(o for o in spec.options if o.name == name)
    if option.choices:
        return option.choices[(option.choices.index(option.value) + 1) % len(option.choices)]
    if isinstance(option.value, int):
        return option.value + 5
    return f"{option.value} (changed)"


def _observable(spec: VendorSpec) -> list[str]:
    """The options a changed upstream shows: every one with an observer, except maximums (a larger
    maximum cannot be seen when the data is smaller than it)."""
    found = {s.option for s in provenance.sites(spec) if s.kind != "param-maximum"}
    maximums = {s.option for s in provenance.sites(spec) if s.kind == "param-maximum"}
    return sorted(found - maximums)


CHANGED = {
    spec.id: {name: _changed_value(spec, name) for name in _observable(spec)} for spec in SPECS.values()
}


@pytest.fixture(scope="module")
def upstream() -> Iterator[Upstream]:
    running = drift.start(CONFIG)
    yield running.upstream
    drift.stop(running)


@pytest.fixture(scope="module")
def choosy() -> Iterator[Upstream]:
    """A vendor that differs from us only where the docs are silent: every option changed."""
    running = drift.start(data_config(options=CHANGED))
    yield running.upstream
    drift.stop(running)


def live(upstream: Upstream, vendors: list[str] | None = None, **settings: Any) -> Report:
    settings.setdefault("sleep", lambda seconds: None)
    return run("live", vendors=vendors, environ=upstream.environ(), config=CONFIG, **settings)


def found(report: Report, kind: str) -> set[str]:
    return {f"{f.vendor} {f.endpoint}" for f in report.findings if f.kind == kind}


def label(spec: VendorSpec, endpoint: EndpointSpec) -> str:
    return f"{spec.id} GET {endpoint.path}"


# ------------------------------------------------------------------------------ undocumented choices


def test_a_vendor_that_differs_only_in_undocumented_choices_gets_info_naming_each_option(
    choosy: Upstream,
) -> None:
    report = live(choosy)
    # the writes that change data are skipped on live without --allow-writes; everything else is checked
    assert {s.status for s in report.endpoints if s.reason != WRITES_NEED_FLAG} == {"checked"}
    assert report.reaching(Severity.WARNING) == [], [f.as_dict() for f in report.reaching(Severity.WARNING)]
    differs = [f for f in report.findings if f.kind == "assumption-differs"]
    named = {f.option for f in differs}
    assert named == {f"{vendor}.{name}" for vendor, names in CHANGED.items() for name in names}
    for finding in differs:
        vendor, name = (finding.option or "").split(".", 1)
        value = CHANGED[vendor][name]
        assert finding.severity == Severity.INFO
        assert finding.provenance == "assumption"
        assert finding.observed == value
        assert finding.expected == next(o.value for o in SPECS[vendor].options if o.name == name)
        assert finding.fix is not None
        assert f"--option {vendor}.{name}=" in finding.fix


DEFAULT_SIZES = [
    (spec, found)
    for spec in SPECS.values()
    for found in provenance.sites(spec)
    if found.kind == "param-default"
]


@contextmanager
def whole_list_in_one_bare_page(spec: VendorSpec, found: provenance.Site) -> Iterator[tuple[Upstream, int]]:
    """An upstream whose default page size is 30 above ours, holding 5 records more than our default:
    the request without a page size lists all of them, and the list ends there. (upstream, records)"""
    ours = next(o.value for o in spec.options if o.name == found.option)
    assert isinstance(ours, int)
    running = drift.start(data_config(options={spec.id: {found.option: ours + 30}}))
    endpoint = next(e for e in spec.endpoints if e.path == found.endpoint)
    try:
        mock = VendorMock(running.upstream.emulator, spec.id)
        mock.seed([{}] * (ours + 5), dataset=endpoint.dataset)
        yield running.upstream, ours + 5
    finally:
        drift.stop(running)


@pytest.mark.parametrize(("spec", "found"), DEFAULT_SIZES, ids=[s.id for s, _ in DEFAULT_SIZES])
def test_a_whole_list_in_the_first_bare_page_shows_a_larger_default_page_size(
    spec: VendorSpec, found: provenance.Site
) -> None:
    """Issue 24 part 7: the bare page was not full (the list ended), so no page size was read from it;
    but it listed more than our default, so the real default is at least that many."""
    with whole_list_in_one_bare_page(spec, found) as (upstream, records):
        report = live(upstream, [spec.id])
    differs = [f for f in report.findings if f.option == f"{spec.id}.{found.option}"]
    assert [f.kind for f in differs] == ["assumption-differs"], [f.as_dict() for f in report.findings]
    assert differs[0].observed == records
    assert f"at least {records}" in differs[0].message
    assert "lower bound" in differs[0].message


def test_the_undrifted_upstream_has_no_assumption_that_differs(upstream: Upstream) -> None:
    upstream.play()
    report = live(upstream)
    assert report.findings == [], [f.as_dict() for f in report.findings]
    assert {(o.vendor, o.option) for o in report.observations} >= {
        (vendor, name) for vendor, names in CHANGED.items() for name in names
    }


# ------------------------------------------------------------------------------ documented defaults


def _documented(spec: VendorSpec, endpoint: EndpointSpec, name: str | None) -> bool:
    return (
        name is not None
        and endpoint.params[name].default is not None
        and provenance.documented_default(spec, endpoint, name)
    )


def _size_param(endpoint: EndpointSpec) -> str | None:
    return endpoint.paging.size_param


def _when_absent(name: str | None, value: Callable[[EndpointSpec], Any]) -> drift.Rewrite:
    def rewrite(endpoint: EndpointSpec, params: Params) -> Params:
        if name is None or any(given == name for given, _ in params):
            return params
        return [*params, (name, value(endpoint))]

    return rewrite


def _order_rewrite(endpoint: EndpointSpec, params: Params) -> Params:
    order = endpoint.order
    if order.param is None or any(given == order.param for given, _ in params):
        return params
    default = endpoint.params[order.param].default
    other = next(choice for choice in order.options if choice != default)
    return [*params, (order.param, other)]


def _size_rewrite(endpoint: EndpointSpec, params: Params) -> Params:
    name = _size_param(endpoint)
    if name is None or any(given == name for given, _ in params):
        return params
    default = endpoint.params[name].default
    assert isinstance(default, int), name
    return [*params, (name, default + 3)]


def _filter_rewrite(endpoint: EndpointSpec, params: Params) -> Params:
    for declared in endpoint.filters:
        default = endpoint.params[declared.param].default
        given = {name for name, _ in params}
        if not isinstance(declared, Equals) or default is None or declared.settings.match_all is None:
            continue
        if declared.param not in given:
            params = [*params, (declared.param, declared.settings.match_all)]
    return params


DEFAULT_SCENARIOS: dict[str, tuple[drift.Rewrite, str, Callable[[VendorSpec, EndpointSpec], bool]]] = {
    "default order": (
        _order_rewrite,
        "sort-order-changed",
        lambda s, e: _documented(s, e, e.order.param),
    ),
    "default page size": (
        _size_rewrite,
        "pagination-contract-broken",
        lambda s, e: _documented(s, e, _size_param(e)),
    ),
    "default filter": (
        _filter_rewrite,
        "filter-semantics-changed",
        lambda s, e: any(
            isinstance(f, Equals) and f.settings.match_all is not None and _documented(s, e, f.param)
            for f in e.filters
        ),
    ),
}


@pytest.mark.parametrize("scenario", DEFAULT_SCENARIOS)
def test_a_changed_documented_default_is_found_with_its_kind(upstream: Upstream, scenario: str) -> None:
    rewrite, kind, applies = DEFAULT_SCENARIOS[scenario]
    expected = {label(s, e) for s, e in ENDPOINTS if applies(s, e)}
    assert expected, "some endpoint documents such a default"
    upstream.play(rewrite=rewrite)
    report = live(upstream, sorted({name.split()[0] for name in expected}))
    upstream.play()
    assert found(report, kind) == expected, [f.as_dict() for f in report.findings][:6]
    assert {f.severity for f in report.findings if f.kind == kind} == {KINDS[kind]}


def test_a_changed_undocumented_default_page_size_is_only_an_assumption(upstream: Upstream) -> None:
    assumed = [(s, e) for s, e in PAGED if not provenance.documented_default(s, e, str(_size_param(e)))]
    assert assumed, "some vendor's default page size is an assumption"
    upstream.play(rewrite=_size_rewrite)
    report = live(upstream, sorted({s.id for s, _ in assumed}))
    upstream.play()
    assert report.reaching(Severity.WARNING) == []
    options = {f.option for f in report.findings if f.kind == "assumption-differs"}
    for spec, endpoint in assumed:
        site = provenance.site(spec, "param-default", str(_size_param(endpoint)), endpoint)
        assert site is not None
        assert f"{spec.id}.{site.option}" in options


# ------------------------------------------------------------------------------ paging signals


def _variables(endpoint: EndpointSpec) -> set[str]:
    return set(placeholders(endpoint.envelope))


def _is_last(exchange: Exchange) -> bool:
    """Whether the emulator's answer is the last page of its listing."""
    assert exchange.endpoint is not None
    paths = signal_paths(exchange.endpoint.envelope)
    if "has_more" in paths:
        return path_get(exchange.body, paths["has_more"]) is False
    if "next_cursor" in paths:
        return not path_get(exchange.body, paths["next_cursor"])
    if "page" in paths and "last_page" in paths:  # page paging: an offset is not sent
        return bool(path_get(exchange.body, paths["page"]) >= path_get(exchange.body, paths["last_page"]))
    total = path_get(exchange.body, paths.get("total"))
    offset_param = _param(exchange.endpoint.paging, "position")
    offset = next((int(str(v)) for k, v in exchange.params if k == offset_param), 0)
    return isinstance(total, int) and offset + len(exchange.items()) >= total


def _set(exchange: Exchange, variable: str, change: Callable[[Any], Any]) -> None:
    assert exchange.endpoint is not None
    path = signal_paths(exchange.endpoint.envelope)[variable]
    holder = path_get(exchange.body, path[:-1]) if len(path) > 1 else exchange.body
    holder[path[-1]] = change(holder[path[-1]])


def on_last_page(variable: str, change: Callable[[Any], Any]) -> drift.Mutation:
    def mutation(exchange: Exchange) -> None:
        if exchange.status == 200 and exchange.endpoint is not None and _is_last(exchange):
            _set(exchange, variable, change)

    return mutation


def _bump(value: Any) -> Any:
    return value + 1 if isinstance(value, int) else 1


LAST_PAGE: dict[str, Callable[[Any], Any]] = {
    "has_more": lambda value: True,
    "next_cursor": lambda value: "eyJmb3JnZWQiOnRydWV9.c2ln",
    "total": _bump,
    "last_page": _bump,
    "from": _bump,
    "to": _bump,
    "page": _bump,
    "per_page": _bump,
}
SIGNALLED = {v for _, e in PAGED for v in _variables(e)} & set(LAST_PAGE)


@pytest.mark.parametrize("variable", sorted(SIGNALLED))
def test_a_paging_signal_broken_on_the_last_page_is_found(upstream: Upstream, variable: str) -> None:
    expected = {label(s, e) for s, e in PAGED if variable in _variables(e)}
    upstream.play(mutation=on_last_page(variable, LAST_PAGE[variable]))
    report = live(upstream, sorted({name.split()[0] for name in expected}))
    upstream.play()
    assert found(report, "pagination-contract-broken") == expected, [f.as_dict() for f in report.findings][:6]


def _always_more(exchange: Exchange) -> None:
    if exchange.status == 200 and exchange.endpoint is not None:
        _set(exchange, "has_more", lambda value: True)


def _total_is_page_length(exchange: Exchange) -> None:
    if exchange.status == 200 and exchange.endpoint is not None:
        listed = len(exchange.items())
        _set(exchange, "total", lambda value: listed)


@pytest.mark.parametrize(
    ("variable", "mutation"), [("has_more", _always_more), ("total", _total_is_page_length)]
)
def test_an_end_of_list_flag_that_never_turns_false_and_a_total_that_is_the_page_length(
    upstream: Upstream, variable: str, mutation: drift.Mutation
) -> None:
    expected = {label(s, e) for s, e in PAGED if variable in _variables(e)}
    assert expected
    upstream.play(mutation=mutation)
    report = live(upstream, sorted({name.split()[0] for name in expected}))
    upstream.play()
    assert found(report, "pagination-contract-broken") == expected, [f.as_dict() for f in report.findings][:6]


# ------------------------------------------------------------------------------ noise


def _later_page(exchange: Exchange) -> bool:
    assert exchange.endpoint is not None
    paging = exchange.endpoint.paging
    cursor = paging.settings.cursor_param if isinstance(paging, CursorPaging) else None
    for name, value in exchange.params:
        if name == cursor or (name == _param(paging, "page") and str(value) == "2"):
            return True
        if name == _param(paging, "position") and str(value) not in ("", "0"):
            return True
    return False


def _param(paging: Pager, role: str) -> str | None:
    """The paging parameter playing ``role`` (``page``, ``position``) for a client, if any."""
    return next((name for name, played in paging.param_roles().items() if played == role), None)


@pytest.mark.parametrize("vendor", sorted({s.id for s, _ in PAGED}))
def test_a_number_bought_mid_walk_is_not_drift(upstream: Upstream, vendor: str) -> None:
    bought: list[str] = []

    def buy_once(exchange: Exchange) -> None:
        if bought or exchange.endpoint is None or exchange.status != 200 or not _later_page(exchange):
            return
        spec = exchange.vendor
        key = spec.datasets[exchange.endpoint.dataset].key
        like = {name: value for name, value in exchange.items()[0].items() if name != key}
        VendorMock(upstream.emulator, spec.id).seed([like], dataset=exchange.endpoint.dataset, mode="extend")
        bought.append(spec.id)

    upstream.play(mutation=buy_once)
    try:
        report = live(upstream, [vendor])
    finally:
        upstream.play()
        upstream.emulator.reset()
    assert bought == [vendor]
    assert report.reaching(Severity.WARNING) == [], [f.as_dict() for f in report.reaching(Severity.WARNING)]
    notes = [note for status in report.endpoints for note in status.notes]
    assert any("changed during a walk" in note for note in notes), notes


def test_transient_answers_and_a_timeout_are_retried_and_noted_not_reported(upstream: Upstream) -> None:
    statuses = iter([503, 429, 502, 504] * 1000)
    count = [0]

    def noisy(exchange: Exchange) -> None:
        count[0] += 1
        if count[0] == 3:
            time.sleep(1.2)
        elif count[0] % 5 == 1:
            exchange.status = next(statuses)
            exchange.headers["retry-after"] = "2"
            exchange.body = {"message": "Service Unavailable"}

    slept: list[float] = []
    upstream.play(mutation=noisy)
    report = live(upstream, sleep=slept.append, timeout=0.8)
    upstream.play()
    assert report.reaching(Severity.WARNING) == [], [f.as_dict() for f in report.reaching(Severity.WARNING)]
    notes = " ".join(note for status in report.endpoints for note in status.notes)
    for status in (503, 429, 502, 504):
        assert f"transient {status}, retried after 2 s (Retry-After 2)" in notes
    assert "timeout, retried" in notes
    assert slept.count(2.0) >= 4


def test_a_transient_that_persists_past_the_retries_is_a_finding_and_retry_after_is_capped(
    upstream: Upstream,
) -> None:
    def down(exchange: Exchange) -> None:
        exchange.status, exchange.body = 503, {"message": "Service Unavailable"}
        exchange.headers["retry-after"] = "3600"

    slept: list[float] = []
    upstream.play(mutation=down)
    report = live(upstream, ["contactship"], sleep=slept.append)
    upstream.play()
    assert "status-unexpected" in {f.kind for f in report.findings}
    assert max(slept) == MAX_RETRY_AFTER_SECONDS
    notes = " ".join(note for status in report.endpoints for note in status.notes)
    assert "503 persisted after 3 retries" in notes


def test_a_target_that_is_down_for_every_request_ends_the_run_within_the_wait_budget(
    upstream: Upstream,
) -> None:
    """502 with Retry-After: 30 on every request: the run waits at most MAX_TOTAL_WAIT_SECONDS in all
    (an endpoint whose answer persisted past its retries is not retried again), then reports."""

    def down(exchange: Exchange) -> None:
        exchange.status, exchange.body = 502, {"message": "Bad Gateway"}
        exchange.headers["retry-after"] = "30"

    slept: list[float] = []
    upstream.play(mutation=down)
    report = live(upstream, sleep=slept.append)
    upstream.play()
    assert "status-unexpected" in {f.kind for f in report.findings}
    assert sum(wait for wait in slept if wait >= 1) <= MAX_TOTAL_WAIT_SECONDS  # not the pacing
    notes = " ".join(note for status in report.endpoints for note in status.notes)
    assert "not retried (it persisted before)" in notes or "s of waits before retries are spent" in notes


def test_a_lower_undocumented_maximum_page_size_is_only_an_assumption(upstream: Upstream) -> None:
    """Where our maximum page size is an assumption, a vendor that refuses it must not fail every check
    that asks for a wide page: the monitor halves the size until it is taken, and names the option."""
    assumed = {
        (spec.id, site.where, site.option)
        for spec, endpoint in PAGED
        for site in provenance.sites(spec)
        if site.kind == "param-maximum"
        and site.endpoint == endpoint.path
        and site.where == _size_param(endpoint)
    }
    assert assumed, "some vendor's maximum page size is an assumption"
    limit = 30

    def lower_maximum(exchange: Exchange) -> None:
        assert exchange.endpoint is not None
        if exchange.vendor.id not in {vendor for vendor, _, _ in assumed}:
            return
        name = _size_param(exchange.endpoint)
        sizes = [
            int(str(value)) for given, value in exchange.params if given == name and str(value).isdigit()
        ]
        if sizes and max(sizes) > limit:
            exchange.status, exchange.body = 400, exchange.vendor.errors["invalid_parameter"].body

    upstream.play(mutation=lower_maximum)
    report = live(upstream, sorted({vendor for vendor, _, _ in assumed}))
    upstream.play()
    assert report.reaching(Severity.WARNING) == [], [f.as_dict() for f in report.reaching(Severity.WARNING)]
    maximums = {f.option: f.observed for f in report.findings if f.kind == "assumption-differs"}
    for vendor, _, option in assumed:
        observed = maximums[f"{vendor}.{option}"]
        assert isinstance(observed, int)
        assert observed <= limit
