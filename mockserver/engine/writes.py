"""Writes as data: searching a catalogue, creating, updating and deleting a record of a dataset.

Each operation is declared in the vendor's OpenAPI document (an ``x-emulator`` block with ``operation``,
``declaration.schema.json``: ``$defs/write``); this module implements the four kinds once. A write builds
the tenant's new dataset and swaps it in (``VendorDatasets.replace``), so lists see it at once and
readers never see half a change. Every write holds the vendor's lock of the shared state
(``SharedState.exclusive``: a Redis lock across processes with ``--state redis://``) and this process's
lock: of two purchases of one number at once, in one process or across workers, exactly one succeeds.

Emulator time is per tenant: the real clock plus an offset the admin API and the plugin move forward
(``advance``). A release scheduled for the end of a billing period takes effect when the tenant's clock
passes it, checked before each of the tenant's requests. A tenant's offset, switches and scheduled
releases are one shared part, ``writes:<tenant>`` (:func:`writes_part`), stored and announced like the
tenant's records, so every worker sees them and ``--state-dir`` saves them; ``listeners`` are told of each
change (``serve --state-dir`` saves then).
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from dataclasses import field as dataclass_field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import orjson

from mockserver.declarations.model import Deferred, VendorSpec, WriteSpec
from mockserver.documents.reading import read_json
from mockserver.engine.pipeline import ErrorRenderer, Reply
from mockserver.kinds.params import Violation, parse_query
from mockserver.kinds.templates import render_tree
from mockserver.state.datasets import VendorDatasets

if TYPE_CHECKING:  # imported on a vendor's first write with a body schema: a build needs neither
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import ValidationError

MAX_BODY_BYTES = 64 * 1024
"""A write's request body beyond this is refused (413) unread: the vendors document no size."""
DAY = 86_400.0
STATE_NOT_SHARED = (
    "state_not_shared: workers without shared state; serve with --state redis://... or one worker"
)
PARAMETER = re.compile(r"\{([^}/]+)\}")


def writes_part(tenant: str) -> str:
    """The shared-state part that holds ``tenant``'s clock offset, switches and scheduled releases."""
    return f"writes:{tenant}"


class WriteStateLimitError(ValueError):
    """One more tenant with a clock offset, switches or scheduled releases would pass the budget."""

    code = "too_many_tenants"


@dataclass(frozen=True)
class TenantWrites:
    """One tenant's write state; replaced whole on each change (readers never see half of one)."""

    offset: float = 0.0
    switches: Mapping[str, bool] = dataclass_field(default_factory=dict)
    scheduled: Mapping[str, Mapping[Any, float]] = dataclass_field(default_factory=dict)
    """By dataset: the key of each record whose release is scheduled, and when it takes effect."""

    def exported(self) -> dict[str, Any]:
        """The JSON form (shared state, ``--state-dir``): record keys keep their type in a list."""
        return {
            "offset": self.offset,
            "switches": dict(self.switches),
            "scheduled": [
                [name, key, due] for name, due_by in self.scheduled.items() for key, due in due_by.items()
            ],
        }

    @classmethod
    def loaded(cls, value: Mapping[str, Any]) -> TenantWrites:
        """The state :meth:`exported` wrote."""
        scheduled: dict[str, dict[Any, float]] = {}
        for name, key, due in value.get("scheduled") or []:
            scheduled.setdefault(str(name), {})[key] = float(due)
        switches = {str(name): bool(on) for name, on in (value.get("switches") or {}).items()}
        return cls(float(value.get("offset") or 0.0), switches, scheduled)

    @property
    def empty(self) -> bool:
        return not self.offset and not any(self.switches.values()) and not any(self.scheduled.values())


@dataclass(frozen=True)
class WriteCall:
    """A request routed to a write operation, with its path parameters."""

    spec: WriteSpec
    path_params: Mapping[str, str]


def _route_pattern(path: str, parameters: Mapping[str, str]) -> re.Pattern[str]:
    """The regex of a route: each path parameter matches its pattern (an integer: digits), else a segment."""
    parts = PARAMETER.split(path)
    regex = "".join(
        f"(?P<{part}>{parameters.get(part, '[^/]+')})" if index % 2 else re.escape(part)
        for index, part in enumerate(parts)
    )
    return re.compile(f"^{regex}$")


