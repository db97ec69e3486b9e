"""Records from fixture files and from seeding, validated against their item schema before use."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
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
    """The records, if every one is valid (strictly: closed objects, formats) and keys are unique."""
    checked: list[Mapping[str, Any]] = []
    seen: set[Any] = set()
    validator = store.validator(dataset.schema, strict=True)
    for number, record in enumerate(records):
        errors = sorted(validator.iter_errors(record), key=lambda error: list(error.absolute_path))
        if errors:
            raise InvalidRecord(f"record {number}: {describe(errors[0])}")
        key = record[dataset.key]
        if key in seen:
            raise InvalidRecord(f"record {number}: duplicate {dataset.key} {key!r}")
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
