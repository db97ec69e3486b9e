"""The inspector: a page at ``/__mock__/ui`` to look at a running emulator, and the JSON it reads.

The page is rendered here, server-side, from the declarations (vendors, endpoints, URLs, test
credentials, options); a small script (``static/inspector.js``, no framework, nothing from the internet)
polls the JSON endpoints below for the journal, faults and tenants, and changes state through the same
admin API as any other caller: the admin token header when one is set, same-origin, JSON bodies.

JSON endpoints (behind the admin token, like the rest of ``/__mock__/``):

- ``GET /__mock__/journal``: the request journal, newest first; ``vendor``, ``tenant``, ``status``
  (``429`` or ``4xx``) filter it, ``since=<sequence>`` returns only newer entries (the page polls this),
  ``limit`` caps the answer (default 200, at most 1000).
- ``GET /__mock__/journal/{sequence}``: one entry in full: redacted request headers and query, the
  response status, latency, fault and body.
- ``DELETE /__mock__/journal``: clear the journal (``vendor``, ``tenant`` narrow it).
- ``GET /__mock__/state``: vendors, endpoints, live and emulator URLs, test credentials, options (all
  assumptions, with their text) and documented parameters, active faults, tenants with record counts.
- ``DELETE /__mock__/faults/{id}``: remove one fault rule (ids are unique across vendors).

Nothing here runs on the vendor request path: with the page closed, nothing polls and nothing listens.
Which tenants a caller may see is decided in one place, :func:`visible_tenants`.
"""

from __future__ import annotations

import hashlib
import html
import shlex
from collections.abc import Callable
from importlib import resources
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from mockserver.admin import AdminError, Handler, checked
from mockserver.emulator import Emulator, credential_headers, emulator_version
from mockserver.journal import JournalEntry
from mockserver.vendor import VendorSpec
from mockserver.vendor_app import VendorApp

UI_PATH = "/__mock__/ui"
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

    Today every caller that passed the admin-token check is an admin and sees everything. A
    tenant-scoped admin API answers the caller's own (vendor, tenant) pairs here, and every endpoint of
    this module follows.
    """
    return None


def _sees(scope: TenantScope, vendor: str, tenant: str | None) -> bool:
    return scope is None or (vendor, tenant) in scope


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


def _whole(name: str, text: str | None, default: int, low: int, high: int) -> int:
    if text is None:
        return default
    if not text.isdigit() or not low <= int(text) <= high:
        raise AdminError(400, "invalid_filter", f"{name} is a whole number from {low} to {high}")
    return int(text)


def _tenants(app: VendorApp, emulator: Emulator) -> list[str]:
    """Every tenant of a vendor the emulator knows of: test credentials, seeded data, requests seen."""
    found = app.authenticator.tenants()
    found += [tenant for tenant, _ in app.state.tenants()]
    found += [tenant for vendor, tenant in emulator.journal.tenants() if vendor == app.spec.id and tenant]
    return list(dict.fromkeys(found))


def _documented_parameters(spec: VendorSpec) -> list[dict[str, Any]]:
    return [
        {
            "endpoint": endpoint.path,
            "name": name,
            "type": param.type,
            "enum": list(param.enum) if param.enum else None,
            "basis": "documented",
            "doc": endpoint.docs or spec.docs,
        }
        for endpoint in spec.endpoints
        for name, param in endpoint.params.items()
    ]


def curl(url: str, headers: dict[str, str]) -> str:
    """A copyable ``curl`` command for one endpoint with one credential."""
    parts = ["curl", "-sS", *(f"-H {shlex.quote(f'{name}: {value}')}" for name, value in headers.items())]
    return " ".join([*parts, shlex.quote(url)])


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def vendor_state(spec: VendorSpec, base: str) -> dict[str, Any]:
    """What the page shows of one vendor's declaration."""
    credentials = credential_headers(spec)
    return {
        "id": spec.id,
        "title": spec.title,
        "docs": spec.docs,
        "live_base_url": spec.live_base_url,
        "emulator_url": f"{base}/{spec.id}",
        "test_credentials": credentials,
        "endpoints": [
            {
                "method": "GET",
                "path": endpoint.path,
                "summary": endpoint.summary,
                "docs": endpoint.docs,
                "live_url": spec.live_base_url.rstrip("/") + endpoint.path,
                "emulator_url": f"{base}/{spec.id}{endpoint.path}",
                "curl": curl(f"{base}/{spec.id}{endpoint.path}", credentials[0] if credentials else {}),
            }
            for endpoint in spec.endpoints
        ],
        "options": [
            {
                "name": option.name,
                "value": option.value,
                "default": option.default,
                "choices": list(option.choices) if option.choices is not None else None,
                "changed": option.value != option.default,
                "basis": "assumption",
                "text": option.assumption,
            }
            for option in spec.options
        ],
        "documented": _documented_parameters(spec),
    }


