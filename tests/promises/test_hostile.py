"""A catalogue of hostile inputs: each gets the vendor's documented 4xx with an actionable message.

The catalogue is derived from each endpoint's declared parameters, so every vendor gets all of it.
Every answer is checked against the OpenAPI response schema of its status; none may be a 5xx.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import httpx
import pytest
from jsonschema import Draft202012Validator

from mockserver import create_app
from mockserver.declarations.model import EndpointSpec, VendorSpec
from mockserver.declarations.served_openapi import response_schema
from mockserver.engine.emulator import credential_headers
from mockserver.intercept.transport import EmulatorTransport
from mockserver.kinds.paging_styles.cursor import CursorPaging
from tests.conftest import data_config

APP = create_app(data_config())
EMULATOR = APP.state.emulator
LONG = "x" * 60_000  # httpx refuses queries above 64 KB; the emulator itself has no limit of its own


@dataclass(frozen=True)
class Hostile:
    """One hostile request: a raw query, extra headers or another method."""

    vendor: str
    path: str
    name: str
    query: bytes = b""
    headers: tuple[tuple[bytes, bytes], ...] = ()
    method: str = "GET"
    body: bytes | None = None
    expected: tuple[int, ...] = field(default=(400, 401, 403, 404, 405, 422))


def _parameter_cases(spec: VendorSpec, endpoint: EndpointSpec) -> Iterator[Hostile]:
    for name, param in endpoint.params.items():
        values: list[tuple[str, bytes]] = [
            ("empty value", b""), ("not UTF-8", b"%FF%FE"), ("array form", b"x"), ("repeated", b"x"),
        ]  # fmt: skip
        if param.type == "integer":
            values += [
                ("negative", b"-1"), ("not a number", b"abc"), ("decimal", b"1.5"), ("huge", b"9" * 40),
                ("unicode digits", b"%D9%A3"), ("exponent", b"1e3"), ("with spaces", b"%201%20"),
            ]  # fmt: skip
            if param.maximum is not None and param.maximum < 2**63 - 1:
                values.append(("over the maximum", str(param.maximum + 1).encode()))
        elif param.enum is not None:
            values += [
                ("unknown value", b"definitely-not-documented"),
                ("wrong case", param.enum[0].upper().encode()),
            ]
        elif param.format == "uuid":
            values += [
                ("not a uuid", b"agent-7"),
                ("uuid without hyphens", b"3c90c3cc0d444b5088888dd25736052a"),
            ]
        elif isinstance(endpoint.paging, CursorPaging) and name == endpoint.paging.settings.cursor_param:
            values += [
                ("garbage cursor", b"garbage"),
                ("truncated cursor", b"eyJpZCI6InBob25f"),
                ("long cursor", LONG.encode()),
            ]
        for label, value in values:
            encoded = name.encode()
            if label == "array form":
                query = encoded + b"%5B%5D=x"
            elif label == "repeated":
                first = param.enum[0].encode() if param.enum else b"1"
                query = encoded + b"=" + first + b"&" + encoded + b"=" + first
            else:
                query = encoded + b"=" + value
            if label in ("wrong case",) and param.enum and param.enum[0].upper() in param.enum:
                continue
            if label == "empty value" and spec.query.empty == "ignore":  # the framework's "not given"
                yield Hostile(spec.id, endpoint.path, f"{name}: {label}", query=query, expected=(200,))
                continue
            yield Hostile(spec.id, endpoint.path, f"{name}: {label}", query=query)


def _request_cases(spec: VendorSpec, endpoint: EndpointSpec) -> Iterator[Hostile]:
    auth = spec.auth.header or "Authorization"
    key = auth.lower().encode()
    yield Hostile(spec.id, endpoint.path, "no credentials", headers=((b"x-none", b"1"),))
    yield Hostile(
        spec.id, endpoint.path, "control characters in the key", headers=((key, b"Bearer abc\x01\x7f"),)
    )
    yield Hostile(spec.id, endpoint.path, "a 64 KB key", headers=((key, b"Bearer " + b"k" * 65_536),))
    yield Hostile(spec.id, endpoint.path, "latin-1 bytes in the key", headers=((key, b"Bearer \xe9\xff"),))
    for method in ("POST", "PUT", "PATCH", "DELETE", "TRACE"):
        yield Hostile(spec.id, endpoint.path, f"method {method}", method=method)
    yield Hostile(spec.id, endpoint.path + "/../etc/passwd", "path traversal")
    yield Hostile(spec.id, endpoint.path.replace("/", "%2F", 2), "encoded slashes")
    noise = b"noise=" + LONG.encode()
    yield Hostile(spec.id, endpoint.path, "a 60 KB query of unknown parameters", query=noise, expected=(200,))
    yield Hostile(spec.id, endpoint.path, "a JSON body on a GET (ignored, as the vendors' frameworks do)",
                  body=b'{"status": "bogus"}', expected=(200,))  # fmt: skip


CASES = [
    case
    for spec in EMULATOR.vendors.values()
    for endpoint in spec.endpoints
    for case in (*_parameter_cases(spec, endpoint), *_request_cases(spec, endpoint))
]


@pytest.fixture(scope="module")
def client() -> Iterator[httpx.Client]:
    with httpx.Client(transport=EmulatorTransport(APP), base_url="http://emulator") as http:
        yield http


def test_the_catalogue_covers_every_parameter_of_every_endpoint() -> None:
    for spec in EMULATOR.vendors.values():
        for endpoint in spec.endpoints:
            cases = [case for case in CASES if (case.vendor, case.path) == (spec.id, endpoint.path)]
            assert set(endpoint.params) <= {case.name.split(":")[0] for case in cases}
            assert len(cases) >= 4 * len(endpoint.params) + 10


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.vendor}{c.path[:24]}:{c.name}")
def test_each_hostile_input_gets_the_vendors_documented_answer(client: httpx.Client, case: Hostile) -> None:
    spec = EMULATOR.vendors[case.vendor]
    headers = dict(credential_headers(spec)[0])
    raw = [(name.lower().encode(), value.encode()) for name, value in headers.items()]
    overridden = {name for name, _ in case.headers}
    sent = [(name, value) for name, value in raw if name not in overridden or name == b"x-none"] + list(
        case.headers
    )
    if any(name == b"x-none" for name, _ in case.headers):
        sent = []
    url = httpx.URL(f"http://emulator/{case.vendor}{case.path}").copy_with(query=case.query)
    response = client.request(case.method, url, headers=sent, content=case.body)
    assert response.status_code in case.expected, response.text[:300]
    assert response.headers["content-type"].startswith("application/json")
    if 400 <= response.status_code < 500:
        body = response.json()
        assert len(response.text) > 20, "a message a developer can act on"
        schema = response_schema(spec.openapi, case.path, response.status_code)
        if schema is not None:
            Draft202012Validator({**schema, "components": spec.openapi["components"]}).validate(body)
