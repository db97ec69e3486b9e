"""Transport, error and auth drifts: bursts of 429/500/502/503 (with or without Retry-After), a 302 to an
HTML login page, a 200 with an HTML body, another media type, latency with jitter, a body cut short;
401 answered as 403, the key read from another header; error bodies of another shape.

They apply to every request of the vendor (the target ``*``), lists and writes alike; an error answer
is rendered from the vendor's own error templates. A monitor finding is replayed from the status or
media type it observed.
"""

from __future__ import annotations

import re
import time
from typing import Any

import orjson

from mockserver.drifts.base import EVERY_PATH, Drift, DriftError, Exchange, Param, Params, Reported, Target
from mockserver.drifts.view import EndpointView, VendorView
from mockserver.kinds.templates import render_tree

MAX_DELAY_SECONDS = 30.0
LOGIN_PAGE = (
    b'<!DOCTYPE html><html><head><title>Sign in</title></head><body><form method="post" action="/login">'
    b'<input name="email"><input name="password" type="password"><button>Sign in</button></form>'
    b"</body></html>"
)
MAINTENANCE_PAGE = (
    b"<!DOCTYPE html><html><head><title>Maintenance</title></head><body><h1>We'll be right back</h1>"
    b"</body></html>"
)
HTML = "text/html; charset=utf-8"
# A header the journal redacts (a subset of mockserver.state.journal.SECRET_NAME, a layer above)
CREDENTIAL_NAME = re.compile(r"auth|key|token", re.IGNORECASE)


def vendor_error(vendor: VendorView, status: int, **variables: Any) -> tuple[bytes, list[tuple[str, str]]]:
    """The vendor's error body and headers for ``status``: its template for that status, or its 500's."""
    errors = vendor.spec.errors
    kind = next((name for name, template in errors.items() if template.status == status), "server_error")
    template = errors[kind]
    values = {
        "retry_after": 60, "limit": 0, "remaining": 0, "reset": int(time.time()) + 60,
        "message": "Simulated drift", "field": "", "method": "GET", "path": "/", "route": "", "header": "",
        "allowed": "GET", **variables,
    }  # fmt: skip
    body = orjson.dumps(render_tree(template.body, values))
    headers = [(name, str(render_tree(value, values))) for name, value in template.headers.items()]
    return body, headers


def _media(finding: Reported) -> str:
    """The media type a ``media-type-changed`` finding observed (its message names it when the observed
    value was not kept: ``... expected application/json, got text/plain; charset=utf-8``)."""
    if isinstance(finding.observed, str):
        return finding.observed.strip().lower()
    _, got, rest = finding.message.rpartition(", got ")
    return rest.strip().lower() if got and "/" in rest else ""


def _every_path(vendor: VendorView, **defaults: Any) -> list[Target]:
    return [Target(EVERY_PATH, defaults)]


class Burst(Drift):
    id = "transport.burst"
    summary = (
        "the vendor answers STATUS (429, 500, 502, 503), with or without Retry-After (times: burst length)"
    )
    kind = "status-unexpected"
    params = (
        Param("status", "integer", "the status answered", choices=(429, 500, 502, 503)),
        Param("retry_after", "integer", "seconds in Retry-After; 0 sends no Retry-After", minimum=0),
    )

    @classmethod
    def targets(cls, vendor: VendorView) -> list[Target]:
        return _every_path(vendor, status=503, retry_after=30)

    @classmethod
    def from_finding(cls, finding: Reported, target: Target, endpoint: EndpointView | None) -> Params | None:
        burst = finding.kind == cls.kind and finding.observed in (429, 500, 502, 503)
        return {"status": finding.observed} if burst else None

    def respond(self, answer: Exchange, params: Params, endpoint: EndpointView | None) -> None:
        """Answer the vendor's error for the burst's status, Retry-After as asked."""
        status, wait = int(params["status"]), int(params["retry_after"])
        body, headers = vendor_error(answer.vendor, status, retry_after=wait or 60)
        kept = [(name, value) for name, value in headers if name.lower() != "retry-after"]
        answer.status = status
        answer.headers = [*kept, *([("Retry-After", str(wait))] if wait else [])]
        answer.set_body(body, None)