class Inspector:
    """The page and its JSON endpoints, for one emulator."""

    def __init__(self, emulator: Emulator) -> None:
        self.emulator = emulator
        self.assets = {name: _static(name) for name in STATIC_FILES}
        self.versions = {name: hashlib.sha256(data).hexdigest()[:12] for name, data in self.assets.items()}

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
        tenant = query.get("tenant") or None
        scope = visible_tenants(request, self.emulator)
        if request.method == "DELETE":
            pairs = self.emulator.journal.tenants()
            for owner, who in pairs:
                if (vendor in (None, owner)) and (tenant in (None, who)) and _sees(scope, owner, who):
                    self.emulator.journal.clear(owner, who)
            return JSONResponse({"cleared": True})
        status = _status_filter(query.get("status"))
        since = _whole("since", query.get("since"), 0, 0, 2**63)
        limit = _whole("limit", query.get("limit"), DEFAULT_LIMIT, 1, MAX_LIMIT)
        selected = [
            entry
            for entry in self.emulator.journal.entries(vendor, tenant)
            if entry.sequence > since and status(entry.status) and _sees(scope, entry.vendor, entry.tenant)
        ]
        newest = selected[::-1][:limit]
        return JSONResponse(
            {
                "entries": [_summary(entry) for entry in newest],
                "latest": self.emulator.journal.latest(),
                "matched": len(selected),
            }
        )

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
        faults, tenants = [], []
        for vendor_id, app in self.emulator.apps.items():
            faults += [
                {"vendor": vendor_id, **rule.as_dict()}
                for rule in app.faults.rules()
                if scope is None or rule.tenant is None or _sees(scope, vendor_id, rule.tenant)
            ]
            for tenant in _tenants(app, self.emulator):
                if not _sees(scope, vendor_id, tenant):
                    continue
                counts = {name: len(app.state.dataset(tenant, name)) for name in app.spec.datasets}
                tenants.append(
                    {
                        "vendor": vendor_id,
                        "tenant": tenant,
                        "records": counts,
                        "own_data": any(owner == tenant for owner, _ in app.state.tenants()),
                        "requests": len(self.emulator.journal.entries(vendor_id, tenant)),
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
                "tenants": tenants,
            }
        )

    async def remove_fault(self, request: Request) -> Response:
        rule_id = _whole("id", request.path_params["id"], 0, 1, 2**63)
        scope = visible_tenants(request, self.emulator)
        for app in self.emulator.apps.values():
            for rule in app.faults.rules():
                if rule.id == rule_id and (scope is None or _sees(scope, app.spec.id, rule.tenant)):
                    app.faults.remove(rule_id)
                    return JSONResponse({"removed": rule_id, "vendor": app.spec.id})
        raise AdminError(404, "unknown_fault", f"no active fault {rule_id}")

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
            ("/__mock__/journal/{sequence}", self.entry, ["GET"]),
            ("/__mock__/state", self.state, ["GET"]),
            ("/__mock__/faults/{id}", self.remove_fault, ["DELETE"]),
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


# ---------------------------------------------------------------------------------------------- HTML


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _json_text(value: Any) -> str:
    return orjson.dumps(value).decode()


