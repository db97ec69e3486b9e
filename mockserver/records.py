"""Records from fixture files and from seeding, validated against their item schema before use."""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from pathlib import Path
from typing import Any

from mockserver.documents import read_json
from mockserver.errors import DeclarationError
from mockserver.schemas import SchemaStore, describe
from mockserver.vendor import DatasetSpec


class InvalidRecord(ValueError):  # noqa: N818 - reads as the problem it reports
    """A record breaks its schema; the message names the record, the field and the rule."""


def fixture_path(fixtures_dir: Path, vendor_id: str, dataset: DatasetSpec) -> Path:
    """Where a dataset's seed records live: ``<fixtures>/<vendor>/<dataset>.json``."""
    return fixtures_dir / vendor_id / f"{dataset.name}.json"


def check_records(
    store: SchemaStore, dataset: DatasetSpec, records: Iterable[Any]
) -> list[Mapping[str, Any]]:
    """The records, if every one is valid (strictly: closed objects, formats) and keys are unique.

    Valid records are confirmed by the fast validator; the first invalid one is explained by the
    reference validator, so the message names the field and the rule.
    """
    checked: list[Mapping[str, Any]] = []
    seen: set[Any] = set()
    is_valid = store.fast_check(dataset.schema)
    for number, record in enumerate(records):
        if not is_valid(record):
            errors = store.errors(dataset.schema, record, strict=True)
            problem = describe(errors[0]) if errors else "does not match its schema"
            raise InvalidRecord(f"record {number}: {problem}")
        key = record[dataset.key]
        if not isinstance(key, Hashable) or key in seen:
            raise InvalidRecord(f"record {number}: duplicate or unusable {dataset.key} {key!r}")
        seen.add(key)
        checked.append(record)
    return checked


def load_fixture(store: SchemaStore, path: Path, dataset: DatasetSpec) -> list[Mapping[str, Any]]:
    """Read and check a fixture file: ``{"records": [...]}``."""
    document = read_json(path)
    if not isinstance(document, dict) or not isinstance(document.get("records"), list):
        raise DeclarationError(path, 'a fixture file is an object with a "records" array')
    try:
        return check_records(store, dataset, document["records"])
    except InvalidRecord as error:
        raise DeclarationError(path, str(error)) from None
