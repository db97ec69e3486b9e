"""``python -m mockserver new <id>``: a new vendor's skeleton, served and tested as soon as it is written.

The skeleton is a working vendor of its own: one list endpoint (``GET /v1/numbers``), an API key in a
header, page/size paging, two enum filters, a sort parameter, ids shaped ``num_0000``, and a fixture
recipe. ``python -m mockserver fixtures`` writes its fixtures and ``make test`` covers it at once; then
edit each file to what the vendor documents (CONTRIBUTING.md walks through it).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from mockserver.errors import ConfigurationError

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
VENDOR_ID = re.compile(r"^[a-z0-9][a-z0-9-]*$")
ERROR_STATUSES = {
    "missing_credentials": 401,
    "invalid_credentials": 401,
    "invalid_parameter": 400,
    "not_found": 404,
    "method_not_allowed": 405,
    "rate_limited": 429,
    "server_error": 500,
    "unavailable": 503,
    "uri_too_long": 414,  # the four below are answered by serve's HTTP layer (docs/hardening.md)
    "header_too_large": 431,
    "misdirected": 421,
    "cross_origin": 403,
}


def _title(vendor_id: str) -> str:
    return " ".join(word.capitalize() for word in vendor_id.split("-"))


def _variable(vendor_id: str, name: str) -> str:
    return f"{vendor_id.upper().replace('-', '_')}_{name}"


def _error(kind: str, status: int) -> dict[str, Any]:
    message = "${message}" if kind == "invalid_parameter" else kind.replace("_", " ")
    error: dict[str, Any] = {"status": status, "body": {"error": {"code": kind, "message": message}}}
    if kind == "rate_limited":
        error["headers"] = {"Retry-After": "${retry_after}"}
    return error


def _parameter(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "description": description, "schema": schema}


def _parameters() -> list[dict[str, Any]]:
    return [
        _parameter(
            "status", {"type": "string", "enum": ["active", "inactive"]}, "Only numbers in this status."
        ),
        _parameter("region", {"type": "string", "enum": ["eu", "us"]}, "Only numbers in this region."),
        _parameter(
            "sort", {"type": "string", "enum": ["newest", "number"], "default": "newest"}, "Sort order."
        ),
        _parameter(
            "page", {"type": "integer", "minimum": 1, "maximum": 100000, "default": 1}, "Page, from 1."
        ),
        _parameter(
            "per_page", {"type": "integer", "minimum": 1, "maximum": 100, "default": 10}, "Numbers per page."
        ),
    ]


def _endpoint_declaration() -> dict[str, Any]:
    return {
        "dataset": "numbers",
        "filters": [{"param": "status", "field": "status"}, {"param": "region", "field": "region"}],
        "order": {
            "param": "sort",
            "options": {"newest": [["created_at", "desc"]], "number": [["number", "asc"]]},
        },
        "paging": {"style": "page", "page_param": "page", "size_param": "per_page"},
        "envelope": {
            "data": "${items}",
            "meta": {
                "page": "${page}",
                "per_page": "${per_page}",
                "total": "${total}",
                "last_page": "${last_page}",
            },
        },
    }


def _responses() -> dict[str, Any]:
    error = {"$ref": "#/components/responses/Error"}
    ok = {
        "description": "A page of numbers",
        "content": {"application/json": {"schema": {"$ref": "number-list.json"}}},
    }
    return {"200": ok, **{str(status): error for status in sorted(set(ERROR_STATUSES.values()))}}


def openapi(vendor_id: str) -> dict[str, Any]:
    """The skeleton's OpenAPI document with its x-emulator declarations."""
    host = f"api.{vendor_id}.example"
    docs = f"https://docs.{vendor_id}.example/api/numbers"
    operation = {
        "operationId": "listNumbers",
        "summary": "List phone numbers",
        "externalDocs": {"url": docs},
        "parameters": _parameters(),
        "responses": _responses(),
        "x-emulator": _endpoint_declaration(),
    }
    error_body = {"application/json": {"schema": {"$ref": "error.json"}}}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": f"{_title(vendor_id)} phone-number API (emulated)",
            "version": "0.1",
            "x-source": docs,
        },
        "servers": [{"url": f"https://{host}"}],
        "security": [{"apiKey": []}],
        "paths": {"/v1/numbers": {"get": operation}},
        "components": {
            "securitySchemes": {"apiKey": {"type": "apiKey", "in": "header", "name": "X-Api-Key"}},
            "responses": {"Error": {"description": "An error", "content": error_body}},
        },
        "x-emulator": {
            "title": _title(vendor_id),
            "docs": docs,
            "live_base_url": f"https://{host}",
            "live_environment": {
                "base_url_variable": _variable(vendor_id, "BASE_URL"),
                "default_base_url": f"https://{host}",
                "credentials": [_variable(vendor_id, "API_KEY")],
            },
            "hosts": [host],
            "auth": {
                "kind": "api-key",
                "header": "X-Api-Key",
                "test_credentials": [{"key": f"{vendor_id}-test-key"}],
            },
            "datasets": {"numbers": {"schema": "number.json", "key": "id"}},
            "errors": {kind: _error(kind, status) for kind, status in ERROR_STATUSES.items()},
        },
    }


