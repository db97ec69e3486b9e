"""A vendor's declarations as the drifts read them: where the items and paging signals sit in the envelope,
the item schema's fields (types, formats, enums, required), the filters, orders and page sizes.

Built once per vendor from the typed declarations and the schemas; nothing here names a vendor.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mockserver.declarations.model import EndpointSpec, VendorSpec
from mockserver.documents.fields import FieldSchema, resolved
from mockserver.documents.reading import read_json
from mockserver.documents.schemas import SchemaStore

Pointer = tuple[str, ...]
MAX_FIELD_DEPTH = 3
OPTION_PREFIX = "${opt:"


@dataclass(frozen=True)
class FieldInfo:
    """One field of the item schema: its dotted path and what the schema says of it."""

    path: str
    types: tuple[str, ...]
    required: bool
    format: str | None = None
    enum: tuple[Any, ...] = ()

    @property
    def nullable(self) -> bool:
        """Whether the schema allows null here."""
        return "null" in self.types or not self.types

    def has(self, kind: str) -> bool:
        """Whether the schema types it as ``kind`` (``integer`` counts as a ``number``)."""
        return kind in self.types or (kind == "number" and "integer" in self.types)


@dataclass(frozen=True)
class FilterInfo:
    """A declared filter: its query parameter, whether it narrows the list, and its documented values."""

    param: str
    narrows: bool
    enum: tuple[str, ...] = ()
    default: Any = None


@dataclass(frozen=True)
class EndpointView:
    """One list endpoint, as the drifts see it."""

    path: str
    key: str
    fields: tuple[FieldInfo, ...]
    envelope: Any
    items: Pointer | None
    signals: dict[str, Pointer] = field(default_factory=dict)  # role (total, more, next) -> pointer
    cursor_param: str | None = None
    movers: tuple[str, ...] = ()  # the parameters that move through pages (cursor, offset, page)
    size_param: str | None = None
    size_aliases: tuple[str, ...] = ()
    size_default: int | None = None
    size_max: int | None = None
    filters: tuple[FilterInfo, ...] = ()
    order_param: str | None = None
    order_options: tuple[str, ...] = ()
    order_default: str | None = None
    assumed: frozenset[str] = frozenset()  # what an option decides here: order, over_max, size-default

    def field(self, path: str) -> FieldInfo | None:
        """The field at ``path`` (dotted), if the item schema declares it."""
        return next((info for info in self.fields if info.path == path), None)


@dataclass(frozen=True)
class VendorView:
    """A vendor, as the drifts see it: its id, list endpoints, error templates and auth."""

    id: str
    endpoints: tuple[EndpointView, ...]
    errors: frozenset[str]
    auth_header: str
    spec: VendorSpec

    def endpoint(self, path: str) -> EndpointView | None:
        """The list endpoint at ``path``, if any."""
        return next((endpoint for endpoint in self.endpoints if endpoint.path == path), None)


def pointer_of(template: Any, placeholder: str, at: Pointer = ()) -> Pointer | None:
    """Where ``placeholder`` (``${items}``) stands in an envelope template; None when it does not."""
    if template == placeholder:
        return at
    if isinstance(template, dict):
        for name, value in template.items():
            found = pointer_of(value, placeholder, (*at, str(name)))
            if found is not None:
                return found
    return None


def read(document: Any, pointer: Pointer) -> Any:
    """The value at ``pointer`` (None when there is none)."""
    for name in pointer:
        if not isinstance(document, dict):
            return None
        document = document.get(name)
    return document


def write(document: Any, pointer: Pointer, value: Any) -> bool:
    """Set the value at ``pointer`` (which must exist but for its last step); False when it cannot."""
    if not pointer:
        return False
    parent = read(document, pointer[:-1])
    if not isinstance(parent, dict) or pointer[-1] not in parent:
        return False
    parent[pointer[-1]] = value
    return True


def _types(node: dict[str, Any]) -> tuple[str, ...]:
    found = node.get("type")
    if isinstance(found, str):
        return (found,)
    if isinstance(found, list):
        return tuple(str(item) for item in found)
    for combinator in ("anyOf", "oneOf"):
        branches = node.get(combinator)
        if isinstance(branches, list):
            return tuple(t for branch in branches if isinstance(branch, dict) for t in _types(branch))
    return ()


def _fields(
    store: SchemaStore, at: FieldSchema, prefix: str, required: bool, depth: int
) -> Iterator[FieldInfo]:
    node = resolved(store, at)
    properties = node.get("properties")
    if not isinstance(properties, dict) or depth > MAX_FIELD_DEPTH:
        return
    needed = set(node.get("required", ()))
    for name, child in properties.items():
        child_at = FieldSchema(at.file, child)
        merged = resolved(store, child_at)
        path = f"{prefix}{name}"
        enum = merged.get("enum")
        info = FieldInfo(
            path,
            _types(merged),
            required and name in needed,
            merged.get("format") if isinstance(merged.get("format"), str) else None,
            tuple(enum) if isinstance(enum, list) else (),
        )
        yield info
        if "object" in info.types:
            yield from _fields(store, child_at, f"{path}.", info.required, depth + 1)


def item_fields(store: SchemaStore, schema_file: Path) -> tuple[FieldInfo, ...]:
    """Every field of the item schema, top level first, nested objects' fields after their parent."""
    root = FieldSchema(schema_file.resolve(), store.contents(schema_file))
    return tuple(_fields(store, root, "", True, 0))