class LoginRedirect(Drift):
    id = "transport.login-redirect"
    summary = "the vendor redirects (302) to an HTML login page, as Famulor was seen to do for a bad key"
    kind = "status-unexpected"
    params = (Param("location", "string", "where the redirect points"),)

    @classmethod
    def targets(cls, vendor: VendorView) -> list[Target]:
        return _every_path(vendor, location="/login")

    @classmethod
    def from_finding(cls, finding: Reported, target: Target, endpoint: EndpointView | None) -> Params | None:
        return {} if finding.kind == cls.kind and finding.observed in (301, 302, 303, 307, 308) else None

    def respond(self, answer: Exchange, params: Params, endpoint: EndpointView | None) -> None:
        answer.status = 302
        answer.headers = [("Location", str(params["location"]))]
        answer.set_body(LOGIN_PAGE, HTML)


class HtmlBody(Drift):
    id = "transport.html-body"
    summary = "the vendor answers 200 with an HTML page (a maintenance page, a proxy's error)"
    kind = "media-type-changed"

    @classmethod
    def targets(cls, vendor: VendorView) -> list[Target]:
        return _every_path(vendor)

    @classmethod
    def from_finding(cls, finding: Reported, target: Target, endpoint: EndpointView | None) -> Params | None:
        return {} if finding.kind == cls.kind and _media(finding).startswith("text/html") else None

    def respond(self, answer: Exchange, params: Params, endpoint: EndpointView | None) -> None:
        answer.status = 200
        answer.headers = []
        answer.set_body(MAINTENANCE_PAGE, HTML)


class MediaType(Drift):
    id = "transport.media-type"
    summary = "the same body, sent with another Content-Type"
    kind = "media-type-changed"
    params = (Param("type", "string", "the Content-Type sent"),)

    @classmethod
    def targets(cls, vendor: VendorView) -> list[Target]:
        return _every_path(vendor, type="text/plain; charset=utf-8")

    @classmethod
    def from_finding(cls, finding: Reported, target: Target, endpoint: EndpointView | None) -> Params | None:
        media = _media(finding)
        other = media and not media.startswith("text/html") and "json" not in media
        return {"type": media} if finding.kind == cls.kind and other else None

    def respond(self, answer: Exchange, params: Params, endpoint: EndpointView | None) -> None:
        answer.content_type = str(params["type"])


class Latency(Drift):
    id = "transport.latency"
    summary = "every answer takes MS milliseconds, give or take JITTER_MS"
    kind = None
    invisible = "the contract checks do not time answers"
    params = (
        Param("ms", "integer", "the added latency in milliseconds", minimum=0),
        Param("jitter_ms", "integer", "plus or minus up to this many milliseconds, at random", minimum=0),
    )

    @classmethod
    def targets(cls, vendor: VendorView) -> list[Target]:
        return _every_path(vendor, ms=800, jitter_ms=400)

    def respond(self, answer: Exchange, params: Params, endpoint: EndpointView | None) -> None:
        jitter = int(params["jitter_ms"])
        wait = (int(params["ms"]) + answer.rng.uniform(-jitter, jitter)) / 1000
        answer.delay = min(MAX_DELAY_SECONDS, answer.delay + max(0.0, wait))


class BodyCutShort(Drift):
    id = "transport.body-cut-short"
    summary = "the answer's body stops part-way (Content-Length promises more) and the connection closes"
    kind = None
    invisible = "a cut answer fails the monitor's request itself: it is reported as an error, not a finding"
    params = (Param("fraction", "number", "the part of the body sent, from 0 to 1", minimum=0),)

    @classmethod
    def targets(cls, vendor: VendorView) -> list[Target]:
        return _every_path(vendor, fraction=0.5)

    def respond(self, answer: Exchange, params: Params, endpoint: EndpointView | None) -> None:
        answer.cut = "short"
        answer.cut_at = int(len(answer.finish()) * min(1.0, float(params["fraction"])))


