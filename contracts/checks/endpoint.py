"""The contract checks of one endpoint, all derived from its declaration (no vendor is named here).

The envelope template says where the items, the total and the paging fields are; the filters, the
order and the paging style say what to ask and what must hold; the error templates and the OpenAPI
responses say what a refused request looks like.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
from jsonschema import Draft202012Validator

from contracts.checks.drift import DriftDetector, json_type, preview
from contracts.checks.findings import Finding, FindingsOf
from contracts.checks.provenance import fix, site
from contracts.targets.client import GuardedClient
from contracts.targets.selection import VendorTarget
from mockserver.data.dataset import field_value
from mockserver.declarations.model import EndpointSpec, VendorSpec
from mockserver.declarations.served_openapi import response_schema
from mockserver.documents.json_types import JsonObject
from mockserver.documents.reading import path_get
from mockserver.kinds.paging import PageSeen, SignalRole, read_signals, signal_paths

INVALID_KEY = "contract-check-invalid-key"
HTML_HINT = "an HTML page (a login page?) instead of JSON"


@dataclass
class EndpointCheck(FindingsOf):
    """Checks one endpoint of one vendor on one target, collecting findings."""

    vendor: VendorSpec
    endpoint: EndpointSpec
    target: VendorTarget
    client: GuardedClient
    detector: DriftDetector
    findings: list[Finding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.vendor_id = self.vendor.id
        self.label = f"GET {self.endpoint.path}"
        self.paths = signal_paths(self.endpoint.envelope)
        self.key = self.vendor.datasets[self.endpoint.dataset].key
        self.doc = self.endpoint.docs or self.vendor.docs
        self._widest: dict[str, Any] | None = None
        self.refused_sizes: list[int] = []
        self.listed_in_walk: int | None = None  # distinct records a complete walk listed (page_size reads it)

    # ------------------------------------------------------------------ plumbing

    def assumption(  # noqa: PLR0917 - what differs, in the order a reader needs it
        self, option: str, ours: Any, observed: Any, what: str, path: str = "", fixable: bool = True
    ) -> None:
        """The target does differently what the docs leave open: info, naming the option and the fix."""
        line = fix(self.vendor, option, observed) if fixable else None
        how = f"; to match: {line}" if line else "; no value of the option matches (not emulated)"
        self.findings.append(
            Finding(
                self.vendor.id,
                self.label,
                "assumption-differs",
                path,
                f"{what}: the emulator assumes {self.vendor.id}.{option}={ours!r}, "
                f"the target does {observed!r}{how}",
                ours,
                observed,
                None,
                provenance="assumption",
                option=f"{self.vendor.id}.{option}",
                fix=line,
            )
        )

    def probe(self, params: Any = None) -> tuple[int, Any]:
        """A request whose answer is observed, not judged: (status, JSON body or None)."""
        response = self.request(params)
        try:
            body = response.json() if "json" in response.headers.get("content-type", "") else None
        except ValueError:
            body = None
        return response.status_code, body

    def request(self, params: Any = None, headers: Mapping[str, str] | None = None) -> httpx.Response:
        """One GET with the target's credentials (or the given headers)."""
        sent = dict(self.target.headers) if headers is None else dict(headers)
        return self.client.get(self.label, self.endpoint.path, params=params, headers=sent)

    def json_body(self, response: httpx.Response, expected_status: int = 200) -> Any:
        """The JSON body, after recording status and media-type drift; None when there is no usable body."""
        if response.status_code != expected_status:
            location = response.headers.get("location")
            where = f" (redirect to {self.client.redactor.text(location)})" if location else ""
            self.add(
                "status-unexpected",
                "",
                f"expected {expected_status}, got {response.status_code}{where}",
                expected_status,
                response.status_code,
            )
            return None
        media = response.headers.get("content-type", "")
        if "json" not in media:
            hint = HTML_HINT if "html" in media else f"{media or 'no content type'}"
            self.add(
                "media-type-changed", "", f"expected application/json, got {hint}", "application/json", media
            )
            return None
        try:
            return response.json()
        except ValueError:
            self.add("media-type-changed", "", "the body is not JSON", "application/json", response.text[:80])
            return None

    def items(self, body: Any) -> list[Any]:
        """The listed items of a body (empty when the envelope has no list where expected)."""
        found = path_get(body, self.paths.get("items"))
        return found if isinstance(found, list) else []

    def widest(self) -> dict[str, Any]:
        """Query parameters for the largest page the endpoint allows (fewer requests per check).

        Where the maximum is our assumption (an option), the target is asked first, and the size halved
        until it is accepted: a vendor with a lower maximum is not drift, and must not fail every check.
        """
        if self._widest is None:
            self._widest = self._find_widest()
        return dict(self._widest)

    def _find_widest(self) -> dict[str, Any]:
        name = self.endpoint.paging.size_param
        if name is None:
            return {}
        spec = self.endpoint.params[name]
        size = min(spec.maximum or 100, 100)
        if site(self.vendor, "param-maximum", name, self.endpoint) is None:
            return {name: size}
        while size >= 1:
            status = self.request({name: size}).status_code
            if not 400 <= status < 500:
                return {name: size}
            self.refused_sizes.append(size)
            self.notes.append(f"{name}={size} was refused with {status}: the assumed maximum is too high")
            size //= 2
        return {}

    # ------------------------------------------------------------------ checks

    def baseline(self) -> Any:
        """The default request: status, media type and schema drift of the body."""
        body = self.json_body(self.request())
        if body is not None:
            for drift in self.detector.compare(self.endpoint.response_schema, body):
                self.add(drift.kind, drift.path, drift.message, drift.expected, drift.observed, drift.doc)
        return body

    def authentication(self) -> None:
        """Missing and invalid credentials get the documented refusals, in the documented shape."""
        invalid = self._invalid_credentials()
        for kind, headers in (("missing_credentials", {}), ("invalid_credentials", invalid)):
            template = self.vendor.errors[kind]
            response = self.request(headers=headers)
            if response.is_success:
                self.add(
                    "auth-semantics-changed",
                    "",
                    f"a request with {kind.replace('_', ' ')} was answered {response.status_code}",
                    template.status,
                    response.status_code,
                )
                continue
            if response.status_code != template.status:
                self.add(
                    "auth-semantics-changed",
                    "",
                    f"{kind.replace('_', ' ')}: expected {template.status}, got {response.status_code}",
                    template.status,
                    response.status_code,
                )
                continue
            self._error_shape(response, kind)

    def _invalid_credentials(self) -> dict[str, str]:
        auth = self.vendor.auth
        if auth.kind == "bearer":
            return {"Authorization": f"Bearer {INVALID_KEY}"}
        headers = {auth.header or "": INVALID_KEY}
        if auth.tenant_header and auth.tenant_header in self.target.headers:
            headers[auth.tenant_header] = self.target.headers[auth.tenant_header]
        return headers

    def _error_shape(self, response: httpx.Response, kind: str) -> None:
        schema = self._response_schema(response.status_code)
        body = self.json_body(response, response.status_code)
        if body is None or schema is None:
            return
        errors = list(
            Draft202012Validator(
                {**schema, "components": self.vendor.openapi.get("components", {})}
            ).iter_errors(body)
        )
        if errors:
            self.add(
                "error-shape-changed",
                "",
                f"{kind.replace('_', ' ')}: the {response.status_code} body no longer matches "
                f"the documented error ({errors[0].message})",
                "documented error body",
                preview(body),
            )

    def _response_schema(self, status: int) -> JsonObject | None:
        return response_schema(self.vendor.openapi, self.endpoint.path, status)

    def filters(self, sample: list[Any]) -> None:
        """Every filter returns only matching items; a filter with a default applies it unasked."""
        for name, value in self.endpoint.where.items():
            for index, item in enumerate(sample):
                if field_value(item, name) != value:
                    self.add(
                        "filter-semantics-changed",
                        f"/{'/'.join(self.paths['items'])}/{index}/{name}",
                        f"this endpoint lists only items with {name}={value!r}",
                        value,
                        field_value(item, name),
                    )
        for declared in self.endpoint.filters:
            for probe in declared.probes(self.endpoint.params[declared.param], sample):
                body = self._filtered(probe.query)
                wrong = [index for index, item in enumerate(self.items(body)) if not probe.matches(item)]
                for index in wrong:
                    self.add(
                        "filter-semantics-changed",
                        f"/{'/'.join(self.paths['items'])}/{index}",
                        f"{probe.label} listed an item that does not match",
                        probe.expected,
                        preview(self.items(body)[index]),
                    )

    def _filtered(self, query: Mapping[str, Any]) -> Any:
        return self.json_body(self.request({**self.widest(), **query})) or {}

    def keys(self, body: Any) -> list[Any]:
        """The key of each listed item (its JSON type when it is not an object)."""
        return [
            item.get(self.key) if isinstance(item, dict) else json_type(item) for item in self.items(body)
        ]

    def signal_name(self, role: SignalRole) -> str | None:
        """The envelope variable that plays ``role`` for this endpoint's paging style, if its envelope
        carries it (None otherwise)."""
        name = self.endpoint.paging.signal(role)
        return name if name is not None and name in self.paths else None

    def signal(self, body: Any, role: SignalRole) -> Any:
        """The value of the signal playing ``role`` in ``body`` (None when the style or envelope has none)."""
        name = self.signal_name(role)
        return None if name is None else path_get(body, self.paths[name])

    def where_is(self, variable: str) -> str:
        """The JSON path of an envelope variable (``/data/pagination/total``)."""
        return "/" + "/".join(self.paths.get(variable, ()))

    def seen(self, query: Mapping[str, Any], response: httpx.Response, body: Any) -> PageSeen:
        """A page as its paging style reads it: the query, the items listed, the signals and headers."""
        headers = {name.lower(): value for name, value in response.headers.items()}
        return PageSeen(query, len(self.items(body)), read_signals(self.endpoint.envelope, body), headers)