def _is_option(node: Any) -> bool:
    return isinstance(node, str) and node.startswith(OPTION_PREFIX)


def assumptions(raw: Any, endpoint: EndpointSpec) -> frozenset[str]:
    """What the vendor's options (assumptions where the docs are silent) decide at ``endpoint``, read from
    the raw declaration: the order's direction (``order``), a size above the maximum (``over_max``), the
    default page size (``size-default``). The monitor reports a change there as ``assumption-differs``."""
    if not isinstance(raw, dict):
        return frozenset()
    operation = raw.get("paths", {}).get(endpoint.path, {}).get("get", {})
    declaration = operation.get("x-emulator", {})
    found = set()
    order = declaration.get("order", {})
    keys = order.get("fixed") or next(iter(order.get("options", {}).values()), None)
    if keys and _is_option(keys[0][1]):
        found.add("order")
    if _is_option(declaration.get("paging", {}).get("over_max")):
        found.add("over_max")
    escaped = endpoint.path.replace("~", "~0").replace("/", "~1")
    names = [parameter.get("name") for parameter in operation.get("parameters", [])]
    for option in raw.get("x-emulator", {}).get("options", {}).values():
        for target in option.get("targets", ()):
            prefix, _, rest = str(target).partition(f"/paths/{escaped}/get/parameters/")
            index, _, keyword = rest.partition("/schema/")
            known = not prefix and index.isdigit() and keyword == "default" and int(index) < len(names)
            if known and names[int(index)] == endpoint.paging.size_param:
                found.add("size-default")
    return frozenset(found)


def _endpoint(spec: VendorSpec, endpoint: EndpointSpec, store: SchemaStore, raw: Any) -> EndpointView:
    dataset = spec.datasets[endpoint.dataset]
    pager = endpoint.paging
    envelope = endpoint.envelope
    signals: dict[str, Pointer] = {}
    for role in ("total", "more"):
        name = pager.signal(role)
        found = pointer_of(envelope, f"${{{name}}}") if name else None
        if found is not None:
            signals[role] = found
    cursor_param = getattr(pager.settings, "cursor_param", None)
    if cursor_param is not None:
        found = pointer_of(envelope, "${next_cursor}")
        if found is not None:
            signals["next"] = found
    size_param = pager.size_param
    aliases = set(getattr(pager.settings, "size_aliases", ()))
    movers = tuple(sorted(pager.paging_params - {size_param} - aliases))
    size_spec = endpoint.params.get(size_param) if size_param else None
    filters = tuple(
        FilterInfo(
            item.param,
            item.narrows,
            tuple(endpoint.params[item.param].enum or ()) if item.param in endpoint.params else (),
            endpoint.params[item.param].default if item.param in endpoint.params else None,
        )
        for item in endpoint.filters
    )
    order = endpoint.order
    order_default = None
    if order.param is not None and order.param in endpoint.params:
        default = endpoint.params[order.param].default
        order_default = str(default) if default is not None else None
    return EndpointView(
        path=endpoint.path,
        key=dataset.key,
        fields=item_fields(store, dataset.schema),
        envelope=envelope,
        items=pointer_of(envelope, "${items}"),
        signals=signals,
        cursor_param=cursor_param if isinstance(cursor_param, str) else None,
        movers=movers,
        size_param=size_param,
        size_aliases=tuple(sorted(aliases)),
        size_default=pager.default_size(),
        size_max=size_spec.maximum if size_spec is not None else None,
        filters=filters,
        order_param=order.param,
        order_options=tuple(order.options) if order.param is not None else (),
        order_default=order_default,
        assumed=assumptions(raw, endpoint),
    )


def vendor_view(spec: VendorSpec, store: SchemaStore) -> VendorView:
    """The drifts' view of one vendor's declarations."""
    auth_header = spec.auth.header or "Authorization"
    raw = read_json(spec.source)
    return VendorView(
        spec.id,
        tuple(_endpoint(spec, endpoint, store, raw) for endpoint in spec.endpoints),
        frozenset(spec.errors),
        auth_header,
        spec,
    )
