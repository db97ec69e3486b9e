"""Field drifts: a field of every listed item removed, renamed, nulled, retyped or reformatted; a new enum
value; an undocumented field; the envelope wrapped or unwrapped. The field is chosen from the item schema
(param ``field``; the default is the first field of the right kind, top level first). A monitor finding
at an item field (``/data/*/phone_number``) of the drift's kind is replayed on that field.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any, ClassVar

from mockserver.drifts.base import Drift, Exchange, Param, Params, Reported, Target
from mockserver.drifts.view import EndpointView, FieldInfo, VendorView, read

FIELD = Param("field", "string", "the item field (dotted for a nested one) the vendor changed")
OFFSET = re.compile(r"(Z|[+-]\d{2}:?\d{2})$", re.IGNORECASE)
SECONDS = re.compile(r"(T\d{2}:\d{2}:\d{2})(\.\d+)?")


def items_of(answer: Exchange, endpoint: EndpointView | None) -> Iterator[dict[str, Any]]:
    """The listed items of a successful list answer (none for anything else)."""
    if endpoint is None or endpoint.items is None or answer.status != 200:
        return
    body = answer.json
    listed = read(body, endpoint.items) if endpoint.items else body
    if isinstance(listed, list):
        answer.dirty = True
        yield from (item for item in listed if isinstance(item, dict))


def parent_of(item: dict[str, Any], path: str) -> tuple[dict[str, Any] | None, str]:
    """The object holding the field at ``path`` in ``item``, and the field's own name."""
    *parents, name = path.split(".")
    holder: Any = item
    for part in parents:
        holder = holder.get(part) if isinstance(holder, dict) else None
    return (holder if isinstance(holder, dict) else None), name


class FieldDrift(Drift):
    """A drift on one field of each item; subclasses say which fields qualify and what happens to one."""

    params: ClassVar[tuple[Param, ...]] = (FIELD,)

    @classmethod
    def qualifies(cls, info: FieldInfo, endpoint: EndpointView) -> bool:
        """Whether the drift can change this field."""
        return info.path != endpoint.key

    @classmethod
    def targets(cls, vendor: VendorView) -> list[Target]:
        found = []
        for endpoint in vendor.endpoints:
            if endpoint.items is None:
                continue
            fields = [info.path for info in endpoint.fields if cls.qualifies(info, endpoint)]
            if fields:
                top = [path for path in fields if "." not in path] or fields
                found.append(
                    Target(endpoint.path, {"field": top[0], **cls.extra_defaults()}, {"field": tuple(fields)})
                )
        return found

    @classmethod
    def extra_defaults(cls) -> dict[str, Any]:
        """Defaults of the drift's other parameters."""
        return {}

    @classmethod
    def from_finding(cls, finding: Reported, target: Target, endpoint: EndpointView | None) -> Params | None:
        name = finding.item_field(endpoint)
        if finding.kind != cls.kind or name is None or name not in target.choices.get("field", ()):
            return None
        if not cls.matches(finding):
            return None
        return {"field": name, **cls.read_extra(finding)}

    @classmethod
    def matches(cls, finding: Reported) -> bool:
        """Whether the finding's detail is this drift's (its kind and field already match)."""
        return True

    @classmethod
    def read_extra(cls, finding: Reported) -> dict[str, Any]:
        """The drift's other parameters, read from the finding."""
        return {}

    def respond(self, answer: Exchange, params: Params, endpoint: EndpointView | None) -> None:
        for item in items_of(answer, endpoint):
            holder, name = parent_of(item, params["field"])
            if holder is not None and name in holder:
                self.change(holder, name, params)

    def change(self, holder: dict[str, Any], name: str, params: Params) -> None:
        """Change the field ``name`` of ``holder`` (present)."""
        raise NotImplementedError


def _required(info: FieldInfo, endpoint: EndpointView) -> bool:
    return info.required and info.path != endpoint.key


class Removed(FieldDrift):
    id = "field.removed"
    summary = "a required field is no longer sent"
    kind = "required-property-missing"

    @classmethod
    def qualifies(cls, info: FieldInfo, endpoint: EndpointView) -> bool:
        return _required(info, endpoint)

    def change(self, holder: dict[str, Any], name: str, params: Params) -> None:
        del holder[name]


class RemovedOptional(FieldDrift):
    id = "field.removed-optional"
    summary = "an optional field is no longer sent"
    kind = None
    invisible = "an optional field may be absent: every answer still matches the schema"

    @classmethod
    def qualifies(cls, info: FieldInfo, endpoint: EndpointView) -> bool:
        return not info.required

    def change(self, holder: dict[str, Any], name: str, params: Params) -> None:
        del holder[name]


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    renamed = head + "".join(part.title() for part in rest)
    return renamed if renamed != name else f"{name}_v2"


