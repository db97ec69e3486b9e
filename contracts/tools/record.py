"""``contracts record``: snapshot a target's records into fixture files usable with ``serve --fixtures``.

For each dataset of each vendor, the endpoint that lists it most widely (no fixed ``where``, every
filter set to its "everything" value) is walked page by page. Records are validated against the item
schema (strictly, as the emulator loads fixtures); invalid ones are left out and reported. Credentials
are removed (every secret of the target, wherever it appears) and personal data is replaced by stable
fakes unless ``keep`` is set: phone numbers (E.164 strings), e-mail addresses, and names (fields whose
name ends in ``name``). A fake is derived from a hash of the original, so the same number gets the
same fake in every record and on every run.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from contracts.checks.endpoint import EndpointCheck
from contracts.targets.client import REDACTED, Redactor
from mockserver.declarations.model import EndpointSpec, VendorSpec
from mockserver.documents.schemas import SchemaStore
from mockserver.state.records import fixture_path

E164 = re.compile(r"^\+[1-9]\d{6,14}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MAX_RECORDS = 10_000
MAX_PAGES = 500
FAKE_SALT = b"vendor-emulator/record/v1"


def _digest(value: str) -> str:
    return hashlib.sha256(FAKE_SALT + value.encode()).hexdigest()


def fake_number(number: str) -> str:
    """A stable fake of an E.164 number: same length and country prefix, digits from a hash."""
    digits = str(int(_digest(number), 16))
    keep = 2 if len(number) > 8 else 1  # '+' and the first country-code digit(s)
    body = (digits * 2)[: len(number) - 1 - keep]
    return number[: 1 + keep] + body


def fake_email(address: str) -> str:
    """A stable fake address on a reserved domain."""
    return f"user-{_digest(address)[:10]}@example.com"


def fake_name(name: str) -> str:
    """A stable fake name."""
    return f"Name {_digest(name)[:8]}"


def anonymised(value: Any, key: str = "") -> Any:
    """``value`` with phone numbers, e-mails and names replaced by stable fakes."""
    if isinstance(value, dict):
        return {name: anonymised(item, name) for name, item in value.items()}
    if isinstance(value, list):
        return [anonymised(item, key) for item in value]
    if not isinstance(value, str) or not value:
        return value
    fake = None
    if E164.match(value):
        fake = fake_number(value)
    elif EMAIL.match(value) or "email" in key.lower():
        fake = fake_email(value)
    elif key.lower().endswith("name"):
        fake = fake_name(value)
    return value if fake is None else fake


def _without_secrets(value: Any, redactor: Redactor) -> tuple[Any, bool]:
    cleaned = redactor.value(value)
    return cleaned, json.dumps(cleaned, default=str) != json.dumps(value, default=str)


@dataclass
class Recorded:
    """What was recorded for one dataset."""

    vendor: str
    dataset: str
    path: Path
    records: list[Any] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)


def widest_listing(spec: VendorSpec, dataset: str) -> EndpointSpec | None:
    """The endpoint that lists a dataset most widely: no fixed filter, the fewest filters."""
    candidates = [e for e in spec.endpoints if e.dataset == dataset]
    candidates.sort(key=lambda e: (bool(e.where), len(e.filters)))
    return candidates[0] if candidates else None


def everything(endpoint: EndpointSpec) -> dict[str, Any]:
    """Filter settings that list every record (a filter's match-all value, an include flag set)."""
    params: dict[str, Any] = {}
    for declared in endpoint.filters:
        params.update(declared.everything())
    return params


def pages(check: EndpointCheck) -> Iterator[list[Any]]:
    """Every page of the endpoint, at the widest page size, with every record included, walked the way
    its paging style says a client walks it."""
    pager = check.endpoint.paging
    size = next(iter(check.widest().values()), None)
    params: dict[str, Any] | None = {
        **everything(check.endpoint),
        **check.widest(),
        **pager.first_query(size),
    }
    for _ in range(MAX_PAGES):
        if params is None:
            return
        response = check.request(params)
        body = check.json_body(response)
        yield check.items(body)
        params = pager.next_query(check.seen(params, response, body), size)


def record_dataset(check: EndpointCheck, store: SchemaStore, out: Path, *, keep: bool) -> Recorded:
    """Walk one listing and return its valid, cleaned records."""
    spec = check.vendor
    dataset = spec.datasets[check.endpoint.dataset]
    result = Recorded(spec.id, dataset.name, fixture_path(out, spec.id, dataset))
    seen: set[Any] = set()
    for items in pages(check):
        for item in items:
            if len(result.records) >= MAX_RECORDS:
                result.rejected.append(f"more than {MAX_RECORDS} records: the rest was not recorded")
                return result
            cleaned, had_secret = _without_secrets(item, check.client.redactor)
            if had_secret:
                result.rejected.append(f"a record contained a credential ({REDACTED}); left out")
                continue
            cleaned = cleaned if keep else anonymised(cleaned)
            key = cleaned.get(dataset.key) if isinstance(cleaned, dict) else None
            errors = store.errors(dataset.schema, cleaned, strict=True)
            if errors or key is None or repr(key) in seen:
                why = errors[0].message if errors else f"missing or duplicate {dataset.key}"
                result.rejected.append(f"{dataset.key}={key!r}: {why[:200]}")
                continue
            seen.add(repr(key))
            result.records.append(cleaned)
    return result


def write(recorded: Recorded, source: Mapping[str, Any]) -> None:
    """Write one fixture file."""
    recorded.path.parent.mkdir(parents=True, exist_ok=True)
    document = {
        "$comment": f"Recorded by contracts record from {source['target']} on {source['at']}",
        "records": recorded.records,
    }
    recorded.path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