def _vendor_section(vendor: dict[str, Any]) -> str:
    rows = "".join(
        f"<tr><td><code>{_e(e['method'])}</code></td><td><code>{_e(e['path'])}</code>"
        f"<div class='muted'>{_e(e['summary'])}</div></td>"
        f"<td><a href='{_e(e['docs'])}' rel='noreferrer'>docs</a></td>"
        f"<td class='curl'><code id='curl-{_e(vendor['id'])}-{i}'>{_e(e['curl'])}</code>"
        f"<button type='button' class='copy' data-copy='curl-{_e(vendor['id'])}-{i}'>Copy</button></td></tr>"
        for i, e in enumerate(vendor["endpoints"])
    )
    credentials = "".join(
        "<li>" + " ".join(f"<code>{_e(k)}: {_e(v)}</code>" for k, v in headers.items()) + "</li>"
        for headers in vendor["test_credentials"]
    )
    return (
        f"<article class='vendor' data-vendor='{_e(vendor['id'])}'>"
        f"<h3>{_e(vendor['title'])} <span class='muted'>({_e(vendor['id'])})</span></h3>"
        "<dl class='urls'>"
        f"<dt>Emulator</dt><dd><code>{_e(vendor['emulator_url'])}</code></dd>"
        f"<dt>Live</dt><dd><code>{_e(vendor['live_base_url'])}</code></dd>"
        f"<dt>Docs</dt><dd><a href='{_e(vendor['docs'])}' rel='noreferrer'>{_e(vendor['docs'])}</a></dd>"
        f"<dt>Test credentials</dt><dd><ul class='plain'>{credentials}</ul></dd></dl>"
        "<div class='scroll'><table><caption class='visually-hidden'>Endpoints</caption>"
        "<thead><tr><th scope='col'>Method</th><th scope='col'>Path</th><th scope='col'>Docs</th>"
        f"<th scope='col'>curl</th></tr></thead><tbody>{rows}</tbody></table></div></article>"
    )


def _options_section(vendor: dict[str, Any]) -> str:
    options = "".join(
        f"<tr><td><code>{_e(o['name'])}</code></td><td><code>{_e(_json_text(o['value']))}</code>"
        + (" <span class='badge changed'>changed</span>" if o["changed"] else "")
        + f"</td><td><span class='badge assumption'>assumption</span></td><td>{_e(o['text'])}</td></tr>"
        for o in vendor["options"]
    )
    documented = "".join(
        f"<tr><td><code>{_e(p['name'])}</code> <span class='muted'>{_e(p['endpoint'])}</span></td>"
        f"<td><code>{_e(p['type'])}</code>"
        + (f" <span class='muted'>{_e(', '.join(map(str, p['enum'])))}</span>" if p["enum"] else "")
        + "</td><td><span class='badge documented'>documented</span></td>"
        f"<td><a href='{_e(p['doc'])}' rel='noreferrer'>vendor docs</a></td></tr>"
        for p in vendor["documented"]
    )
    return (
        f"<h3>{_e(vendor['title'])}</h3><div class='scroll'><table class='options'>"
        f"<caption class='visually-hidden'>{_e(vendor['title'])} options</caption>"
        "<thead><tr><th scope='col'>Name</th><th scope='col'>Value</th><th scope='col'>Basis</th>"
        f"<th scope='col'>Why</th></tr></thead><tbody>{options}{documented}</tbody></table></div>"
    )


