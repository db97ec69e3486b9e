"""What the emulator holds in memory: per vendor and tenant, the current dataset of each kind.

Datasets are immutable; changing data builds a new one and swaps a dictionary entry, so a reader
sees the old data or the new, never a mix. Tenants without data of their own share the vendor's
fixture datasets (sharing is safe because nothing mutates them).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from mockserver.data.dataset import Dataset, SortKey
from mockserver.data.seeding import complete
from mockserver.declarations.model import VendorSpec
from mockserver.documents.fields import key_schema
from mockserver.documents.schemas import SchemaStore
from mockserver.limits import DEFAULT_LIMITS, Limits
from mockserver.state.backends import InMemory, SharedState
from mockserver.state.prepared import PreparedCache
from mockserver.state.records import (
    checked_records,
    collector_paused,
    fixture_bytes,
    fixture_path,
    fixture_records,
    load_fixture,
)


class RecordLimitError(ValueError):
    """A seed would go beyond a record budget (mockserver.limits); nothing was changed."""


def data_part(tenant: str, name: str) -> str:
    """The shared-state part that holds ``tenant``'s own records of kind ``name``."""
    return f"data:{tenant}\x00{name}"


def first_orderings(spec: VendorSpec, name: str) -> list[tuple[SortKey, ...]]:
    """The orders the endpoints over dataset ``name`` list in by default: built with the dataset, while
    its records are read anyway, rather than by the first request."""
    found = []
    for endpoint in spec.endpoints:
        order = endpoint.order
        if endpoint.dataset != name:
            continue
        if order.param is None:
            found.append(order.keys_for({}))
            continue
        param = endpoint.params.get(order.param)
        default = None if param is None else param.default
        if default is not None and str(default) in order.options:
            found.append(order.keys_for({order.param: default}))
    return list(dict.fromkeys(found))


