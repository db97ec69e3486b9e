"""The inspector: a page at ``/__mock__/ui`` to look at a running emulator, and the JSON it reads.

The page is rendered server-side from the declarations (:mod:`mockserver.serving.inspector_page`); a
small script (``static/inspector.js``, no framework, nothing from the internet) follows the journal as
server-sent events (polling where they are refused), polls the JSON endpoints below for faults and
tenants, and changes state through the same admin API as any other caller: the admin token header when
one is set, same-origin, JSON bodies.

JSON endpoints (behind the admin token, like the rest of ``/__mock__/``):

- ``GET /__mock__/journal``: the request journal, newest first; ``vendor``, ``tenant``, ``status``
  (``429`` or ``4xx``) and ``drifted`` (``true``: only answers a drift changed, ``false``: only the
  others) filter it, ``since=<sequence>`` returns only newer entries (the page polls this), ``limit``
  caps the answer (default 200, at most 1000). Each entry names the drifts that changed it (``drifts``).
- ``GET /__mock__/journal/events``: the same entries as server-sent events, as they come (the page
  follows this and polls only to catch up; :mod:`mockserver.serving.inspector_events`).
- ``GET /__mock__/journal/{sequence}``: one entry in full: redacted request headers, query and body
  (a write's, ``request``: null without one), the response status, latency, fault and body.
- ``DELETE /__mock__/journal``: clear the journal (``vendor``, ``tenant`` narrow it).
- ``GET /__mock__/state``: vendors, endpoints, live and emulator URLs, test credentials, options (all
  assumptions, with their text) and documented parameters, active faults, active drifts (those of
  ``serve --drift`` with ``"standing": true``), tenants with record counts.
- ``DELETE /__mock__/faults/{id}``: remove one fault rule (ids are unique across vendors).
- ``GET /__mock__/drifts``: every vendor's drift catalogue (each drift with its parameters, and per
  endpoint their defaults and choices) and the active drifts; ``vendor`` narrows it. A drift is switched
  on through the admin API (``POST /__mock__/{vendor}/drifts``), as a fault is.
- ``DELETE /__mock__/drifts/{id}``: switch one drift rule off; ``DELETE /__mock__/drifts`` (``vendor``,
  ``tenant`` narrow it): every drift rule the caller may switch off (those for every tenant only with
  the right to global operations; the others are listed as ``kept``). Standing drifts stay on.

Every change runs in a thread (:class:`~mockserver.serving.admin.OffLoop`), as the admin API's do.

Nothing here runs on the vendor request path: with the page closed, nothing polls and nothing listens.
Which tenants a caller may see is decided in one place, :func:`visible_tenants`.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable
from importlib import resources
from typing import Any

import orjson
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from mockserver.engine.emulator import Emulator, emulator_version
from mockserver.engine.vendor_app import VendorApp
from mockserver.kinds.auth import Denied
from mockserver.serving.admin import AdminError, Handler, OffLoop, checked
from mockserver.serving.admin_scope import (
    ALL_TENANTS,
    Caller,
    require_global,
    require_tenant,
    test_tenant,
    token_ok,
)
from mockserver.serving.inspector_events import JournalEvents
from mockserver.serving.inspector_page import UI_PATH, render_page, vendor_state
from mockserver.state.faults import FaultRule
from mockserver.state.journal import JournalEntry

STATIC_FILES = {"inspector.js": "text/javascript", "inspector.css": "text/css"}
DEFAULT_LIMIT, MAX_LIMIT = 200, 1000
# Everything the page loads comes from this emulator: the browser itself refuses anything else.
PAGE_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
PAGE_HEADERS = {
    "content-security-policy": PAGE_POLICY,
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "cache-control": "no-store",
}

TenantScope = frozenset[tuple[str, str | None]] | None
"""The (vendor, tenant) pairs a caller may see; None means every tenant (an admin)."""


def visible_tenants(request: Request, emulator: Emulator) -> TenantScope:
    """Which tenants the caller of ``request`` may see: the one place that decides it.

    The rules are :mod:`mockserver.serving.admin_scope`'s: the admin token sees every tenant; a caller that
    sends vendor credentials (the vendor's own headers) sees the tenants those credentials authenticate as, of
    those vendors only; a caller without credentials acts as each vendor's test-key tenant. Reading every
    tenant is a global operation, open (as before) only while the server has no tenants of its own.
    Credentials that authenticate for no vendor are a 401.
    """
    headers = request.headers
    if token_ok(emulator, headers):
        return None
    presented = False
    own: set[tuple[str, str | None]] = set()
    for vendor_id, app in emulator.apps.items():
        if app.tenancy.authenticator.header not in headers:
            continue
        presented = True
        who = app.tenancy.authenticator.authenticate(headers)
        if not isinstance(who, Denied):
            own.add((vendor_id, who.tenant))
    if presented and not own:
        raise AdminError(
            401, "invalid_credentials", "the credentials sent with this request are not accepted"
        )
    if own:
        return frozenset(own)
    if not emulator.has_tenants:
        return None
    return frozenset((vendor_id, test_tenant(app)) for vendor_id, app in emulator.apps.items())


def _caller(request: Request, emulator: Emulator) -> Caller:
    return Caller(token_ok(emulator, request.headers), None)


def _asked_tenant(request: Request, emulator: Emulator, scope: TenantScope, what: str) -> TenantScope:
    """The scope narrowed by ``?tenant=``: ``*`` is every tenant (a global operation); another tenant
    must be one the caller may see (else 403, as in the per-vendor admin API)."""
    asked = request.query_params.get("tenant") or None
    if asked is None:
        return scope
    if asked == ALL_TENANTS:
        require_global(emulator, _caller(request, emulator), what)
        return None
    if scope is not None and not any(tenant == asked for _, tenant in scope):
        require_tenant(_caller(request, emulator), asked)  # raises: not the caller's tenant
    pairs = {(vendor_id, asked) for vendor_id in emulator.apps}
    return frozenset(pairs if scope is None else pairs & scope)


def _may_act_globally(request: Request, emulator: Emulator) -> bool:
    """Whether the caller may do a global operation (the admin token, or a server without tenants)."""
    return token_ok(emulator, request.headers) or not emulator.has_tenants


def _sees(scope: TenantScope, vendor: str, tenant: str | None) -> bool:
    return scope is None or (vendor, tenant) in scope


def _rule_visible(scope: TenantScope, vendor: str, rule: FaultRule) -> bool:
    """A rule for every tenant is seen by every caller; a tenant's, by those who may see that tenant."""
    return scope is None or rule.tenant is None or _sees(scope, vendor, rule.tenant)


def _static(name: str) -> bytes:
    return (resources.files(__package__ or "mockserver") / "static" / name).read_bytes()


# ---------------------------------------------------------------------------------------------- JSON


def _summary(entry: JournalEntry) -> dict[str, Any]:
    return {
        "sequence": entry.sequence,
        "at": entry.at,
        "vendor": entry.vendor,
        "tenant": entry.tenant,
        "method": entry.method,
        "path": entry.path,
        "query": [list(pair) for pair in entry.query],
        "status": entry.status,
        "latency_ms": entry.latency_ms,
        "fault": entry.fault,
        "drifts": list(entry.drifts),
    }


def _full(entry: JournalEntry, content_type: str) -> dict[str, Any]:
    body: Any
    try:
        body, text = orjson.loads(entry.response), None
    except orjson.JSONDecodeError:
        body, text = None, entry.response.decode("utf-8", "replace")
    return {
        **_summary(entry),
        "headers": [list(pair) for pair in entry.headers],
        "request": _request_body(entry),
        "response": {
            "status": entry.status,
            "content_type": entry.response_type or content_type,
            "body": body,
            "text": text,
            "bytes": len(entry.response),
            "dropped": entry.body_dropped,
            "captured": entry.latency is not None,
        },
    }


def _request_body(entry: JournalEntry) -> dict[str, Any] | None:
    """The request body (a write's), redacted and cut as the journal keeps it; None when it had none."""
    if not entry.request:
        return None
    parsed = entry.json()
    return {
        "body": parsed,
        "text": None if parsed is not None else entry.body,
        "bytes": len(entry.request),
    }


def _status_filter(text: str | None) -> Callable[[int], bool]:
    if not text:
        return lambda status: True
    if len(text) == 3 and text[0] in "12345" and text[1:].lower() == "xx":
        family = int(text[0])
        return lambda status: status // 100 == family
    if text.isdigit() and len(text) == 3:
        wanted = int(text)
        return lambda status: status == wanted
    raise AdminError(400, "invalid_filter", f"status is a status (429) or a class (4xx), got {text!r}")


def _drifted_filter(text: str | None) -> Callable[[JournalEntry], bool]:
    """``drifted=true``: only answers a drift changed; ``false``: only the others; absent: all."""
    if not text:
        return lambda entry: True
    if text.lower() in ("true", "1", "yes"):
        return lambda entry: bool(entry.drifts)
    if text.lower() in ("false", "0", "no"):
        return lambda entry: not entry.drifts
    raise AdminError(400, "invalid_filter", f"drifted is true or false, got {text[:40]!r}")


def _drift_row(vendor: str, rule: FaultRule, *, standing: bool = False) -> dict[str, Any]:
    """One active drift as the page lists it (a standing one, of ``serve --drift``, has no id)."""
    return {"vendor": vendor, **rule.as_dict(), **({"id": None} if standing else {}), "standing": standing}


def _whole(name: str, text: str | None, default: int, low: int, high: int) -> int:
    if text is None:
        return default
    if not text.isdigit() or not low <= int(text) <= high:
        raise AdminError(400, "invalid_filter", f"{name} is a whole number from {low} to {high}")
    return int(text)


def _tenants(app: VendorApp, journaled: set[tuple[str, str | None]]) -> list[str]:
    """Every tenant of a vendor the emulator knows of: test credentials, seeded data, requests seen."""
    found = app.tenancy.authenticator.tenants()
    found += [tenant for tenant, _ in app.datasets.tenants()]
    found += [tenant for vendor, tenant in journaled if vendor == app.spec.id and tenant]
    return list(dict.fromkeys(found))


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/")


class Inspector:
    """The page and its JSON endpoints, for one emulator."""

    def __init__(self, emulator: Emulator) -> None:
        self.emulator = emulator
        self.assets = {name: _static(name) for name in STATIC_FILES}
        self.versions = {name: hashlib.sha256(data).hexdigest()[:12] for name, data in self.assets.items()}
        limits = emulator.config.limits
        self.events = JournalEvents(
            emulator.journal,
            _summary,
            max_subscribers=limits.max_event_streams,
            subscriber_bytes=limits.event_stream_bytes,
            total_bytes=limits.event_streams_bytes,
        )
        emulator.stopping.append(self.events.close_all)
        self.off_loop = OffLoop()  # changes run in threads, as the admin API's (its own bound of calls)
        self._catalogue: dict[str, list[dict[str, Any]]] | None = None

    def _app(self, vendor_id: str | None) -> VendorApp | None:
        if vendor_id is None or vendor_id == "":
            return None
        if vendor_id not in self.emulator.apps:
            known = sorted(self.emulator.apps)
            raise AdminError(404, "unknown_vendor", f"no vendor {vendor_id!r}; known: {known}")
        return self.emulator.apps[vendor_id]

    async def journal(self, request: Request) -> Response:
        self.emulator.journal.watch()
        query = request.query_params
        app = self._app(query.get("vendor"))
        vendor = app.spec.id if app is not None else None
        seen = visible_tenants(request, self.emulator)
        if request.method == "DELETE":
            if not query.get("tenant"):  # every tenant's requests: a global operation
                require_global(self.emulator, _caller(request, self.emulator), "clearing every journal")
                seen = None
            scope = _asked_tenant(request, self.emulator, seen, "clearing every journal")
            for owner, who in self.emulator.journal.tenants():
                if vendor in (None, owner) and _sees(scope, owner, who):
                    self.emulator.journal.clear(owner, who)
            return JSONResponse({"cleared": True})
        scope = _asked_tenant(request, self.emulator, seen, "reading every journal")
        status = _status_filter(query.get("status"))
        drifted = _drifted_filter(query.get("drifted"))
        since = _whole("since", query.get("since"), 0, 0, 2**63)
        limit = _whole("limit", query.get("limit"), DEFAULT_LIMIT, 1, MAX_LIMIT)
        selected = [
            entry
            for entry in self.emulator.journal.entries(vendor)
            if entry.sequence > since
            and status(entry.status)
            and drifted(entry)
            and _sees(scope, entry.vendor, entry.tenant)
        ]
        newest = selected[::-1][:limit]
        return JSONResponse(
            {
                "entries": [_summary(entry) for entry in newest],
                "latest": self.emulator.journal.latest(),
                "matched": len(selected),
            }
        )

    async def journal_events(self, request: Request) -> Response:
        """New entries as server-sent events, filtered as ``GET /__mock__/journal`` filters them."""
        query = request.query_params
        app = self._app(query.get("vendor"))
        vendor = app.spec.id if app is not None else None
        scope = _asked_tenant(
            request, self.emulator, visible_tenants(request, self.emulator), "every journal"
        )
        status = _status_filter(query.get("status"))
        drifted = _drifted_filter(query.get("drifted"))

        def matches(entry: JournalEntry) -> bool:
            return (
                vendor in (None, entry.vendor)
                and status(entry.status)
                and drifted(entry)
                and _sees(scope, entry.vendor, entry.tenant)
            )

        return self.events.response(request, matches)

    async def entry(self, request: Request) -> Response:
        text = request.path_params["sequence"]
        sequence = _whole("sequence", text, 0, 1, 2**63)
        found = self.emulator.journal.find(sequence)
        if found is None or not _sees(visible_tenants(request, self.emulator), found.vendor, found.tenant):
            raise AdminError(404, "unknown_entry", f"no journal entry {sequence} (old entries fall off)")
        app = self.emulator.apps.get(found.vendor)
        return JSONResponse(_full(found, app.content_type if app is not None else "application/json"))

    async def state(self, request: Request) -> Response:
        self.emulator.journal.watch()
        scope = visible_tenants(request, self.emulator)
        base = _base(request)
        faults: list[dict[str, Any]] = []
        tenants: list[dict[str, Any]] = []
        # one read of the journal for every vendor (with --state redis each read asks every process)
        requests = Counter((entry.vendor, entry.tenant) for entry in self.emulator.journal.entries())
        journaled = set(requests)
        for vendor_id, app in self.emulator.apps.items():
            faults += [
                {"vendor": vendor_id, **rule.as_dict()}
                for rule in app.faults.rules()
                if rule.drift is None and _rule_visible(scope, vendor_id, rule)
            ]
            for tenant in _tenants(app, journaled):
                if not _sees(scope, vendor_id, tenant):
                    continue
                counts = {name: len(app.datasets.dataset(tenant, name)) for name in app.spec.datasets}
                tenants.append(
                    {
                        "vendor": vendor_id,
                        "tenant": tenant,
                        "records": counts,
                        "own_data": any(owner == tenant for owner, _ in app.datasets.tenants()),
                        "requests": requests[(vendor_id, tenant)],
                    }
                )
        return JSONResponse(
            {
                "name": "vendor-emulator",
                "version": emulator_version(),
                "admin_token_required": self.emulator.config.admin_token is not None,
                "journal_size": self.emulator.config.journal_size,
                "vendors": [vendor_state(spec, base) for spec in self.emulator.vendors.values()],
                "faults": faults,
                "drifts": self._active_drifts(scope, None),
                "tenants": tenants,
            }
        )

    async def remove_fault(self, request: Request) -> Response:
        rule_id = _whole("id", request.path_params["id"], 0, 1, 2**63)
        scope = visible_tenants(request, self.emulator)
        for app in self.emulator.apps.values():
            for rule in app.faults.rules():
                if rule.id != rule_id:
                    continue
                if rule.tenant is None:  # a fault for every tenant: removing it is a global operation
                    require_global(self.emulator, _caller(request, self.emulator), "a fault for every tenant")
                elif not _sees(scope, app.spec.id, rule.tenant):
                    break  # another tenant's rule: as if there were none
                await self.off_loop.run(app.faults.remove, rule_id)
                return JSONResponse({"removed": rule_id, "vendor": app.spec.id})
        raise AdminError(404, "unknown_fault", f"no active fault {rule_id}")

    # ------------------------------------------------------------------------------------------ drifts

    def _active_drifts(self, scope: TenantScope, vendor: str | None) -> list[dict[str, Any]]:
        """The drifts on that the caller may see: the standing ones (every tenant's), then the rules."""
        found: list[dict[str, Any]] = []
        for vendor_id, app in self.emulator.apps.items():
            if vendor not in (None, vendor_id):
                continue
            found += [_drift_row(vendor_id, rule, standing=True) for rule in app.standing_drifts]
            found += [
                _drift_row(vendor_id, rule)
                for rule in app.faults.rules()
                if rule.drift is not None and _rule_visible(scope, vendor_id, rule)
            ]
        return found

    def _build_catalogue(self) -> dict[str, list[dict[str, Any]]]:
        return {vendor_id: app.drifts.describe() for vendor_id, app in self.emulator.apps.items()}

    async def drifts(self, request: Request) -> Response:
        """``GET``: the catalogue and the active drifts; ``DELETE``: switch off every drift rule the caller
        may (``vendor``, ``tenant`` narrow it)."""
        app = self._app(request.query_params.get("vendor"))
        vendor = app.spec.id if app is not None else None
        scope = visible_tenants(request, self.emulator)
        if request.method == "DELETE":
            return await self._drifts_off(request, vendor, scope)
        if self._catalogue is None:  # derived from the declarations once (about 10 ms for four vendors)
            self._catalogue = await run_in_threadpool(self._build_catalogue)
        catalogue = self._catalogue if vendor is None else {vendor: self._catalogue[vendor]}
        return JSONResponse({"catalogue": catalogue, "drifts": self._active_drifts(scope, vendor)})

    async def _drifts_off(self, request: Request, vendor: str | None, seen: TenantScope) -> Response:
        asked = request.query_params.get("tenant") or None
        scope = _asked_tenant(request, self.emulator, seen, "every tenant's drifts")
        may_all = _may_act_globally(request, self.emulator)
        chosen: list[tuple[VendorApp, int]] = []
        kept: list[int] = []
        for vendor_id, app in self.emulator.apps.items():
            for rule in app.faults.rules() if vendor in (None, vendor_id) else ():
                if rule.drift is None or not _rule_visible(scope, vendor_id, rule):
                    continue
                if asked not in (None, ALL_TENANTS) and rule.tenant != asked:
                    continue  # one tenant's drifts: not those for every tenant
                if rule.tenant is None and not may_all:
                    kept.append(rule.id)  # for every tenant: a global operation this caller may not do
                else:
                    chosen.append((app, rule.id))

        def switch_off() -> list[int]:
            return [rule_id for app, rule_id in chosen if app.faults.remove(rule_id)]

        removed = await self.off_loop.run(switch_off) if chosen else []
        return JSONResponse({"removed": removed, "kept": kept})

    async def remove_drift(self, request: Request) -> Response:
        """Switch one drift rule off (a fault's id, or a standing drift, is not one)."""
        rule_id = _whole("id", request.path_params["id"], 0, 1, 2**63)
        scope = visible_tenants(request, self.emulator)
        for app in self.emulator.apps.values():
            rule = next((rule for rule in app.faults.rules() if rule.id == rule_id), None)
            if rule is None or rule.drift is None or not _rule_visible(scope, app.spec.id, rule):
                continue  # another tenant's rule: as if there were none
            if rule.tenant is None:  # a drift for every tenant: switching it off is a global operation
                require_global(self.emulator, _caller(request, self.emulator), "a drift for every tenant")
            await self.off_loop.run(app.faults.remove, rule_id)
            return JSONResponse({"removed": rule_id, "vendor": app.spec.id, "drift": rule.drift})
        raise AdminError(404, "unknown_drift", f"no active drift rule {rule_id}")

    # ------------------------------------------------------------------------------------------ page

    async def page(self, request: Request) -> Response:
        base = _base(request)
        body = render_page(self.emulator, base, self.versions)
        return Response(body, media_type="text/html; charset=utf-8", headers=PAGE_HEADERS)

    async def asset(self, request: Request) -> Response:
        name = request.path_params["name"]
        if name not in self.assets:
            return JSONResponse({"error": "not_found", "message": f"no inspector file {name!r}"}, 404)
        return Response(
            self.assets[name],
            media_type=STATIC_FILES[name],
            headers={"cache-control": "max-age=3600", "x-content-type-options": "nosniff"},
        )

    def routes(self) -> list[Route]:
        """The page and its files (no token: they hold only the declarations), and the JSON behind it."""
        guarded: list[tuple[str, Handler, list[str]]] = [
            ("/__mock__/journal", self.journal, ["GET", "DELETE"]),
            ("/__mock__/journal/events", self.journal_events, ["GET"]),
            ("/__mock__/journal/{sequence}", self.entry, ["GET"]),
            ("/__mock__/state", self.state, ["GET"]),
            ("/__mock__/faults/{id}", self.remove_fault, ["DELETE"]),
            ("/__mock__/drifts", self.drifts, ["GET", "DELETE"]),
            ("/__mock__/drifts/{id}", self.remove_drift, ["DELETE"]),
        ]
        return [
            Route(UI_PATH, self.page, methods=["GET"]),
            Route(UI_PATH + "/", self.page, methods=["GET"]),
            Route(UI_PATH + "/static/{name}", self.asset, methods=["GET"]),
            *(Route(path, checked(self.emulator, handler), methods=m) for path, handler, m in guarded),
        ]


def inspector_routes(emulator: Emulator) -> list[Route]:
    """The inspector's routes for one emulator."""
    return Inspector(emulator).routes()
