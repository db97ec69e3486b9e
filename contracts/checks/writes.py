"""The contract checks of a vendor's write operations, all derived from its declarations (no vendor is named).

A **search** (what a vendor offers to buy) only reads, so it is checked like a list on every target: the
default request against its documented schema, the documented refusals of a missing and an invalid key,
each ``match`` parameter (every item listed matches it), and a parameter its pattern refuses.

The **changing writes** (create, update, delete of a dataset's record) are checked as one flow: search,
create what the search offered first, update it, delete it; and the documented error paths that cost
nothing: a create of the value just created (held) and of a value the catalogue does not offer, an update
body its schema refuses, an update and a delete of a key nobody holds. Every response is validated
against the schema the OpenAPI document gives its status: a success body for drift (like a list's body),
an error body for its shape. What the flow created is deleted in a ``finally``, whatever happened.

Against live they run only when the run allows writes (``--allow-writes``): a purchase costs money.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, cast

import httpx
from jsonschema import Draft202012Validator

from contracts.checks.drift import DriftDetector, preview
from contracts.checks.endpoint import HTML_HINT, INVALID_KEY
from contracts.checks.findings import Finding, FindingsOf
from contracts.targets.client import GuardedClient
from contracts.targets.selection import VendorTarget
from mockserver.declarations.model import VendorSpec, WriteSpec
from mockserver.declarations.served_openapi import response_schema
from mockserver.documents.reading import read_json

WRITES_NEED_FLAG = "writes against live need --allow-writes: buying a number costs money"
RECORD = "${record}"
UNKNOWN_INTEGER_KEY = "2147483647"  # the largest 32-bit id: no record has it
UNKNOWN_TEXT_KEY = "contract-check-unknown"
UPDATE_VALUE = "contract check"
INVALID_PARAMETER_VALUES = ("contract-check!", "0" * 40)


def label(write: WriteSpec) -> str:
    """How reports name a write: ``POST /api/user/phone-numbers/purchase``."""
    return f"{write.method.upper()} {write.path}"


@cache
def _raw_document(source: Path) -> Any:
    return read_json(source)


def _schema_file(vendor: VendorSpec, write: WriteSpec, status: int) -> Path | None:
    """The schema file the vendor's document gives ``status`` of ``write`` (None: inline or composite)."""
    try:
        operation = _raw_document(vendor.source)["paths"][write.path][write.method.lower()]
        ref = operation["responses"][str(status)]["content"]["application/json"]["schema"]["$ref"]
    except (KeyError, TypeError):
        return None
    return (vendor.source.parent / ref).resolve() if isinstance(ref, str) and "#" not in ref else None


def _doc(vendor: VendorSpec, write: WriteSpec) -> str:
    try:
        url = _raw_document(vendor.source)["paths"][write.path][write.method.lower()]["externalDocs"]["url"]
    except (KeyError, TypeError):
        return vendor.docs
    return str(url)


def _where(template: Any, wanted: str, at: tuple[str, ...] = ()) -> tuple[str, ...] | None:
    """The path of ``wanted`` in a response template (``("data",)`` for ``{"data": "${record}"}``)."""
    if template == wanted:
        return at
    if isinstance(template, Mapping):
        for name, value in template.items():
            found = _where(value, wanted, (*at, str(name)))
            if found is not None:
                return found
    return None


def _at(body: Any, path: tuple[str, ...] | None) -> Any:
    if path is None:
        return None
    for name in path:
        if not isinstance(body, Mapping):
            return None
        body = body.get(name)
    return body