def schemas(vendor_id: str) -> dict[str, dict[str, Any]]:
    """The skeleton's item, list and error schemas, by file name."""
    source = f"https://docs.{vendor_id}.example/api/numbers"
    number = {
        "$schema": SCHEMA_DIALECT,
        "title": f"{_title(vendor_id)} phone number",
        "x-source": source,
        "type": "object",
        "required": ["id", "number", "status", "region", "created_at"],
        "properties": {
            "id": {"type": "string", "pattern": "^num_[0-9]{4}$"},
            "number": {"$ref": "../_shared/e164.json"},
            "status": {"type": "string", "enum": ["active", "inactive"]},
            "region": {"type": "string", "enum": ["eu", "us"]},
            "created_at": {"$ref": "../_shared/timestamp.json"},
        },
    }
    integer = {"type": "integer", "minimum": 0}
    listing = {
        "$schema": SCHEMA_DIALECT,
        "title": f"{_title(vendor_id)} phone number list",
        "x-source": source,
        "type": "object",
        "required": ["data", "meta"],
        "properties": {
            "data": {"type": "array", "items": {"$ref": "number.json"}},
            "meta": {
                "type": "object",
                "required": ["page", "per_page", "total", "last_page"],
                "properties": {"page": integer, "per_page": integer, "total": integer, "last_page": integer},
            },
        },
    }
    text = {"type": "string"}
    error = {
        "$schema": SCHEMA_DIALECT,
        "title": f"{_title(vendor_id)} error",
        "x-source": source,
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["code", "message"],
                "properties": {"code": text, "message": text},
            }
        },
    }
    return {"number.json": number, "number-list.json": listing, "error.json": error}


def recipe() -> dict[str, Any]:
    """The skeleton's fixture recipe: one example record, fictional numbers, the rest from the schema."""
    example = {
        "id": "num_0001",
        "number": "+12025550101",
        "status": "active",
        "region": "us",
        "created_at": "2026-01-15T10:00:00Z",
    }
    return {
        "numbers": {"US": {"local": ["+1 202 555 01XX", "+1 415 555 01XX"]}},
        "datasets": {
            "numbers": {
                "comment": "the first record is the vendor's documented example, verbatim.",
                "seed": 1,
                "examples": [example],
                "unique": ["number", "created_at"],
                "fields": {
                    "number": {"phone": {"country": {"const": "US"}}},
                    "created_at": {
                        "timestamp": {"from": "2024-01-01T00:00:00Z", "to": "2026-01-14T23:59:59Z"}
                    },
                },
            }
        },
    }


def _write(path: Path, document: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def scaffold(vendor_id: str, schemas_dir: Path, fixtures_dir: Path) -> list[Path]:
    """Write the skeleton of vendor ``vendor_id``; refuses a bad id or a vendor that exists."""
    if not VENDOR_ID.match(vendor_id):
        raise ConfigurationError(f"a vendor id is lowercase letters, digits and '-', got {vendor_id!r}")
    for directory in (schemas_dir / vendor_id, fixtures_dir / vendor_id):
        if directory.exists():
            raise ConfigurationError(f"{directory} already exists")
    written = [_write(schemas_dir / vendor_id / "openapi.json", openapi(vendor_id))]
    written += [_write(schemas_dir / vendor_id / name, body) for name, body in schemas(vendor_id).items()]
    written.append(_write(fixtures_dir / vendor_id / "recipe.json", recipe()))
    return written