def _iso(moment: float) -> str:
    return datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _parse_time(value: Any) -> float | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def _in_order_of(model: Mapping[str, Any], record: dict[str, Any]) -> dict[str, Any]:
    """``record`` with its fields in the order of ``model`` (a listed record), the others after them."""
    ordered = {name: record[name] for name in model if name in record}
    return ordered | record


def _digits(value: Any) -> str:
    return "".join(char for char in str(value) if char.isdigit())


def _laravel_message(error: ValidationError, field: str) -> str:
    attribute = field.replace("_", " ")
    if error.validator == "maxLength":
        return f"The {attribute} must not exceed {error.validator_value} characters."
    if error.validator == "required":
        return f"The {attribute} field is required."
    if error.validator == "type":
        kind = error.validator_value if isinstance(error.validator_value, str) else "string"
        return f"The {attribute} field must be a {kind}."
    return f"The {attribute} field format is invalid."


class Writes:
    """The write operations of one vendor, with their per-tenant time, switches and scheduled releases."""

    def __init__(
        self,
        spec: VendorSpec,
        datasets: VendorDatasets,
        errors: ErrorRenderer,
        wall: Callable[[], float] = time.time,
        max_tenants: int | None = None,
    ) -> None:
        self.spec = spec
        self.datasets = datasets
        self.errors = errors
        self.wall = wall
        self.routes = [(_route_pattern(write.path, write.path_patterns), write) for write in spec.writes]
        self._body_schemas = {
            write.path + write.method: read_json(write.body_schema)
            for write in spec.writes
            if write.body_schema is not None
        }
        self._validators: dict[str, Draft202012Validator] = {}
        self.shared = datasets.shared
        self._catalogues: dict[str, list[dict[str, Any]]] = {}
        self._tenants: dict[str, TenantWrites] = {}
        self.max_tenants = datasets.limits.max_tenants if max_tenants is None else max_tenants
        """At most this many tenants hold a write state (the admin API can name any tenant)."""
        self._lock = threading.RLock()
        self.read_only = False
        """``--workers N --state memory``: each worker would keep its own purchases, so writes other than a
        search answer the vendor's 503 (``serve`` sets this; the admin controls are refused the same way)."""
        self.listeners: list[Callable[[], None]] = []
        """Called after each change a vendor request made (the Emulator shares its ``changed`` list)."""

    # ------------------------------------------------------------------ state

    def state(self, tenant: str) -> TenantWrites:
        """The tenant's clock offset, switches and scheduled releases."""
        return self._tenants.get(tenant) or TenantWrites()

    @contextmanager
    def _exclusive(self) -> Iterator[None]:
        """One write at a time: across processes (the shared state's lock), then in this one."""
        with self.shared.exclusive(self.spec.id), self._lock:
            yield

    def _store(self, tenant: str, state: TenantWrites) -> None:
        """Make ``state`` the tenant's: stored for every process first (nothing changes here on a failure)."""
        value = None if state.empty else state.exported()
        if value is not None and tenant not in self._tenants and len(self._tenants) >= self.max_tenants:
            raise WriteStateLimitError(
                f"{self.spec.id} keeps a clock and switches for {self.max_tenants} tenants already"
                " (--max-tenants); reset or free one first"
            )
        if self.shared.shared:
            self.shared.put(self.spec.id, writes_part(tenant), value)
        if value is None:
            self._tenants.pop(tenant, None)
        else:
            self._tenants[tenant] = state

    def applied(self, tenant: str, value: Mapping[str, Any] | None) -> None:
        """Another process changed the tenant's write state: mirror it here."""
        if value is None:
            self._tenants.pop(tenant, None)
        else:
            self._tenants[tenant] = TenantWrites.loaded(value)

    def exported(self) -> dict[str, dict[str, Any]]:
        """Every tenant's write state, by tenant (``--state-dir``)."""
        return {tenant: state.exported() for tenant, state in self._tenants.items()}

    def restore(self, saved: Mapping[str, Mapping[str, Any]]) -> None:
        """Take back what :meth:`exported` gave (``--state-dir``, at start)."""
        with self._exclusive():
            for tenant, value in saved.items():
                self._store(str(tenant), TenantWrites.loaded(value))

    def _notify(self) -> None:
        for listener in self.listeners:
            listener()

    # ------------------------------------------------------------------ controls

    def now(self, tenant: str) -> float:
        """The tenant's emulator time (seconds since the epoch)."""
        return self.wall() + self.state(tenant).offset

    def advance(self, tenant: str, days: float = 0.0, seconds: float = 0.0) -> float:
        """Move the tenant's clock forward; returns its new time. Releases that come due take effect."""
        if days < 0 or seconds < 0:
            raise ValueError("the emulator's clock only moves forward")
        with self._exclusive():
            state = self.state(tenant)
            self._store(tenant, replace(state, offset=state.offset + days * DAY + seconds))
            self._expire(tenant)
        return self.now(tenant)

    def switch(self, tenant: str, name: str, on: bool = True) -> None:
        """Turn a declared switch (e.g. ``payment_failed``) on or off for a tenant."""
        known = {key for write in self.spec.writes for key in write.switches}
        if name not in known:
            raise ValueError(f"{self.spec.id} has no switch {name!r}; it has {sorted(known)}")
        with self._exclusive():
            state = self.state(tenant)
            switches = {key: value for key, value in state.switches.items() if key != name}
            if on:
                switches[name] = True
            self._store(tenant, replace(state, switches=switches))

    def forget(self, tenant: str | None) -> None:
        """Drop a tenant's (or everyone's, for None: a reset, stored by the reset) clock, switches and
        scheduled releases."""
        if tenant is None:
            self._tenants.clear()
            return
        if tenant in self._tenants:
            self.shared.put(self.spec.id, writes_part(tenant), None)  # nothing while applying a change
            self._tenants.pop(tenant, None)

    def expire(self, tenant: str) -> None:
        """Remove the tenant's records whose scheduled release has come (cheap when none has)."""
        if not self._due(tenant):
            return
        with self._exclusive():
            changed = self._expire(tenant)
        if changed:
            self._notify()

    def _due(self, tenant: str) -> bool:
        state = self._tenants.get(tenant)
        if state is None or not state.scheduled:
            return False
        now = self.wall() + state.offset
        return any(moment <= now for due in state.scheduled.values() for moment in due.values())

    def _expire(self, tenant: str) -> bool:
        """:meth:`expire` under the lock: whether anything was released."""
        if not self._due(tenant):
            return False
        state = self.state(tenant)
        now = self.now(tenant)
        scheduled = {}
        for name, due in state.scheduled.items():
            gone = {key for key, moment in due.items() if moment <= now}
            if gone:
                key = self.spec.datasets[name].key
                records = self.datasets.dataset(tenant, name).records
                self.datasets.replace(tenant, name, [record for record in records if record[key] not in gone])
            kept = {key: moment for key, moment in due.items() if key not in gone}
            if kept:
                scheduled[name] = kept
        self._store(tenant, replace(state, scheduled=scheduled))
        return True

    # ------------------------------------------------------------------ routing

    def route(self, method: str, path: str) -> WriteCall | list[str] | None:
        """The write a request is for; else the methods its path allows (a list), or None off every path."""
        allowed: list[str] = []
        for pattern, write in self.routes:
            found = pattern.match(path)
            if found is None:
                continue
            if write.method.upper() == method or (method == "HEAD" and write.method == "get"):
                return WriteCall(write, found.groupdict())
            allowed.append(write.method.upper())
        return allowed or None

    # ------------------------------------------------------------------ answers

    def answer(self, tenant: str, call: WriteCall, query: bytes, body: bytes) -> Reply:
        """The response of one authenticated write request."""
        self.expire(tenant)
        spec = call.spec
        if spec.operation == "search":
            return self._search(tenant, spec, query)
        if self.read_only:
            reply = self.errors.fault(503)
            return replace(reply, headers=(*reply.headers, ("x-emulator-refused", STATE_NOT_SHARED)))
        if len(body) > MAX_BODY_BYTES:
            return self.errors.fault(413)
        with self._exclusive():
            if spec.operation == "create":
                status, document = self._create(tenant, spec, body)
            elif spec.operation == "update":
                status, document = self._update(tenant, spec, call.path_params, body)
            else:
                status, document = self._delete(tenant, spec, call.path_params)
        if isinstance(document, Reply):
            return document
        self._notify()
        return Reply(status, orjson.dumps(document))

    def _error(self, spec: WriteSpec, outcome: str, **variables: Any) -> Reply:
        name = spec.errors.get(outcome)
        return self.errors.render(str(name or "invalid_parameter"), **variables)

    def catalogue(self, name: str) -> list[dict[str, Any]]:
        """The catalogue's items, as its fixture lists them (read once)."""
        items = self._catalogues.get(name)
        if items is None:
            spec = self.spec.catalogues[name]
            path = self.datasets.fixtures_dir / self.spec.id / spec.fixture
            document = read_json(path)
            records = document.get("records", []) if isinstance(document, dict) else []
            items = [dict(item) for item in records if isinstance(item, dict)]
            self._catalogues[name] = items
        return items

    def _held(self, tenant: str, spec: WriteSpec) -> set[Any]:
        if spec.held_by is None or spec.dataset is None:
            return set()
        return {record.get(spec.held_by) for record in self.datasets.dataset(tenant, spec.dataset).records}

    def _search(self, tenant: str, spec: WriteSpec, query: bytes) -> Reply:
        params = parse_query(query, spec.params, self.spec.query)
        if isinstance(params, Violation):
            return self.errors.violation(params)
        for name, pattern in spec.patterns.items():
            value = params.get(name)
            if value is not None and re.fullmatch(pattern, str(value)) is None:
                return self.errors.violation(Violation(name, "pattern"))
        held = self._held(tenant, spec)
        catalogue = str(spec.catalogue)
        key = self.spec.catalogues[catalogue].key
        items = []
        for item in self.catalogue(catalogue):
            if item.get(key) in held:
                continue
            ok = True
            for param, rule in spec.match.items():
                value = params.get(param)
                if value is None:
                    continue
                field = item.get(rule["field"])
                ok = str(value) in _digits(field) if rule.get("digits") else field == value
                if not ok:
                    break
            if ok:
                items.append(item)
        return Reply(200, orjson.dumps(render_tree(spec.envelope, {"items": items})))

    def _body(self, spec: WriteSpec, body: bytes) -> dict[str, Any] | Reply:
        try:
            document = orjson.loads(body) if body.strip() else {}
        except orjson.JSONDecodeError:
            document = {}  # Laravel reads an unparseable body as no input
        if not isinstance(document, dict):
            document = {}
        validator = self._validator(spec.path + spec.method)
        if validator is None:
            return document
        error = next(iter(sorted(validator.iter_errors(document), key=lambda e: list(e.path))), None)
        if error is None:
            return document
        if error.validator == "required" and isinstance(error.message, str):
            field = error.message.split("'")[1] if "'" in error.message else ""
        else:
            field = str(error.path[0]) if error.path else ""
        if error.validator == "pattern" and "unparseable" in spec.errors:
            return self._error(spec, "unparseable", field=field)
        message = _laravel_message(error, field)
        return self._error(spec, "invalid_body", field=field, message=message)

    def _validator(self, key: str) -> Draft202012Validator | None:
        """The validator of a write's body schema (read at build), made on the write's first request."""
        validator = self._validators.get(key)
        if validator is None and key in self._body_schemas:
            from jsonschema import Draft202012Validator  # noqa: PLC0415 - see the imports

            validator = self._validators[key] = Draft202012Validator(self._body_schemas[key])
        return validator

    def _record_view(self, spec: WriteSpec, record: Mapping[str, Any]) -> dict[str, Any]:
        if spec.response_fields is None:
            return dict(record)
        return {name: record.get(name) for name in spec.response_fields}

    def _respond(self, spec: WriteSpec, template: Any, record: Mapping[str, Any] | None) -> Any:
        variables = {"record": self._record_view(spec, record)} if record is not None else {}
        return render_tree(template, variables)

    def _create(self, tenant: str, spec: WriteSpec, raw: bytes) -> tuple[int, Any]:
        body = self._body(spec, raw)
        if not isinstance(body, dict):
            return 0, body
        wanted = body.get(str(spec.body_field))
        catalogue = str(spec.catalogue)
        key = self.spec.catalogues[catalogue].key
        if wanted in self._held(tenant, spec):
            return 0, self._error(spec, "held")
        item = next((item for item in self.catalogue(catalogue) if item.get(key) == wanted), None)
        if item is None:
            return 0, self._error(spec, "not_offered")
        switches = self.state(tenant).switches
        for switch, error in spec.switches.items():
            if switches.get(switch):
                return 0, self.errors.render(error)
        name = str(spec.dataset)
        dataset_key = self.spec.datasets[name].key
        current = list(self.datasets.dataset(tenant, name).records)
        new_key = max((int(record[dataset_key]) for record in current), default=0) + 1
        record: dict[str, Any] = {dataset_key: new_key}
        record.update(render_tree(dict(spec.record), {"now": _iso(self.now(tenant))}))
        for field in spec.copy:
            record[field] = item.get(field)
        record = _in_order_of(current[0] if current else record, record)
        self.datasets.replace(tenant, name, [*current, record])
        return spec.status or 201, self._respond(spec, spec.response, record)

    def _find(
        self, tenant: str, spec: WriteSpec, path_params: Mapping[str, str]
    ) -> tuple[str, int, list[Any]]:
        name = str(spec.dataset)
        key = self.spec.datasets[name].key
        raw = path_params.get(str(spec.key_param), "")
        records = [dict(record) for record in self.datasets.dataset(tenant, name).records]
        wanted: Any = int(raw) if raw.isdigit() and len(raw) < 19 else raw
        position = next((index for index, record in enumerate(records) if record[key] == wanted), -1)
        return name, position, records

    def _update(
        self, tenant: str, spec: WriteSpec, path_params: Mapping[str, str], raw: bytes
    ) -> tuple[int, Any]:
        name, position, records = self._find(tenant, spec, path_params)
        if position < 0:
            return 0, self._error(spec, "not_found")
        body = self._body(spec, raw)
        if not isinstance(body, dict):
            return 0, body
        record = records[position]
        for field in spec.fields:
            if field in body:
                value = body[field]
                record[field] = None if value == "" and spec.empty_is_null else value
        self.datasets.replace(tenant, name, records)
        return spec.status or 200, self._respond(spec, spec.response, record)

    def _delete(self, tenant: str, spec: WriteSpec, path_params: Mapping[str, str]) -> tuple[int, Any]:
        name, position, records = self._find(tenant, spec, path_params)
        if position < 0:
            return 0, self._error(spec, "not_found")
        record = records[position]
        key = self.spec.datasets[name].key
        state = self.state(tenant)
        due = state.scheduled.get(name, {})
        if record[key] in due:
            return 0, self._error(spec, "already_scheduled")
        deferred = spec.deferred
        status = spec.status or 200
        if deferred is not None and all(
            record.get(field) == value for field, value in deferred["where"].items()
        ):
            moment = self._period_end(tenant, record, deferred)
            record.update(deferred["set"])
            scheduled = {**state.scheduled, name: {**due, record[key]: moment}}
            self._store(tenant, replace(state, scheduled=scheduled))
            self.datasets.replace(tenant, name, records)
            return status, self._respond(spec, deferred["response"], None)
        self.datasets.replace(tenant, name, [item for item in records if item is not record])
        return status, self._respond(spec, spec.response, None)

    def _period_end(self, tenant: str, record: Mapping[str, Any], deferred: Deferred) -> float:
        """The end of the record's current billing period: periods run from ``created_at``."""
        period = float(str(deferred["period_days"])) * DAY
        now = self.now(tenant)
        start = _parse_time(record.get("created_at")) or now
        if start > now:
            return start + period
        elapsed = int((now - start) // period) + 1
        return start + elapsed * period
