"""The inspector's page, rendered server-side: what the declarations say, complete without JavaScript.

Every value goes through :func:`html.escape`; the page loads only its own two files (``static/``), and
:mod:`mockserver.serving.inspector` serves it with a policy that forbids anything else.
"""

from __future__ import annotations

import html
import shlex
from typing import Any

import orjson

from mockserver.declarations.model import VendorSpec
from mockserver.engine.emulator import Emulator, credential_headers, emulator_version

UI_PATH = "/__mock__/ui"


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
<a href="#journal">Journal</a> <a href="#faults">Faults</a> <a href="#drifts">Drifts</a>
<a href="#tenants">Tenants</a></nav>
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
<label><input type="checkbox" name="drifted" value="true"> drifted only</label>
<label><input type="checkbox" name="live" checked> live</label>
</form>
<div class="split"><div class="scroll journal-list"><table id="journal-table">
<caption class="visually-hidden">Requests, newest first</caption>
<thead><tr><th scope="col">#</th><th scope="col">Time</th><th scope="col">Vendor</th>
<th scope="col">Request</th><th scope="col">Status</th><th scope="col">ms</th>
<th scope="col">Tenant</th><th scope="col">Fault</th><th scope="col">Drifts</th></tr></thead>
<tbody id="journal-rows"><tr class="empty"><td colspan="9">No requests yet.</td></tr></tbody>
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
<label>Tenant <input name="tenant" type="text" placeholder="yours; * for every tenant"></label>
<button type="submit">Add fault</button></fieldset></form></section>
<section id="drifts" aria-labelledby="drifts-h"><h2 id="drifts-h">Drifts</h2>
<p class="muted">A drift serves a change the vendor might make (docs/drifts.md); answers it changed are
marked in the journal. Standing drifts come from <code>serve --drift</code> and stay on.</p>
<div class="scroll"><table><caption class="visually-hidden">Active drifts</caption>
<thead><tr><th scope="col">Id</th><th scope="col">Vendor</th><th scope="col">Drift</th>
<th scope="col">Parameters</th><th scope="col">Endpoint</th><th scope="col">Remaining</th>
<th scope="col">Probability</th><th scope="col">Tenant</th>
<th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
<tbody id="drift-rows"><tr class="empty"><td colspan="9">No active drifts.</td></tr></tbody></table></div>
<p><button type="button" id="drifts-off">Switch all off</button></p>
<form id="drift-form" class="filters"><fieldset><legend>Switch a drift on</legend>
<label>Vendor <select name="vendor" required>{vendor_options}</select></label>
<label>Drift <select name="drift" required></select></label>
<label>Endpoint <select name="endpoint"><option value="">every one it applies to</option></select></label>
<span id="drift-params" class="params"></span>
<label>Times <input name="times" type="number" min="1" placeholder="for ever"></label>
<label>Probability <input name="probability" type="number" min="0.01" max="1" step="0.01"
placeholder="1"></label>
<label>Tenant <input name="tenant" type="text" placeholder="yours; * for every tenant"></label>
<button type="submit">Switch on</button>
<p id="drift-about" class="muted"></p></fieldset></form></section>
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