class UnauthorizedIsForbidden(Drift):
    id = "auth.unauthorized-is-forbidden"
    summary = "a missing or invalid key is refused with 403 instead of 401"
    kind = "auth-semantics-changed"
    auth_stage = True

    @classmethod
    def targets(cls, vendor: VendorView) -> list[Target]:
        refusals = ("missing_credentials", "invalid_credentials")
        if any(vendor.spec.errors[name].status == 401 for name in refusals if name in vendor.spec.errors):
            return _every_path(vendor)
        return []

    @classmethod
    def from_finding(cls, finding: Reported, target: Target, endpoint: EndpointView | None) -> Params | None:
        return {} if finding.kind == cls.kind and (finding.expected, finding.observed) == (401, 403) else None

    def refused(self, answer: Exchange, params: Params, vendor: VendorView) -> None:
        if answer.status != 401:
            return
        if "forbidden" in vendor.spec.errors:
            body, headers = vendor_error(vendor, vendor.spec.errors["forbidden"].status)
            answer.set_body(body)
            answer.headers = headers
        answer.status = 403


class HeaderRenamed(Drift):
    id = "auth.header-renamed"
    summary = "the key is read from another header; the documented one is refused as missing"
    kind = "status-unexpected"
    auth_stage = True
    params = (Param("header", "string", "the header the vendor now reads the key from"),)

    @classmethod
    def targets(cls, vendor: VendorView) -> list[Target]:
        renamed = "X-Api-Key" if vendor.auth_header.lower() != "x-api-key" else "X-Api-Token"
        return _every_path(vendor, header=renamed)

    @classmethod
    def from_finding(cls, finding: Reported, target: Target, endpoint: EndpointView | None) -> Params | None:
        # the documented key no longer opens a request that should succeed
        refused = finding.observed == 401 and isinstance(finding.expected, int) and finding.expected < 300
        return {} if finding.kind == cls.kind and refused else None

    @classmethod
    def validate(cls, params: Params) -> None:
        header = params.get("header")
        if header is not None and CREDENTIAL_NAME.search(str(header)) is None:
            raise DriftError(
                f"auth.header-renamed: header {header!r} must name a credential (auth, key or token in it), "
                "so that the journal redacts the key it carries"
            )

    def auth_headers(self, headers: dict[str, str], params: Params, vendor: VendorView) -> dict[str, str]:
        """The headers authentication reads: the key moved from the new header to the documented one."""
        documented, renamed = vendor.auth_header.lower(), str(params["header"]).lower()
        moved = {name: value for name, value in headers.items() if name not in (documented, renamed)}
        if renamed in headers:
            key = headers[renamed]
            moved[documented] = f"Bearer {key}" if vendor.spec.auth.kind == "bearer" else key
        return moved


class ErrorShape(Drift):
    id = "errors.other-shape"
    summary = "error answers keep their status but their body takes another shape (RFC 9457 or JSON:API)"
    kind = "error-shape-changed"
    auth_stage = True
    params = (Param("shape", "string", "the new shape", choices=("problem", "jsonapi")),)

    @classmethod
    def targets(cls, vendor: VendorView) -> list[Target]:
        return _every_path(vendor, shape="problem")

    @classmethod
    def from_finding(cls, finding: Reported, target: Target, endpoint: EndpointView | None) -> Params | None:
        if finding.kind != cls.kind:
            return None
        keys = finding.observed.get("object with keys") if isinstance(finding.observed, dict) else None
        return {"shape": "jsonapi" if isinstance(keys, list) and "errors" in keys else "problem"}

    def respond(self, answer: Exchange, params: Params, endpoint: EndpointView | None) -> None:
        if answer.status < 400:
            return
        title = f"Request failed with status {answer.status}"
        if params["shape"] == "jsonapi":
            shaped: Any = {"errors": [{"status": str(answer.status), "title": title}]}
        else:
            shaped = {"type": "about:blank", "title": title, "status": answer.status}
        answer.set_body(orjson.dumps(shaped))

    def refused(self, answer: Exchange, params: Params, vendor: VendorView) -> None:
        self.respond(answer, params, None)