class VendorDatasets:
    """The datasets one vendor serves: its fixtures, and each tenant's own records."""

    def __init__(
        self,
        spec: VendorSpec,
        store: SchemaStore,
        fixtures_dir: Path,
        limits: Limits = DEFAULT_LIMITS,
        shared: SharedState | None = None,
        *,
        prepared: PreparedCache | None = None,
    ) -> None:
        """``prepared``: where large fixture files are kept prepared (None: always the full load, as
        ``check`` wants: it validates every record)."""
        self.spec = spec
        self.prepared = prepared
        self.limits = limits
        self.shared: SharedState = shared or InMemory()
        self.store = store
        self.fixtures_dir = fixtures_dir
        self._fixtures = {name: self._load_fixture(name) for name in spec.datasets}
        self._tenants: dict[tuple[str, str], Dataset] = {}
        self._writing = threading.Lock()  # a seed reads the current data before it writes: one at a time

    def _load_fixture(self, name: str) -> Dataset:
        dataset = self.spec.datasets[name]
        path = fixture_path(self.fixtures_dir, self.spec.id, dataset)
        orderings = first_orderings(self.spec, name)
        raw = fixture_bytes(path)
        prepared, digest = self.prepared, None
        if prepared is not None and prepared.wanted(raw):
            digest = prepared.digest(raw, self.store, dataset.schema, dataset.key, orderings)
            found = prepared.load(digest, dataset.key, orderings)
            if found is not None:
                return found
        with collector_paused():
            records = fixture_records(path, raw)
            del raw  # the parsed records replace the bytes
            loaded = load_fixture(self.store, path, dataset, records, orderings)
        if prepared is not None and digest is not None:
            prepared.save(digest, loaded, orderings)
        return loaded

    def dataset(self, tenant: str, name: str) -> Dataset:
        """The dataset ``name`` as ``tenant`` sees it."""
        own = self._tenants.get((tenant, name))
        return self._fixtures[name] if own is None else own

    def replace(self, tenant: str, name: str, records: Iterable[Mapping[str, Any]]) -> Dataset:
        """Give ``tenant`` its own records of kind ``name``; all are checked before anything changes."""
        spec = self.spec.datasets[name]
        dataset = Dataset(checked_records(self.store, spec, records), spec.key)
        if self.shared.shared:  # stored for every process first: nothing changes here if that fails
            self.shared.put(self.spec.id, data_part(tenant, name), dataset.json_array(range(len(dataset))))
        self._tenants[(tenant, name)] = dataset
        return dataset

    def applied(self, tenant: str, name: str, records: list[Mapping[str, Any]] | None) -> None:
        """Another process changed ``tenant``'s records (already checked there): mirror it here."""
        if name not in self.spec.datasets:
            return
        if records is None:
            self._tenants.pop((tenant, name), None)
        else:
            self._tenants[(tenant, name)] = Dataset(records, self.spec.datasets[name].key)

    def seed(
        self,
        tenant: str,
        name: str,
        records: Iterable[Mapping[str, Any]],
        *,
        mode: str = "replace",
        fill: bool = True,
    ) -> Dataset:
        """Replace (or extend) ``tenant``'s records of kind ``name``; partial records are completed.

        Everything is checked before anything changes: an invalid record raises InvalidRecord and the
        tenant keeps the data it had.
        """
        with self.shared.exclusive(self.spec.id), self._writing:  # the caps count every process's records
            return self._seed(tenant, name, records, mode=mode, fill=fill)

    def _seed(
        self, tenant: str, name: str, records: Iterable[Mapping[str, Any]], *, mode: str, fill: bool
    ) -> Dataset:
        if mode not in ("replace", "extend"):
            raise ValueError(f"mode must be 'replace' or 'extend', got {mode!r}")
        if name not in self.spec.datasets:
            raise ValueError(f"{self.spec.id} has no dataset {name!r}; it has {sorted(self.spec.datasets)}")
        records = list(records)
        current = self.dataset(tenant, name)
        kept = list(current.records) if mode == "extend" else []
        self._check_counts(tenant, name, len(records), len(kept))
        spec = self.spec.datasets[name]
        taken = [record[spec.key] for record in kept]
        schema = key_schema(self.store, spec.schema, spec.key)
        templates = self._fixtures[name].records
        new = complete(records, templates, spec.key, taken, schema) if fill else list(records)
        return self.replace(tenant, name, [*kept, *new])

    def _check_counts(self, tenant: str, name: str, new: int, kept: int) -> None:
        limits = self.limits
        if new > limits.max_records_per_seed:
            raise RecordLimitError(
                f"{new} records in one seed; at most {limits.max_records_per_seed} (--max-records-per-seed)"
            )
        if new + kept > limits.max_records_per_tenant:
            raise RecordLimitError(
                f"{new + kept} records of {name!r} for one tenant; at most {limits.max_records_per_tenant}"
                " (--max-records-per-tenant)"
            )
        others = sum(len(data) for key, data in self._tenants.items() if key != (tenant, name))
        if others + new + kept > limits.max_records_total:
            raise RecordLimitError(
                f"{others + new + kept} seeded records of {self.spec.id} in all; at most"
                f" {limits.max_records_total} (--max-records-total)"
            )

    def own_datasets(self) -> dict[tuple[str, str], Dataset]:
        """Every tenant's own datasets, by (tenant, dataset name)."""
        return dict(self._tenants)

    def tenants(self) -> list[tuple[str, str]]:
        """The (tenant, dataset) pairs that have data of their own."""
        return list(self._tenants)

    def forget(self, tenant: str) -> None:
        """Drop ``tenant``'s own data; it sees the fixtures again."""
        for key in [key for key in self._tenants if key[0] == tenant]:
            self.shared.put(self.spec.id, data_part(*key), None)
            del self._tenants[key]

    def reset(self) -> None:
        """Forget every tenant's own data; everyone sees the fixtures again."""
        self._tenants.clear()
