"""Records from fixture files and from seeding, validated against their item schema before use."""

from __future__ import annotations

import gc
from collections.abc import Hashable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson

from mockserver.data.dataset import Dataset, SortKey
from mockserver.declarations.model import DatasetSpec
from mockserver.documents.reading import read_json
from mockserver.documents.schemas import SchemaStore, describe
from mockserver.errors import DeclarationError


class InvalidRecord(ValueError):  # noqa: N818 - reads as the problem it reports
    """A record breaks its schema; the message names the record, the field and the rule."""


def fixture_path(fixtures_dir: Path, vendor_id: str, dataset: DatasetSpec) -> Path:
    """Where a dataset's seed records live: ``<fixtures>/<vendor>/<dataset>.json``."""
    return fixtures_dir / vendor_id / f"{dataset.name}.json"


def checked_records(
    store: SchemaStore, dataset: DatasetSpec, records: Iterable[Any]
) -> Iterator[Mapping[str, Any]]:
    """The records, checked one at a time: each valid (strictly: closed objects, formats), keys unique.

    Valid records are confirmed by the fast validator; the first invalid one is explained by the
    reference validator, so the message of the InvalidRecord raised names the field and the rule.
    A consumer that builds something from the records must discard it when this raises (Dataset does:
    the swap happens only once every record has been read).
    """
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
        yield record


def check_all(store: SchemaStore, dataset: DatasetSpec, records: list[Any]) -> None:
    """Check every record as :func:`checked_records` does, and raise the same InvalidRecord for the first
    bad one; in bulk while they are all good (one pass of the validator over the list, one set of keys)."""
    is_valid = store.fast_check(dataset.schema)
    if all(map(is_valid, records)):
        try:
            keys = [record[dataset.key] for record in records]
            if len(set(keys)) == len(keys):
                return
        except (KeyError, TypeError):  # a missing or unusable key: said below, for the record that has it
            pass
    for _ in checked_records(store, dataset, records):  # the first bad record, named and explained
        pass


@contextmanager
def collector_paused() -> Iterator[None]:
    """The cyclic garbage collector off for a while: while a fixture file's records are parsed, checked and
    packed. They are many containers that live a moment and make no cycles; a collection meanwhile only
    walks them (about 60 ms of a 100,000-record load). Whatever it would have found is collected later."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def fixture_bytes(path: Path) -> bytes:
    """A fixture file's bytes (a missing file is a DeclarationError naming it)."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise DeclarationError(path, "file not found") from None


def read_fixture(path: Path, raw: bytes | None = None) -> Any:
    """A fixture file's document, parsed by orjson (fast, compact); read_json explains a broken file."""
    if raw is None:
        raw = fixture_bytes(path)
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as error:
        read_json(path)  # raises with the line and column when the file is not JSON at all
        raise DeclarationError(path, f"not portable JSON: {error}") from None


def fixture_records(path: Path, raw: bytes | None = None) -> list[Any]:
    """The records of a fixture file, ``{"records": [...]}`` (or of its bytes ``raw``, read already), as
    parsed: not checked yet."""
    document = read_fixture(path, raw)
    del raw
    if not isinstance(document, dict) or not isinstance(document.get("records"), list):
        raise DeclarationError(path, 'a fixture file is an object with a "records" array')
    records: list[Any] = document.pop("records")
    return records


def load_fixture(
    store: SchemaStore,
    path: Path,
    dataset: DatasetSpec,
    records: list[Any],
    orderings: Iterable[tuple[SortKey, ...]] = (),
) -> Dataset:
    """The dataset of a fixture file's parsed ``records`` (which it takes over), once every record is
    checked; the first bad one is refused with a DeclarationError naming the file, the record and the rule."""
    try:
        check_all(store, dataset, records)
    except InvalidRecord as error:
        raise DeclarationError(path, str(error)) from None
    return Dataset.loaded(records, dataset.key, orderings)
