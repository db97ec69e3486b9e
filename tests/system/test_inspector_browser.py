"""The inspector page and the HTML drift report, in a real headless Chromium (the system's package).

``make test`` installs Debian's ``chromium`` when it is missing; Playwright drives it through
``executable_path`` (no browser download). The emulator runs as ``python -m mockserver serve`` with an
admin token, and every request the page makes is recorded: none may go to another host. Screenshots go
to ``artifacts/browser/`` (kept by CI, ignored by git); copies are in ``docs/img/`` for the README.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from mockserver.declarations.loading import discover_vendors
from mockserver.engine.config import DEFAULT_SCHEMAS_DIR
from tests.conftest import ROOT, wait_until_serving

playwright = pytest.importorskip("playwright.sync_api")
from playwright.sync_api import Browser, Page, Route  # noqa: E402 - after the skip above

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
if not Path(CHROMIUM).is_file():  # pragma: no cover - make test installs it
    if os.environ.get("CI"):
        pytest.fail("CI must run the browser tests: make test installs Debian's chromium", pytrace=False)
    pytest.skip("Debian's chromium is not installed (make test installs it)", allow_module_level=True)

ARTIFACTS = Path(os.environ.get("VENDOR_EMULATOR_ARTIFACTS") or ROOT / "artifacts") / "browser"
TOKEN = "inspector-test-token"
BUTTER = {"X-API-Key": "bk_test_butter", "X-Organization-Id": "org_test"}
pytestmark = pytest.mark.xdist_group("heavy")  # a browser wants a core: not beside the load test


@contextlib.contextmanager
def _serving(*extra: str) -> Iterator[str]:
    """``python -m mockserver serve --port 0 ...``: the command a developer runs; yields its base URL."""
    process = subprocess.Popen(
        [sys.executable, "-m", "mockserver", "serve", "--port", "0", "--no-access-log", *extra],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert process.stdout is not None
    first = process.stdout.readline()
    match = re.search(r"on (http://127\.0\.0\.1:\d+)", first)
    assert match, first
    banner = first + process.stdout.readline()
    base = match.group(1)
    assert f"inspector: {base}/__mock__/ui" in banner
    wait_until_serving(base)
    try:
        yield base
    finally:
        process.terminate()
        try:
            process.communicate(timeout=10)
        finally:  # a stop that hangs is the failure reported: the process and its pipe go either way
            process.kill()
            process.stdout.close()


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    """``serve --admin-token ...``."""
    with _serving("--admin-token", TOKEN) as base:
        yield base


@pytest.fixture(scope="module")
def open_server() -> Iterator[str]:
    """``serve`` on loopback with no admin token: the default command line."""
    with _serving() as base:
        yield base


class Recorder:
    """Every URL the page asks for; anything not on the emulator is refused and remembered."""

    def __init__(self, base: str) -> None:
        self.origin = urlsplit(base).netloc
        self.urls: list[str] = []
        self.foreign: list[str] = []

    def route(self, route: Route) -> None:
        url = route.request.url
        self.urls.append(url)
        if urlsplit(url).scheme in ("data", "blob") or urlsplit(url).netloc == self.origin:
            route.continue_()
        else:
            self.foreign.append(url)
            route.abort()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with playwright.sync_playwright() as driver:
        launched = driver.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser, server: str) -> Iterator[tuple[Page, Recorder]]:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    recorder = Recorder(server)
    context.route("**/*", recorder.route)
    opened = context.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda error: errors.append(str(error)))
    opened.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    yield opened, recorder
    context.close()
    assert not errors, errors
    assert not recorder.foreign, f"the page asked other hosts: {recorder.foreign}"
    assert recorder.urls, "nothing was recorded"
    assert {urlsplit(url).netloc for url in recorder.urls if url.startswith("http")} == {recorder.origin}


def _open(page: Page, base: str) -> None:
    httpx.post(f"{base}/__mock__/reset", json={}, headers={"X-Mock-Admin-Token": TOKEN}).raise_for_status()
    page.goto(f"{base}/__mock__/ui")
    page.fill("#token", TOKEN)
    page.press("#token", "Tab")  # a change event: the page starts polling with the token


def test_the_page_lists_every_vendor_with_urls_credentials_curl_and_options(
    page: tuple[Page, Recorder], server: str
) -> None:
    browser_page, _ = page
    _open(browser_page, server)
    declared = httpx.get(f"{server}/__mock__").json()["vendors"]
    assert sorted(vendor["id"] for vendor in declared) == discover_vendors(DEFAULT_SCHEMAS_DIR)
    shown = browser_page.locator("article.vendor")
    assert sorted(shown.evaluate_all("nodes => nodes.map(n => n.dataset.vendor)")) == sorted(
        vendor["id"] for vendor in declared
    )
    for vendor in declared:
        card = browser_page.locator(f"article.vendor[data-vendor='{vendor['id']}']")
        text = card.inner_text()
        assert vendor["title"] in text
        assert vendor["live_base_url"] in text
        assert f"{server}/{vendor['id']}" in text
        for headers in vendor["test_credentials"]:
            for name, value in headers.items():
                assert f"{name}: {value}" in text
        for endpoint in vendor["endpoints"]:
            assert "curl -sS" in text
            assert f"{server}{endpoint['url']}" in text
    options = browser_page.locator("#options").inner_text()
    assert "assumption" in options
    assert "documented" in options
    some = declared[0]["options"]
    name, option = next(iter(some.items()))
    assert name in options
    assert option["assumption"] in options
    browser_page.wait_for_selector("#tenant-rows tr[data-tenant='org_test']")
    skip = browser_page.locator("a.skip")
    skip.focus()
    assert skip.is_visible(), "the skip link shows when it has the focus"
    reached = set()
    for _ in range(browser_page.locator("button, a[href], select, input").count()):
        browser_page.keyboard.press("Tab")  # Tab reaches every control: none is mouse-only
        reached.add(browser_page.evaluate("document.activeElement.id || document.activeElement.name || ''"))
    assert {"token", "reset", "clear-journal", "vendor", "status", "live"} <= reached
    skip.focus()
    browser_page.keyboard.press("Enter")
    assert browser_page.evaluate("location.hash") == "#journal"


def test_a_request_appears_in_the_journal_within_two_seconds_and_opens_redacted(
    page: tuple[Page, Recorder], server: str
) -> None:
    browser_page, _ = page
    _open(browser_page, server)
    browser_page.wait_for_selector("#tenant-rows tr")  # the page is polling with the token
    sent = time.monotonic()
    response = httpx.get(f"{server}/butter/api/phone-numbers", params={"limit": 3}, headers=BUTTER)
    assert response.status_code == 200
    row = browser_page.locator("#journal-rows tr[data-vendor='butter']").first
    row.wait_for(timeout=2000)
    seen = time.monotonic() - sent
    assert seen < 2.0
    print(f"journal view: request to row in {seen * 1000:.0f} ms")  # noqa: T201 - the closing note's number
    assert "GET /api/phone-numbers?limit=3" in row.inner_text()
    assert "200" in row.locator("td.status").inner_text()
    row.locator("button.open").focus()  # by keyboard: focus the row's button and press Enter
    browser_page.keyboard.press("Enter")
    detail = browser_page.locator("#detail")
    detail.locator("table.pairs").first.wait_for()
    text = detail.inner_text()
    assert "x-api-key" in text
    assert "[redacted]" in text
    assert "bk_test_butter" not in text
    assert "org_test" in text  # the organization is not a secret
    body = browser_page.locator("#response-body").inner_text()
    assert '"pagination"' in body or '"data"' in body
    assert browser_page.evaluate("document.activeElement.id") == "detail"
    browser_page.locator("#journal").scroll_into_view_if_needed()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    browser_page.screenshot(path=ARTIFACTS / "inspector-journal.png")


def test_the_journal_follows_server_sent_events_without_polling(
    page: tuple[Page, Recorder], server: str
) -> None:
    """Each request reaches the journal view over the event stream, not the 250 ms poll."""
    browser_page, recorder = page
    _open(browser_page, server)
    browser_page.wait_for_function("() => document.body.dataset.journal === 'events'")
    assert any("/__mock__/journal/events" in url for url in recorder.urls)
    shown = "document.querySelectorAll('#journal-rows tr[data-sequence]').length"
    delays = []
    polls_before = sum("/__mock__/journal?" in url for url in recorder.urls)
    with httpx.Client() as client:
        for _ in range(5):
            before = browser_page.evaluate(shown)
            sent = time.monotonic()
            assert client.get(f"{server}/butter/api/phone-numbers", headers=BUTTER).status_code == 200
            browser_page.wait_for_function(f"() => {shown} > {before}", polling="raf", timeout=2000)
            delays.append(time.monotonic() - sent)
    polls = sum("/__mock__/journal?" in url for url in recorder.urls) - polls_before
    assert polls <= 2, f"{polls} journal polls: the rows came over the stream (a catch-up poll every 2 s)"
    assert sorted(delays)[2] < 0.25, f"median {sorted(delays)[2] * 1000:.0f} ms: faster than a poll"
    assert browser_page.evaluate("document.body.dataset.journal") == "events"


def test_where_the_events_are_refused_the_journal_polls(browser: Browser, server: str) -> None:
    context = browser.new_context()
    context.route("**/__mock__/journal/events*", lambda route: route.fulfill(status=503, body="{}"))
    opened = context.new_page()
    _open(opened, server)
    opened.wait_for_function("() => document.body.dataset.journal === 'polling'")
    assert httpx.get(f"{server}/butter/api/phone-numbers", headers=BUTTER).status_code == 200
    opened.locator("#journal-rows tr[data-vendor='butter']").first.wait_for(timeout=2000)
    context.close()


def test_a_fault_applied_from_the_page_reaches_the_next_request(
    page: tuple[Page, Recorder], server: str
) -> None:
    browser_page, _ = page
    _open(browser_page, server)
    form = browser_page.locator("#fault-form")
    form.locator("select[name=vendor]").select_option("butter")
    form.locator("input[name=status]").fill("503")
    form.locator("input[name=times]").fill("1")
    form.locator("button[type=submit]").click()
    fault_row = browser_page.locator("#fault-rows tr[data-fault]")
    fault_row.wait_for()
    assert "butter" in fault_row.inner_text()
    assert "503" in fault_row.inner_text()
    first = httpx.get(f"{server}/butter/api/phone-numbers", headers=BUTTER)
    second = httpx.get(f"{server}/butter/api/phone-numbers", headers=BUTTER)
    assert (first.status_code, second.status_code) == (503, 200)
    faulted = browser_page.locator("#journal-rows tr", has_text="503").first
    faulted.wait_for(timeout=2000)
    assert re.search(r"503 \(rule \d+\)", faulted.locator("td.fault").inner_text())
    browser_page.wait_for_selector("#fault-rows tr.empty")  # used up: the page shows none left
    faulted.locator("button.open").click()
    browser_page.wait_for_selector("#detail table.pairs")
    assert "fault 503 (rule" in browser_page.locator("#detail").inner_text()
    browser_page.evaluate("document.getElementById('journal').scrollIntoView(); window.scrollBy(0, -90)")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    browser_page.screenshot(path=ARTIFACTS / "inspector-fault.png")


def test_a_fault_can_be_removed_from_the_page_and_filters_narrow_the_journal(
    page: tuple[Page, Recorder], server: str
) -> None:
    browser_page, _ = page
    _open(browser_page, server)
    added = httpx.post(
        f"{server}/__mock__/famulor/faults", json={"delay": 0.01}, headers={"X-Mock-Admin-Token": TOKEN}
    ).json()
    remove = browser_page.locator(f"#fault-rows button.remove-fault[data-id='{added['id']}']")
    remove.click()
    browser_page.wait_for_selector("#fault-rows tr.empty")
    assert httpx.get(f"{server}/__mock__/state", headers={"X-Mock-Admin-Token": TOKEN}).json()["faults"] == []
    httpx.get(f"{server}/butter/api/phone-numbers", headers=BUTTER)
    httpx.get(f"{server}/contactship/phone-numbers")  # no key: a 401
    browser_page.locator("#journal-rows tr[data-sequence]").nth(1).wait_for()
    browser_page.select_option("#journal-filter select[name=status]", "4xx")
    browser_page.wait_for_function(
        "() => { const rows = [...document.querySelectorAll('#journal-rows tr[data-sequence]')];"
        " return rows.length > 0"
        " && rows.every(r => r.querySelector('td.status').textContent.startsWith('4')); }"
    )
    browser_page.select_option("#journal-filter select[name=status]", "")
    browser_page.select_option("#journal-filter select[name=vendor]", "butter")
    browser_page.wait_for_function(
        "() => { const rows = [...document.querySelectorAll('#journal-rows tr[data-sequence]')];"
        " return rows.length > 0 && rows.every(r => r.dataset.vendor === 'butter'); }"
    )


def test_a_drift_switched_on_from_the_page_marks_its_answers_in_the_journal_until_switched_off(
    page: tuple[Page, Recorder], server: str
) -> None:
    browser_page, _ = page
    _open(browser_page, server)
    browser_page.wait_for_function("() => document.body.dataset.journal === 'events'")
    form = browser_page.locator("#drift-form")
    form.locator("select[name=vendor]").select_option("butter")
    form.locator("select[name=drift] option[value='field.renamed']").wait_for(state="attached")
    form.locator("select[name=drift]").select_option("field.renamed")
    assert "probable-rename" in browser_page.locator("#drift-about").inner_text()
    to = form.locator("input[data-param=to]")
    assert to.get_attribute("placeholder") == "default: phoneNumber"  # the catalogue's default, shown
    to.fill("msisdn")
    form.locator("button[type=submit]").click()
    drift_row = browser_page.locator("#drift-rows tr[data-drift='field.renamed']")
    drift_row.wait_for()
    assert "to=msisdn" in drift_row.inner_text()
    item = httpx.get(f"{server}/butter/api/phone-numbers", headers=BUTTER).json()["data"][0]
    assert "msisdn" in item
    assert "phone_number" not in item
    marked = browser_page.locator("#journal-rows tr.drifted[data-vendor='butter']").first
    marked.wait_for(timeout=2000)  # over the event stream
    assert marked.locator("td.drifts").inner_text() == "field.renamed"
    assert httpx.get(f"{server}/contactship/v1/phone-numbers").status_code == 401  # not drifted
    browser_page.locator("#journal-rows tr[data-vendor='contactship']").first.wait_for(timeout=2000)
    browser_page.check("#journal-filter input[name=drifted]")
    browser_page.wait_for_function(
        "() => { const rows = [...document.querySelectorAll('#journal-rows tr[data-sequence]')];"
        " return rows.length === 1 && rows[0].dataset.drifts === 'field.renamed'; }"
    )
    browser_page.locator("#journal").scroll_into_view_if_needed()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    browser_page.screenshot(path=ARTIFACTS / "inspector-drift.png")
    browser_page.locator("#drifts").screenshot(path=ARTIFACTS / "inspector-drifts.png")
    drift_row.locator("button.remove-drift").click()
    browser_page.wait_for_selector("#drift-rows tr.empty")
    assert "phone_number" in httpx.get(f"{server}/butter/api/phone-numbers", headers=BUTTER).json()["data"][0]


def test_the_page_fits_a_narrow_window(page: tuple[Page, Recorder], server: str) -> None:
    browser_page, _ = page
    browser_page.set_viewport_size({"width": 390, "height": 844})
    _open(browser_page, server)
    browser_page.wait_for_selector("#tenant-rows tr")
    overflow = browser_page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the page is {overflow} px wider than a 390 px window"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    browser_page.screenshot(path=ARTIFACTS / "inspector-narrow.png", full_page=False)


def test_without_a_token_the_page_works_on_loopback_and_other_sites_cannot_do_the_same(
    browser: Browser, open_server: str
) -> None:
    """The loopback default: no token, so only same-origin JSON requests (issue 11's checks) get in."""
    httpx.post(f"{open_server}/__mock__/reset", json={}).raise_for_status()
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    recorder = Recorder(open_server)
    context.route("**/*", recorder.route)
    browser_page = context.new_page()
    errors: list[str] = []
    browser_page.on("pageerror", lambda error: errors.append(str(error)))
    browser_page.goto(f"{open_server}/__mock__/ui")
    assert browser_page.locator("body").get_attribute("data-token-required") == "false"
    browser_page.wait_for_selector("#tenant-rows tr[data-tenant='org_test']")  # polling without a token
    form = browser_page.locator("#fault-form")
    form.locator("select[name=vendor]").select_option("butter")
    form.locator("input[name=status]").fill("503")
    form.locator("input[name=times]").fill("1")
    form.locator("button[type=submit]").click()  # a same-origin POST with a JSON body
    browser_page.locator("#fault-rows tr[data-fault]").wait_for()
    assert httpx.get(f"{open_server}/butter/api/phone-numbers", headers=BUTTER).status_code == 503
    browser_page.locator("#journal-rows tr", has_text="503").first.wait_for(timeout=2000)
    added = httpx.post(f"{open_server}/__mock__/famulor/faults", json={"delay": 0.01}).json()
    browser_page.locator(f"#fault-rows button.remove-fault[data-id='{added['id']}']").click()  # DELETE
    browser_page.wait_for_selector("#fault-rows tr.empty")
    browser_page.locator("#clear-journal").click()  # DELETE /__mock__/journal
    browser_page.wait_for_selector("#journal-rows tr.empty")
    assert httpx.get(f"{open_server}/__mock__/journal").json()["entries"] == []
    context.close()
    assert not errors, errors
    assert not recorder.foreign
    foreign = {"Origin": "https://attacker.example"}
    cross_site = httpx.post(f"{open_server}/__mock__/butter/faults", json={"status": 503}, headers=foreign)
    assert cross_site.status_code == 403
    assert httpx.delete(f"{open_server}/__mock__/journal", headers=foreign).status_code == 403
    as_form = httpx.post(
        f"{open_server}/__mock__/butter/faults", content=b"{}", headers={"content-type": "text/plain"}
    )
    assert as_form.status_code == 415
    rebinding = httpx.get(f"{open_server}/__mock__/journal", headers={"Host": "attacker.example"})
    assert rebinding.status_code == 421
    assert httpx.get(f"{open_server}/__mock__/state").json()["faults"] == [], "none of them got in"


# ------------------------------------------------------------------------------------ the drift report


EARLIER_RUNS = [
    {
        "schema": "vendor-emulator/drift-history/1",
        "run_at": f"2026-11-{day:02d}T03:17:00Z",
        "target": "live",
        "counts": {"error": errors, "warning": 1, "info": 0},
        "endpoints": {},
        "a_field_from_a_later_version": True,
    }
    for day, errors in ((1, 0), (2, 2))
]


@pytest.fixture(scope="module")
def drift_report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``contracts check --target live --html --history`` against a local upstream that drifts.

    Butter runs with a changed assumption (sort_direction=asc), Famulor renames a field, Mindhunters'
    base URL is a closed port, Contactship answers as documented. The history already has two runs
    (one with a field this version does not know) and a last line cut short.
    """
    from mockserver import EmulatorConfig
    from tests import drifting_upstream as drift

    folder = tmp_path_factory.mktemp("report")
    history = folder / "history.jsonl"
    lines = [json.dumps(run) for run in EARLIER_RUNS]
    history.write_text("\n".join(lines) + '\n{"schema": "vendor-emulator/drift-hist', encoding="utf-8")
    running = drift.start(EmulatorConfig(options={"butter": {"sort_direction": "asc"}}))
    upstream = running.upstream
    upstream.play(
        mutation=lambda exchange: drift.rename(exchange) if exchange.vendor.id == "famulor" else None
    )
    environment = {**os.environ, **upstream.environ(), "MINDHUNTERS_BASE_URL": "http://127.0.0.1:9"}
    report = folder / "drift.html"
    command = [sys.executable, "-m", "contracts", "check", "--target", "live"]
    try:
        result = subprocess.run(
            [*command, "--html", str(report), "--history", str(history)],
            cwd=ROOT,
            env=environment,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    finally:
        drift.stop(running)
    assert result.returncode == 1, result.stdout + result.stderr
    return report


def test_the_report_shows_states_findings_and_a_chart_of_every_run(
    browser: Browser, drift_report: Path
) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    asked: list[str] = []

    def only_the_file(route: Route) -> None:
        asked.append(route.request.url)
        if route.request.url.startswith("file://"):
            route.continue_()
        else:
            route.abort()

    context.route("**/*", only_the_file)
    page = context.new_page()
    page.goto(drift_report.as_uri())
    states = dict(
        page.locator("#endpoints tr.endpoint").evaluate_all(
            "rows => rows.map(r => [r.cells[0].textContent + ' ' + r.cells[1].textContent, r.dataset.state])"
        )
    )
    assert states["butter GET /api/phone-numbers"] == "assumption-differs"
    assert states["contactship GET /v1/phone-numbers"] == "clean"
    assert states["famulor GET /api/user/phone-numbers"] == "drift"
    assert states["mindhunters GET /api/v1/phone-numbers"] == "unreachable"
    rename = page.locator("tr.finding[data-kind='probable-rename']").first
    cells = rename.locator("td").all_inner_texts()
    assert cells[0] == "error"
    assert cells[2] == "/data/*/phone_number"
    assert '"phone_number"' in cells[4]
    assert '"phone_number_v2"' in cells[5]
    assert str(rename.locator("a").get_attribute("href")).startswith("https://docs.famulor.io/")
    sort = page.locator("tr.finding[data-kind='assumption-differs']").filter(has_text="sort_direction")
    assert "assumption sort_direction" in sort.first.inner_text()
    assert "--option butter.sort_direction=asc" in sort.first.inner_text()
    chart = page.locator("svg#history-chart")
    assert chart.get_attribute("data-runs") == "3"  # two earlier runs and this one; the cut line skipped
    totals = chart.locator("g.run").evaluate_all("groups => groups.map(g => Number(g.dataset.total))")
    findings = page.locator("tr.finding").count()
    assert totals[:2] == [1, 3]
    assert totals[2] == findings
    assert chart.locator("rect.error").count() >= 2
    labels = chart.locator("g.run text.count").evaluate_all("texts => texts.map(t => t.textContent)")
    assert labels == [str(total) for total in totals]  # each bar says its count: no hovering needed
    assert all(url.startswith("file://") for url in asked)
    assert asked == [drift_report.as_uri()]  # one file: nothing else is loaded
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=ARTIFACTS / "drift-report.png", full_page=True)
    context.close()