@dataclass
class WriteCheck(FindingsOf):
    """Checks one write operation of one vendor on one target, collecting findings."""

    vendor: VendorSpec
    write: WriteSpec
    target: VendorTarget
    client: GuardedClient
    detector: DriftDetector
    findings: list[Finding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.vendor_id = self.vendor.id
        self.label = label(self.write)
        self.doc = _doc(self.vendor, self.write)

    def path(self, key: str | None = None) -> str:
        """The operation's path, its key parameter replaced by ``key``."""
        if key is None or self.write.key_param is None:
            return self.write.path
        return self.write.path.replace("{" + self.write.key_param + "}", key)

    def get(self, params: Any = None, headers: Mapping[str, str] | None = None) -> httpx.Response:
        """One GET of the operation (a search), retried when transient."""
        sent = dict(self.target.headers) if headers is None else dict(headers)
        return self.client.get(self.label, self.write.path, params=params, headers=sent)

    def send(self, key: str | None = None, body: Any = None, *, spend: bool = True) -> httpx.Response:
        """The operation's own request (``key`` in the path, ``body`` as JSON) with the target's key."""
        return self.client.send(
            self.label,
            self.write.method,
            self.path(key),
            body=body,
            headers=dict(self.target.headers),
            spend=spend,
        )

    def judge(self, response: httpx.Response, expected: int, what: str) -> Any:
        """The JSON body of an answer expected with ``expected``, checked against the documented schema of
        that status; None (and a finding) when the status, the media type or the body is not that."""
        if response.status_code != expected:
            self.add(
                "status-unexpected",
                "",
                f"{what}: expected {expected}, got {response.status_code}",
                expected,
                response.status_code,
            )
            return None
        media = response.headers.get("content-type", "")
        if "json" not in media:
            hint = HTML_HINT if "html" in media else f"{media or 'no content type'}"
            self.add("media-type-changed", "", f"{what}: expected application/json, got {hint}")
            return None
        try:
            body = response.json()
        except ValueError:
            self.add("media-type-changed", "", f"{what}: the body is not JSON", "application/json")
            return None
        if 200 <= expected < 300:
            self._drift(body, expected, what)
        else:
            self._error_shape(body, expected, what)
        return body

    def _drift(self, body: Any, status: int, what: str) -> None:
        schema = _schema_file(self.vendor, self.write, status)
        if schema is None:
            self._error_shape(body, status, what)  # an inline or composite schema: validated as written
            return
        for drift in self.detector.compare(schema, body):
            message = f"{what}: {drift.message}"
            self.add(drift.kind, drift.path, message, drift.expected, drift.observed, drift.doc)

    def _error_shape(self, body: Any, status: int, what: str) -> None:
        schema = response_schema(self.vendor.openapi, self.write.path, status, self.write.method.lower())
        if schema is None:
            self.notes.append(f"{what}: the document gives no schema for {status}; the body was not checked")
            return
        components = self.vendor.openapi.get("components", {})
        errors = list(Draft202012Validator({**schema, "components": components}).iter_errors(body))
        if errors:
            kind = "error-shape-changed" if status >= 400 else "type-mismatch"
            self.add(
                kind,
                "",
                f"{what}: the {status} body no longer matches the documented schema ({errors[0].message})",
                "documented body",
                preview(body),
            )

    def refused(self, outcome: str, response: httpx.Response, what: str) -> None:
        """An answer that must be the vendor's error template for ``outcome`` (status, documented shape)."""
        name = cast(Mapping[str, str], self.write.errors).get(outcome)
        template = self.vendor.errors.get(str(name)) if name else None
        if template is not None:
            self.judge(response, template.status, what)


# ---------------------------------------------------------------------------------------------- search


def check_search(check: WriteCheck) -> None:
    """A search, checked like a list: default request, refusals of bad keys, each match, a bad parameter."""
    response = check.get()
    body = check.judge(response, 200, "the default search")
    _authentication(check)
    items = _items(check, body)
    for name, rule in check.write.match.items():
        value = _match_value(check, name, rule, items)
        if value is None:
            continue
        found = check.judge(check.get({name: value}), 200, f"a search with {name}={value}")
        for index, item in enumerate(_items(check, found)):
            if not _matches(item, rule, value):
                check.add(
                    "filter-semantics-changed",
                    f"/{'/'.join(_items_path(check))}/{index}",
                    f"a search with {name}={value!r} listed an item that does not match",
                    value,
                    preview(item),
                )
    _invalid_parameter(check)


def _items_path(check: WriteCheck) -> tuple[str, ...]:
    return _where(check.write.envelope, "${items}") or ()


def _items(check: WriteCheck, body: Any) -> list[Any]:
    found = _at(body, _items_path(check)) if isinstance(body, Mapping) else body
    return found if isinstance(found, list) else []


def _digits(value: Any) -> str:
    return "".join(character for character in str(value) if character.isdigit())


def _match_value(check: WriteCheck, name: str, rule: Mapping[str, Any], items: list[Any]) -> str | None:
    """A value of parameter ``name`` that the first offered item matches (None when nothing is offered)."""
    first = next((item for item in items if isinstance(item, Mapping)), None)
    if first is None or first.get(rule["field"]) is None:
        return None
    if rule.get("digits"):
        digits = _digits(first[rule["field"]])
        return digits[-4:] or None
    spec = check.write.params.get(name)
    value = str(first[rule["field"]])
    return value if spec is None or spec.enum is None or value in spec.enum else None


def _matches(item: Any, rule: Mapping[str, Any], value: str) -> bool:
    if not isinstance(item, Mapping):
        return False
    found = item.get(rule["field"])
    return value in _digits(found) if rule.get("digits") else str(found) == value


def _authentication(check: WriteCheck) -> None:
    auth = check.vendor.auth
    invalid = (
        {"Authorization": f"Bearer {INVALID_KEY}"}
        if auth.kind == "bearer"
        else {auth.header or "": INVALID_KEY}
    )
    if auth.tenant_header and auth.tenant_header in check.target.headers:
        invalid[auth.tenant_header] = check.target.headers[auth.tenant_header]
    for kind, headers in (("missing_credentials", {}), ("invalid_credentials", invalid)):
        template = check.vendor.errors[kind]
        response = check.get(headers=headers)
        if response.status_code != template.status:
            check.add(
                "auth-semantics-changed",
                "",
                f"{kind.replace('_', ' ')}: expected {template.status}, got {response.status_code}",
                template.status,
                response.status_code,
            )
            continue
        check.judge(response, template.status, kind.replace("_", " "))


def _invalid_parameter(check: WriteCheck) -> None:
    """A value a parameter's pattern refuses gets the vendor's documented invalid-parameter answer."""
    template = check.vendor.errors.get("invalid_parameter")
    if template is None:
        return
    for name, pattern in check.write.patterns.items():
        value = next((v for v in INVALID_PARAMETER_VALUES if re.fullmatch(pattern, v) is None), None)
        if value is not None:
            check.judge(check.get({name: value}), template.status, f"a search with {name}={value!r}")
        return


# ---------------------------------------------------------------------------------------------- the flow


@dataclass
class WriteFlow:
    """Search, create, update, delete of one dataset, with the cheap error paths and a cleanup."""

    search: WriteCheck | None
    create: WriteCheck | None
    update: WriteCheck | None
    delete: WriteCheck | None
    created: list[str] = field(default_factory=list)
    released: set[str] = field(default_factory=set)

    def checks(self) -> Iterator[WriteCheck]:
        """The checks of the flow's changing writes."""
        yield from (c for c in (self.create, self.update, self.delete) if c is not None)

    def run(self) -> None:
        """The whole flow; whatever it created is deleted in the end, whatever happened."""
        try:
            self._unknown_keys()
            key = self._create()
            if key is not None:
                self._update(key)
                self._delete(key)
        finally:
            self.cleanup()

    def _unknown_keys(self) -> None:
        for check in (self.update, self.delete):
            if check is None:
                continue
            key = self._unknown_key(check)
            if key in self._listed_keys(check):
                check.notes.append(f"{key} is listed: the check of an unknown key was not run")
                continue
            body = {check.write.fields[0]: UPDATE_VALUE} if check.write.fields else None
            check.refused("not_found", check.send(key, body), f"a key nobody holds ({key})")

    @staticmethod
    def _listed_keys(check: WriteCheck) -> set[str]:
        """The keys the dataset's widest list shows on its first page (an "unknown" key must not be one:
        on live, a release of it would release a real number)."""
        dataset = check.write.dataset
        endpoint = next(
            (e for e in check.vendor.endpoints if e.dataset == dataset and not e.where and not e.filters),
            None,
        )
        if endpoint is None or dataset is None:
            return set()
        response = check.client.get(check.label, endpoint.path, headers=dict(check.target.headers))
        key = check.vendor.datasets[dataset].key
        body = _json(response)
        items = _at(body, _where(endpoint.envelope, "${items}")) if isinstance(body, Mapping) else body
        listed = items if isinstance(items, list) else []
        return {str(item.get(key)) for item in listed if isinstance(item, Mapping)}

    @staticmethod
    def _unknown_key(check: WriteCheck) -> str:
        pattern = check.write.path_patterns.get(str(check.write.key_param))
        digits = pattern is not None and re.fullmatch(pattern, UNKNOWN_INTEGER_KEY) is not None
        return UNKNOWN_INTEGER_KEY if digits else UNKNOWN_TEXT_KEY

    def _offered(self, check: WriteCheck) -> list[Any]:
        """What the search offers (its default request), charged to the create."""
        if self.search is None:
            return []
        response = check.client.get(
            check.label, self.search.write.path, headers=dict(self.search.target.headers)
        )
        if response.status_code != 200:
            check.notes.append(f"the search answered {response.status_code}: nothing to create from")
            return []
        try:
            return _items(self.search, response.json())
        except ValueError:
            return []

    def _create(self) -> str | None:
        check = self.create
        if check is None or self.delete is None:
            if check is not None:
                check.notes.append("no delete is declared to undo a create: the create was not checked")
            return None
        vendor, write = check.vendor, check.write
        key_field = vendor.catalogues[str(write.catalogue)].key if write.catalogue else None
        offered = self._offered(check)
        first = next((item for item in offered if isinstance(item, Mapping)), None)
        if first is None or key_field is None or write.body_field is None:
            check.notes.append("nothing is offered: the create and what follows were not checked")
            return None
        value = first.get(key_field)
        if value is None:
            check.notes.append(f"the first offer has no {key_field}: the create was not checked")
            return None
        response = check.send(body={write.body_field: value})
        record = _at(check.judge(response, write.status or 201, f"a create of {value}"), _record_path(write))
        key = self._remember(check, response, record)
        if "held" in write.errors:
            again = check.send(body={write.body_field: value})
            self._remember(check, again, _at(_json(again), _record_path(write)))
            check.refused("held", again, f"a create of {value}, just created")
        unoffered = _not_offered(value, offered, key_field)
        if "not_offered" in write.errors and unoffered is not None:
            other = check.send(body={write.body_field: unoffered})
            self._remember(check, other, _at(_json(other), _record_path(write)))
            check.refused("not_offered", other, f"a create of {unoffered}, which is not offered")
        return key

    def _remember(self, check: WriteCheck, response: httpx.Response, record: Any) -> str | None:
        """The key of what a create answered (to delete it in the end); None when it created nothing."""
        if not response.is_success:
            return None
        name = str(check.write.dataset)
        key_name = check.vendor.datasets[name].key if name in check.vendor.datasets else None
        key = record.get(key_name) if isinstance(record, Mapping) and key_name else None
        if key is None:
            check.notes.append(
                f"a create answered {response.status_code} without a record key: check the account by hand"
            )
            return None
        self.created.append(str(key))
        return str(key)

    def _update(self, key: str) -> None:
        check = self.update
        if check is None or not check.write.fields:
            return
        name = check.write.fields[0]
        status = check.write.status or 200
        check.judge(check.send(key, {name: UPDATE_VALUE}), status, f"an update of {name}")
        too_long = _too_long(check, name)
        if too_long is not None and "invalid_body" in check.write.errors:
            response = check.send(key, {name: too_long})
            check.refused("invalid_body", response, f"an update of {name} with {len(too_long)} characters")

    def _delete(self, key: str) -> None:
        check = self.delete
        if check is None:
            return
        response = check.send(key)
        check.judge(response, check.write.status or 200, f"a delete of {key}")
        if response.is_success:
            self.released.add(key)
            if "already_scheduled" in check.write.errors and check.write.deferred is not None:
                check.refused("already_scheduled", check.send(key), f"a second delete of {key}")

    def cleanup(self) -> None:
        """Delete what the flow created and did not delete; what cannot be deleted is a note."""
        check = self.delete
        for key in self.created:
            if key in self.released or check is None:
                continue
            try:
                response: httpx.Response | None = check.send(key, spend=False)
            except Exception as error:  # noqa: BLE001 - every failure becomes the note below
                response, why = None, type(error).__name__
            else:
                why = "" if response is None else str(response.status_code)
            if response is not None and response.is_success:
                self.released.add(key)
                check.notes.append(f"cleanup: deleted {key}, which the checks created")
            else:
                check.notes.append(f"cleanup: could not delete {key} ({why}): delete it by hand")


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _record_path(write: WriteSpec) -> tuple[str, ...] | None:
    return _where(write.response, RECORD)


def _not_offered(value: Any, offered: list[Any], key_field: str) -> str | None:
    """A value shaped like ``value`` that no one can hold: its first three characters, then zeros
    (``+4930...`` becomes ``+490000000000``, no valid number); None when the search offers it."""
    if not isinstance(value, str) or len(value) < 4:
        return None
    made = value[:3] + "0" * (len(value) - 3)
    taken = {item.get(key_field) for item in offered if isinstance(item, Mapping)}
    return None if made in taken or made == value else made


def _too_long(check: WriteCheck, name: str) -> str | None:
    """A value one character longer than the body schema allows for ``name`` (None: no maximum)."""
    if check.write.body_schema is None:
        return None
    schema = check.detector.store.contents(check.write.body_schema)
    maximum = schema.get("properties", {}).get(name, {}).get("maxLength")
    return "x" * (int(maximum) + 1) if isinstance(maximum, int) else None


def write_flow(
    vendor: VendorSpec, target: VendorTarget, client: GuardedClient, detector: DriftDetector
) -> list[WriteFlow]:
    """One flow per dataset that a declared write changes (none for a vendor without writes)."""

    def one(operation: str, dataset: str | None, catalogue: str | None = None) -> WriteCheck | None:
        found = next(
            (
                w
                for w in vendor.writes
                if w.operation == operation
                and (dataset is None or w.dataset == dataset)
                and (catalogue is None or w.catalogue == catalogue)
            ),
            None,
        )
        return None if found is None else WriteCheck(vendor, found, target, client, detector)

    flows = []
    for dataset in sorted({w.dataset for w in vendor.writes if w.operation != "search" and w.dataset}):
        create = one("create", dataset)
        catalogue = create.write.catalogue if create is not None else None
        search = one("search", None, catalogue) if catalogue is not None else None
        flows.append(WriteFlow(search, create, one("update", dataset), one("delete", dataset)))
    return flows