class Renamed(FieldDrift):
    id = "field.renamed"
    summary = "a required field is sent under another name (default: camelCase, or NAME_v2)"
    kind = "probable-rename"
    params = (FIELD, Param("to", "string", "the new name (default: the field's name in camelCase)"))

    @classmethod
    def qualifies(cls, info: FieldInfo, endpoint: EndpointView) -> bool:
        return _required(info, endpoint)

    @classmethod
    def targets(cls, vendor: VendorView) -> list[Target]:
        return [
            Target(
                t.path, {**t.defaults, "to": _camel(str(t.defaults["field"]).rsplit(".", 1)[-1])}, t.choices
            )
            for t in super().targets(vendor)
        ]

    @classmethod
    def matches(cls, finding: Reported) -> bool:
        return isinstance(finding.observed, str) and bool(finding.observed)

    @classmethod
    def read_extra(cls, finding: Reported) -> dict[str, Any]:
        return {"to": finding.observed}

    def change(self, holder: dict[str, Any], name: str, params: Params) -> None:
        holder[str(params["to"])] = holder.pop(name)


class Nulled(FieldDrift):
    id = "field.null"
    summary = "a required, non-nullable field is sent as null"
    kind = "unexpected-null"

    @classmethod
    def qualifies(cls, info: FieldInfo, endpoint: EndpointView) -> bool:
        return _required(info, endpoint) and not info.nullable and "object" not in info.types

    def change(self, holder: dict[str, Any], name: str, params: Params) -> None:
        holder[name] = None


class NumberAsString(FieldDrift):
    id = "field.number-as-string"
    summary = 'a number is sent as a string (12.5 becomes "12.5")'
    kind = "type-mismatch"

    @classmethod
    def qualifies(cls, info: FieldInfo, endpoint: EndpointView) -> bool:
        return info.has("number") and "string" not in info.types and info.path != endpoint.key

    @classmethod
    def matches(cls, finding: Reported) -> bool:
        expected = finding.expected if isinstance(finding.expected, list) else [finding.expected]
        return bool({"number", "integer"} & set(map(str, expected))) and isinstance(finding.observed, str)

    def change(self, holder: dict[str, Any], name: str, params: Params) -> None:
        value = holder[name]
        if isinstance(value, int | float) and not isinstance(value, bool):
            holder[name] = str(value)


class IntegerAsFloat(FieldDrift):
    id = "field.integer-as-float"
    summary = "an integer is sent as a float (12 becomes 12.0)"
    kind = None
    invisible = "JSON Schema counts 12.0 as an integer, so the answer still matches the schema"

    @classmethod
    def qualifies(cls, info: FieldInfo, endpoint: EndpointView) -> bool:
        return "integer" in info.types and info.path != endpoint.key

    def change(self, holder: dict[str, Any], name: str, params: Params) -> None:
        value = holder[name]
        if isinstance(value, int) and not isinstance(value, bool):
            holder[name] = float(value)


def _timestamp(info: FieldInfo, endpoint: EndpointView) -> bool:
    return info.format == "date-time"


class TimestampOffsetDropped(FieldDrift):
    id = "format.timestamp-offset-dropped"
    summary = "a timestamp loses its UTC offset (2024-05-01T10:00:00Z becomes 2024-05-01T10:00:00)"
    kind = "format-mismatch"

    @classmethod
    def qualifies(cls, info: FieldInfo, endpoint: EndpointView) -> bool:
        return _timestamp(info, endpoint)

    @classmethod
    def matches(cls, finding: Reported) -> bool:
        return bool(finding.expected == "date-time")

    def change(self, holder: dict[str, Any], name: str, params: Params) -> None:
        if isinstance(holder[name], str):
            holder[name] = OFFSET.sub("", holder[name])


class TimestampPrecision(FieldDrift):
    id = "format.timestamp-precision"
    summary = "timestamps gain microseconds (10:00:00Z becomes 10:00:00.123456Z)"
    kind = None
    invisible = "the timestamp is still RFC 3339: only a client that parses a fixed layout notices"

    @classmethod
    def qualifies(cls, info: FieldInfo, endpoint: EndpointView) -> bool:
        return _timestamp(info, endpoint)

    def change(self, holder: dict[str, Any], name: str, params: Params) -> None:
        if isinstance(holder[name], str):
            holder[name] = SECONDS.sub(r"\1.123456", holder[name], count=1)


