"""``mockserver check``: lint every vendor's declarations, one line per problem with its file and pointer.

Loading already refuses what would break a request (a malformed declaration, an undeclared parameter, an
invalid fixture). The linter adds what loading cannot see on its own but a user would trip over later:

* a filter, search, sort or ``where`` on a field the record schema does not declare (through ``$ref``s
  and dotted paths): every filtered request would be an empty 200, every sort a silent mis-sort;
* an envelope whose pages (first, middle, last, and over no records) do not match the 200 schema;
* a host or a mount that two vendors claim;
* a documented parameter the emulator does not use (it would be accepted and silently ignored);
* a dataset key the seeder cannot fill: seeded records whose fresh key breaks the key's schema;
* a write (search, create, update, delete) naming a field its dataset's or catalogue's schema does not
  declare: a search would match nothing, an update would write a field no list shows.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mockserver.authoring.lint_pages import envelope_problems
from mockserver.data.patterns import UnsupportedPattern
from mockserver.data.seeding import complete
from mockserver.declarations.loading import discover_vendors, load_vendor
from mockserver.declarations.model import EndpointSpec, VendorSpec, WriteSpec
from mockserver.documents.explain import pointer
from mockserver.documents.fields import field_schemas, key_schema
from mockserver.documents.reading import read_json
from mockserver.documents.schemas import SchemaStore
from mockserver.engine.pipeline import Endpoint
from mockserver.engine.routing import canonical
from mockserver.errors import DeclarationError, EmulatorError
from mockserver.kinds.cursors import CursorCodec
from mockserver.state.datasets import VendorDatasets

Check = Callable[[SchemaStore, "Loaded"], Iterable["Problem"]]
MOUNT = re.compile(r"^[a-z0-9][a-z0-9-]*$")
SEEDED = 3


@dataclass(frozen=True)
class Problem:
    """One problem: the file, the JSON pointer into it, and what is wrong."""

    file: str
    pointer: str
    message: str

    def __str__(self) -> str:
        where = f"#{self.pointer}: " if self.pointer else ""
        return f"{self.file}: {where}{self.message}"


@dataclass(frozen=True)
class Loaded:
    """A vendor that loaded: its spec, its raw document, and its datasets (None if its fixtures failed)."""

    spec: VendorSpec
    raw: Mapping[str, Any]
    datasets: VendorDatasets | None


def _from_error(error: DeclarationError) -> Problem:
    where, colon, message = error.problem.partition(": ")
    if colon and where.startswith("#"):
        return Problem(error.source, where[1:], message)
    return Problem(error.source, "", error.problem)


def _operations(raw: Mapping[str, Any]) -> Iterator[tuple[str, Mapping[str, Any]]]:
    for path, item in raw.get("paths", {}).items():
        operation = item.get("get") if isinstance(item, dict) else None
        declared = operation.get("x-emulator") if isinstance(operation, dict) else None
        # a search is a GET with x-emulator too, but a write: _write_field_problems lints it
        if isinstance(operation, dict) and isinstance(declared, dict) and "operation" not in declared:
            yield path, operation


def _named_fields(declaration: Mapping[str, Any]) -> Iterator[tuple[list[Any], str, str]]:
    """(pointer parts under x-emulator, field, what names it) for every record field a declaration uses."""
    for number, item in enumerate(declaration.get("filters", [])):
        if "field" in item:
            yield ["filters", number, "field"], item["field"], f"filter {item['param']!r}"
        for index, name in enumerate(item.get("fields", [])):
            yield ["filters", number, "fields", index], name, f"search/filter {item['param']!r}"
    for name in declaration.get("where", {}):
        yield ["where", name], name, "where"
    order = declaration.get("order", {})
    for index, (name, _) in enumerate(order.get("fixed", [])):
        yield ["order", "fixed", index, 0], name, "fixed order"
    for option, keys in order.get("options", {}).items():
        for index, (name, _) in enumerate(keys):
            yield ["order", "options", option, index, 0], name, f"sort option {option!r}"


def _field_problems(store: SchemaStore, loaded: Loaded) -> Iterator[Problem]:
    spec, source = loaded.spec, str(loaded.spec.source)
    for name, dataset in spec.datasets.items():
        if not field_schemas(store, dataset.schema, dataset.key):
            message = f"key {dataset.key!r} is not a field of {dataset.schema.name}"
            yield Problem(source, pointer(["x-emulator", "datasets", name, "key"]), message)
    for path, operation in _operations(loaded.raw):
        declaration = operation["x-emulator"]
        dataset = spec.datasets[declaration["dataset"]]
        for parts, field, user in _named_fields(declaration):
            if not field_schemas(store, dataset.schema, field):
                yield Problem(
                    source,
                    pointer(["paths", path, "get", "x-emulator", *parts]),
                    f"{user} uses field {field!r}, which {dataset.schema.name} does not declare",
                )


def _write_fields(write: WriteSpec) -> Iterator[tuple[list[Any], str, str, str]]:
    """(pointer parts under x-emulator, field, what names it, "dataset" or "catalogue") of a write."""
    for param, rule in write.match.items():
        yield ["match", param, "field"], rule["field"], f"match {param!r}", "catalogue"
    for index, name in enumerate(write.copy):
        yield ["copy", index], name, "copy", "catalogue"
    if write.held_by is not None:
        yield ["held_by"], write.held_by, "held_by", "dataset"
    for index, name in enumerate(write.fields):
        yield ["fields", index], name, f"{write.operation}", "dataset"
    for index, name in enumerate(write.response_fields or ()):
        yield ["response_fields", index], name, "response_fields", "dataset"
    for name in write.deferred["where"] if write.deferred is not None else ():
        yield ["deferred", "where", name], name, "deferred where", "dataset"


def _write_field_problems(store: SchemaStore, loaded: Loaded) -> Iterator[Problem]:
    spec, source = loaded.spec, str(loaded.spec.source)
    for name, catalogue in spec.catalogues.items():
        if not field_schemas(store, catalogue.schema, catalogue.key):
            message = f"key {catalogue.key!r} is not a field of {catalogue.schema.name}"
            yield Problem(source, pointer(["x-emulator", "catalogues", name, "key"]), message)
    for write in spec.writes:
        dataset = spec.datasets.get(write.dataset or "")
        offered = spec.catalogues.get(write.catalogue or "")
        schemas = {
            "dataset": dataset.schema if dataset is not None else None,
            "catalogue": offered.schema if offered is not None else None,
        }
        for parts, field, user, owner in _write_fields(write):
            schema = schemas[owner]
            if schema is not None and not field_schemas(store, schema, field):
                yield Problem(
                    source,
                    pointer(["paths", write.path, write.method, "x-emulator", *parts]),
                    f"{user} uses field {field!r}, which {schema.name} does not declare",
                )


def _used_params(endpoint: EndpointSpec) -> set[str]:
    used = set(endpoint.paging.paging_params)
    used |= {param for item in endpoint.filters for param in item.params}
    if endpoint.order.param is not None:
        used.add(endpoint.order.param)
    return used


def _param_problems(store: SchemaStore, loaded: Loaded) -> Iterator[Problem]:
    endpoints = {endpoint.path: endpoint for endpoint in loaded.spec.endpoints}
    for path, operation in _operations(loaded.raw):
        used = _used_params(endpoints[path])
        for number, parameter in enumerate(operation.get("parameters", [])):
            if parameter.get("name") not in used:
                yield Problem(
                    str(loaded.spec.source),
                    pointer(["paths", path, "get", "parameters", number]),
                    f"documented parameter {parameter.get('name')!r} is not declared to the emulator "
                    "(no filter, order or paging names it), so it would be accepted and ignored",
                )


def _unique_problems(vendors: list[Loaded]) -> Iterator[Problem]:
    """Mounts (``/<id>``) are lowercase so that no two differ only in case; no host has two vendors; no
    two documents share a title (Schemathesis picks a ``[[project]]``, credentials included, by title)."""
    owners: dict[str, str] = {}
    titles: dict[str, str] = {}
    for loaded in vendors:
        spec, source = loaded.spec, str(loaded.spec.source)
        info = spec.openapi.get("info")
        title = info.get("title") if isinstance(info, dict) else None
        if isinstance(title, str):
            other = titles.setdefault(title, spec.id)
            if other != spec.id:
                message = (
                    f"title {title!r} is also the title of vendor {other}'s document: schemathesis-config"
                    " tells vendors apart by title"
                )
                yield Problem(source, pointer(["info", "title"]), message)
        if not MOUNT.match(spec.id):
            message = f"mount /{spec.id}: a vendor id (its folder name) is lowercase letters, digits and '-'"
            yield Problem(source, "", message)
        for number, host in enumerate(spec.hosts):
            owner = owners.setdefault(canonical(host), spec.id)
            if owner != spec.id:
                message = f"host {host!r} is also claimed by vendor {owner}"
                yield Problem(source, pointer(["x-emulator", "hosts", number]), message)


def _seeding_problems(store: SchemaStore, loaded: Loaded) -> Iterator[Problem]:
    if loaded.datasets is None:
        return
    spec = loaded.spec
    for name, dataset in spec.datasets.items():
        where = pointer(["x-emulator", "datasets", name, "key"])
        templates = loaded.datasets.dataset("default", name).records
        if not templates:
            continue
        schema = key_schema(store, dataset.schema, dataset.key)
        try:
            seeded = complete(
                [{}] * SEEDED, templates, dataset.key, [r[dataset.key] for r in templates], schema
            )
        except UnsupportedPattern as error:
            yield Problem(str(spec.source), where, f"the seeder cannot draw a {dataset.key!r}: {error}")
            continue
        for record in seeded:
            errors = [
                e for e in store.errors(dataset.schema, record) if list(e.absolute_path)[:1] == [dataset.key]
            ]
            if errors:
                message = f"a seeded key {record[dataset.key]!r} breaks the key's schema: {errors[0].message}"
                yield Problem(str(spec.source), where, message)
                break


def _envelope_problems(store: SchemaStore, loaded: Loaded) -> Iterator[Problem]:
    if loaded.datasets is None:
        return
    codec = CursorCodec("lint")
    for endpoint in loaded.spec.endpoints:
        served = Endpoint(loaded.spec, endpoint, loaded.datasets, codec)
        where = pointer(["paths", endpoint.path, "get", "x-emulator", "envelope"])
        for message in envelope_problems(store, served, endpoint):
            yield Problem(str(loaded.spec.source), where, message)


def _load(schemas_dir: Path, fixtures_dir: Path, store: SchemaStore, problems: list[Problem]) -> list[Loaded]:
    vendors = []
    for vendor_id in discover_vendors(schemas_dir):
        try:
            spec = load_vendor(schemas_dir / vendor_id, store)
        except DeclarationError as error:
            problems.append(_from_error(error))
            continue
        datasets = None
        try:
            datasets = VendorDatasets(spec, store, fixtures_dir)
        except DeclarationError as error:
            problems.append(_from_error(error))
        vendors.append(Loaded(spec, read_json(spec.source), datasets))
    return vendors


def lint(schemas_dir: Path, fixtures_dir: Path) -> tuple[list[Loaded], list[Problem]]:
    """Every vendor that loaded, and every problem found, in a stable order."""
    problems: list[Problem] = []
    try:
        store = SchemaStore(schemas_dir)
    except EmulatorError as error:
        source = error.source if isinstance(error, DeclarationError) else str(schemas_dir)
        return [], [Problem(source, "", str(error))]
    vendors = _load(schemas_dir, fixtures_dir, store, problems)
    problems += _unique_problems(vendors)
    for loaded in vendors:
        checks = (
            _field_problems,
            _write_field_problems,
            _param_problems,
            _seeding_problems,
            _envelope_problems,
        )
        for check in checks:
            problems += _guarded(check, store, loaded)
    return vendors, problems


def _guarded(check: Check, store: SchemaStore, loaded: Loaded) -> list[Problem]:
    """A check's problems; a check that breaks on an odd declaration reports that, not a traceback."""
    try:
        return list(check(store, loaded))
    except Exception as error:  # noqa: BLE001 - any failure of a check is a problem of the declaration
        return [Problem(str(loaded.spec.source), "", f"{check.__name__.strip('_')} failed: {error!r}")]