def render_page(emulator: Emulator, base: str, versions: dict[str, str]) -> bytes:
    """The inspector page, complete without JavaScript for everything the declarations say."""
    vendors = [vendor_state(spec, base) for spec in emulator.vendors.values()]
    vendor_options = "".join(f"<option value='{_e(v['id'])}'>{_e(v['title'])}</option>" for v in vendors)
    token = emulator.config.admin_token is not None
    token_field = (
        "<label class='token'>Admin token <input id='token' type='password' autocomplete='off'></label>"
        if token
        else ""
    )
    css = f"{UI_PATH}/static/inspector.css?v={versions['inspector.css']}"
    js = f"{UI_PATH}/static/inspector.js?v={versions['inspector.js']}"
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>vendor-emulator inspector</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="{_e(css)}">
</head>
<body data-token-required="{str(token).lower()}">
<a class="skip" href="#journal">Skip to the journal</a>
<header><h1>vendor-emulator <span class="muted">{_e(emulator_version())}</span></h1>
<nav aria-label="Sections"><a href="#vendors">Vendors</a> <a href="#options">Options</a>
<a href="#journal">Journal</a> <a href="#faults">Faults</a> <a href="#tenants">Tenants</a></nav>
<div class="controls">{token_field}
<button type="button" id="reset">Reset all</button>
<button type="button" id="clear-journal">Clear journal</button></div>
<p id="status" role="status" aria-live="polite"></p></header>
<main>
<section id="vendors" aria-labelledby="vendors-h"><h2 id="vendors-h">Vendors</h2>
{"".join(_vendor_section(v) for v in vendors)}</section>
<section id="journal" aria-labelledby="journal-h"><h2 id="journal-h">Journal
<span class="muted" id="journal-count"></span></h2>
<form id="journal-filter" class="filters">
<label>Vendor <select name="vendor"><option value="">all</option>{vendor_options}</select></label>
<label>Tenant <select name="tenant"><option value="">all</option></select></label>
<label>Status <select name="status"><option value="">all</option><option>2xx</option><option>4xx</option>
<option>5xx</option><option>401</option><option>429</option><option>503</option></select></label>
<label><input type="checkbox" name="live" checked> live</label>
</form>
<div class="split"><div class="scroll journal-list"><table id="journal-table">
<caption class="visually-hidden">Requests, newest first</caption>
<thead><tr><th scope="col">#</th><th scope="col">Time</th><th scope="col">Vendor</th>
<th scope="col">Request</th><th scope="col">Status</th><th scope="col">ms</th>
<th scope="col">Tenant</th><th scope="col">Fault</th></tr></thead>
<tbody id="journal-rows"><tr class="empty"><td colspan="8">No requests yet.</td></tr></tbody>
</table></div>
<aside id="detail" aria-labelledby="detail-h" tabindex="-1"><h3 id="detail-h">Request</h3>
<p class="muted">Choose a request to see its redacted headers and the response body.</p></aside>
</div></section>
<section id="faults" aria-labelledby="faults-h"><h2 id="faults-h">Faults</h2>
<div class="scroll"><table><caption class="visually-hidden">Active faults</caption>
<thead><tr><th scope="col">Id</th><th scope="col">Vendor</th><th scope="col">Status</th>
<th scope="col">Delay ms</th><th scope="col">Remaining</th><th scope="col">Path</th>
<th scope="col">Tenant</th>
<th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
<tbody id="fault-rows"><tr class="empty"><td colspan="8">No active faults.</td></tr></tbody></table></div>
<form id="fault-form" class="filters"><fieldset><legend>Add a fault</legend>
<label>Vendor <select name="vendor" required>{vendor_options}</select></label>
<label>Status <input name="status" type="number" min="400" max="599" placeholder="503"></label>
<label>Delay ms <input name="delay" type="number" min="0" max="30000" placeholder="0"></label>
<label>Times <input name="times" type="number" min="1" placeholder="for ever"></label>
<label>Path <input name="path" type="text" placeholder="any"></label>
<label>Tenant <input name="tenant" type="text" placeholder="any"></label>
<button type="submit">Add fault</button></fieldset></form></section>
<section id="tenants" aria-labelledby="tenants-h"><h2 id="tenants-h">Tenants</h2>
<div class="scroll"><table><caption class="visually-hidden">Tenants and their records</caption>
<thead><tr><th scope="col">Vendor</th><th scope="col">Tenant</th><th scope="col">Records</th>
<th scope="col">Own data</th><th scope="col">Requests kept</th></tr></thead>
<tbody id="tenant-rows"></tbody></table></div></section>
<section id="options" aria-labelledby="options-h"><h2 id="options-h">Options</h2>
<p class="muted">Assumptions are choices the vendor's docs leave open (change them with
<code>--option vendor.name=value</code>); documented parameters come from the vendor's docs.</p>
{"".join(_options_section(v) for v in vendors)}</section>
</main>
<script src="{_e(js)}"></script>
</body></html>
"""  # noqa: S608 - HTML, not SQL; every value in it went through _e (html.escape)
    return page.encode()