class E164WithoutPlus(FieldDrift):
    id = "format.e164-without-plus"
    summary = "phone numbers lose their leading + (+4930123 becomes 4930123)"
    kind = "format-mismatch"

    @classmethod
    def qualifies(cls, info: FieldInfo, endpoint: EndpointView) -> bool:
        return info.format == "e164"

    @classmethod
    def matches(cls, finding: Reported) -> bool:
        return bool(finding.expected == "e164")

    def change(self, holder: dict[str, Any], name: str, params: Params) -> None:
        if isinstance(holder[name], str):
            holder[name] = holder[name].lstrip("+")


class NewEnumValue(FieldDrift):
    id = "enum.new-value"
    summary = "an enum field takes a value the docs do not list"
    kind = "enum-value-unknown"
    params = (FIELD, Param("value", "string", "the new value"))

    @classmethod
    def qualifies(cls, info: FieldInfo, endpoint: EndpointView) -> bool:
        return bool(info.enum)

    @classmethod
    def extra_defaults(cls) -> dict[str, Any]:
        return {"value": "drifted"}

    @classmethod
    def matches(cls, finding: Reported) -> bool:
        return isinstance(finding.observed, str | int | float) and not isinstance(finding.observed, bool)

    @classmethod
    def read_extra(cls, finding: Reported) -> dict[str, Any]:
        return {"value": str(finding.observed)}

    def change(self, holder: dict[str, Any], name: str, params: Params) -> None:
        holder[name] = params["value"]


class Undocumented(Drift):
    id = "field.undocumented"
    summary = "every item gains a field the docs do not describe"
    kind = "undocumented-property"
    params = (
        Param("name", "string", "the new field's name"),
        Param("value", "string", "its value"),
    )

    @classmethod
    def targets(cls, vendor: VendorView) -> list[Target]:
        return [
            Target(endpoint.path, {"name": "drift_note", "value": "added by the vendor"})
            for endpoint in vendor.endpoints
            if endpoint.items is not None and endpoint.field("drift_note") is None
        ]

    @classmethod
    def from_finding(cls, finding: Reported, target: Target, endpoint: EndpointView | None) -> Params | None:
        name = finding.item_field(endpoint)
        if finding.kind != cls.kind or name is None or "." in name:
            return None
        value = finding.observed
        shown = value if isinstance(value, str) else str(target.defaults.get("value", ""))
        return {"name": name, "value": shown}

    def respond(self, answer: Exchange, params: Params, endpoint: EndpointView | None) -> None:
        for item in items_of(answer, endpoint):
            item.setdefault(str(params["name"]), params["value"])


class Wrapped(Drift):
    id = "envelope.wrapped"
    summary = "the whole answer is wrapped in one more object ({KEY: answer})"
    kind = "required-property-missing"
    params = (Param("key", "string", "the wrapping object's one key"),)

    @classmethod
    def targets(cls, vendor: VendorView) -> list[Target]:
        found = []
        for endpoint in vendor.endpoints:
            # an object envelope wrapped loses its required members; a bare list becomes an object
            kind = None if isinstance(endpoint.envelope, dict) else "type-mismatch"
            found.append(Target(endpoint.path, {"key": "result"}, kind=kind))
        return found

    @classmethod
    def from_finding(cls, finding: Reported, target: Target, endpoint: EndpointView | None) -> Params | None:
        # a bare list now an object (an object envelope wrapped reads as members missing: not replayed)
        wrapped = finding.kind == "type-mismatch" and finding.generic in ("", "/")
        return {} if wrapped and target.kind == "type-mismatch" and finding.expected == "array" else None

    def respond(self, answer: Exchange, params: Params, endpoint: EndpointView | None) -> None:
        if endpoint is not None and answer.status == 200 and answer.json is not None:
            answer.json = {str(params["key"]): answer.json}


class Unwrapped(Drift):
    id = "envelope.unwrapped"
    summary = "the envelope is dropped: the answer is the bare list of items"
    kind = "type-mismatch"

    @classmethod
    def targets(cls, vendor: VendorView) -> list[Target]:
        return [Target(endpoint.path) for endpoint in vendor.endpoints if endpoint.items]

    @classmethod
    def from_finding(cls, finding: Reported, target: Target, endpoint: EndpointView | None) -> Params | None:
        at_root = finding.kind == "type-mismatch" and finding.generic in ("", "/")
        listed = isinstance(finding.observed, str) and finding.observed.startswith("array")
        return {} if at_root and listed and finding.expected == "object" else None

    def respond(self, answer: Exchange, params: Params, endpoint: EndpointView | None) -> None:
        if endpoint is None or not endpoint.items or answer.status != 200:
            return
        listed = read(answer.json, endpoint.items)
        if isinstance(listed, list):
            answer.json = listed
