"""The bulk check gives the strict verdict: the same values accepted and refused, only faster.

``SchemaStore.fast_check`` first asks jsonschema-rs a narrowed copy of the strict schemas (the E.164,
date-time and UUID formats as regular expressions, no Python callback) and asks the strict schemas with
the Python format checks only about what that refuses. These tests hold it to the strict verdict: per
format on edge cases and many generated values, on whole records, and where a narrower subschema
would make the schema around it accept more (``not``, ``if``, ``oneOf``).
"""

from __future__ import annotations

import json
import random
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest

from mockserver.declarations.loading import discover_vendors, load_vendor
from mockserver.documents.schemas import (
    FORMAT_CHECKS,
    NARROW_PATTERNS,
    SchemaStore,
    is_e164,
    is_rfc3339,
    is_uuid,
)
from mockserver.state.records import fixture_path
from tests.conftest import ROOT

UUID = "123e4567-e89b-12d3-a456-426614174000"
EDGES: dict[str, list[str]] = {
    "e164": [
        "+15551234567", "+1234567", "+123456", "+123456789012345", "+1234567890123456", "+0123456789",
        "15551234567", "+1555123456\n", "+1555123456\n\n", " +15551234567", "+1555 1234567", "+",
        "+\u0661\u0665\u0665\u0665\u0661\u0662\u0663\u0664\u0665\u0666\u0667", "+15551234567Z", "",
    ],
    "date-time": [
        "2024-01-15T10:30:00Z", "2024-01-15t10:30:00z", "2024-01-15T10:30:00z", "2024-01-15 10:30:00Z",
        "2024-02-29T00:00:00Z", "2023-02-29T00:00:00Z", "1900-02-29T00:00:00Z", "2000-02-29T00:00:00Z",
        "2024-04-31T00:00:00Z", "2024-04-30T00:00:00Z", "2024-12-31T23:59:59Z", "2024-12-31T23:59:60Z",
        "2024-01-15T24:00:00Z", "2024-01-15T10:60:00Z", "0000-01-01T00:00:00Z", "0001-01-01T00:00:00Z",
        "9999-12-31T23:59:59Z", "0400-02-29T00:00:00Z", "0100-02-29T00:00:00Z", "0004-02-29T00:00:00Z",
        "2024-13-01T00:00:00Z", "2024-00-10T00:00:00Z", "2024-01-00T00:00:00Z", "2024-01-32T00:00:00Z",
        "2024-01-15T10:30:00.123456789Z", "2024-01-15T10:30:00.Z", "2024-01-15T10:30:00,5Z",
        "2024-01-15T10:30:00+23:59", "2024-01-15T10:30:00+24:00", "2024-01-15T10:30:00+23:60",
        "2024-01-15T10:30:00+05:75", "2024-01-15T10:30:00-00:00", "2024-01-15T10:30:00+0000",
        "2024-01-15T10:30:00Z\n", "2024-01-15T10:30Z", "\uff12\uff10\uff12\uff14-01-15T10:30:00Z",
        "2024-01-15T10:30:00.1234567\u0663Z", "2024-01-15T10:30:00.\u0661Z", "2024-01-15T10:30:00", "",
    ],
    "uuid": [
        UUID, UUID.upper(), UUID + "\n", "{" + UUID + "}", UUID.replace("-", ""), "urn:uuid:" + UUID,
        UUID[:-1] + "g", UUID[:-1], UUID + "0", UUID[:8] + "_" + UUID[9:],
        "00000000-0000-0000-0000-000000000000",
        UUID[:13] + UUID[14:18] + "-" + UUID[18:], "",
    ],
}  # fmt: skip
ODD = [
    "",
    "\n",
    " ",
    "0",
    "9",
    "Z",
    "z",
    "T",
    "t",
    "-",
    "+",
    ":",
    ".",
    ",",
    "٣",
    "\uff10",
    "é",
    "\x00",
    "60",
    "24",
]


def _mutated(rng: random.Random, value: str) -> str:
    """``value`` with, now and then, one character replaced, inserted or removed."""
    for _ in range(2):
        if rng.random() < 0.2 and value:
            at = rng.randrange(len(value) + 1)
            character = rng.choice([*ODD, rng.choice("0123456789abcdefABCDEFgG-+:.TZ")])
            value = rng.choice(
                [
                    value[:at] + character + value[at + 1 :],
                    value[:at] + character + value[at:],
                    value[:at] + value[at + 1 :],
                ]
            )
    return value


def _digits(rng: random.Random, width: int, high: int) -> str:
    return str(rng.randint(0, high)).zfill(width)


def _date_time(rng: random.Random) -> str:
    def part(normal: Callable[[], str], *odd: str) -> str:
        return normal() if rng.random() < 0.85 else rng.choice([*odd, *ODD])

    offset = rng.choice(["Z", "-00:00", "+23:59", "+24:00", "+05:75"])
    if rng.random() < 0.5:
        offset = rng.choice("+-") + _digits(rng, 2, 25) + ":" + _digits(rng, 2, 99)
    fraction = "." + "".join(rng.choice("0123456789") for _ in range(rng.randint(0, 12)))
    value = (
        part(lambda: rng.choice([_digits(rng, 4, 9999), "0000", "0400", "1900", "2000", "2024"]), "12345")
        + "-" + part(lambda: _digits(rng, 2, 13), "1") + "-" + part(lambda: _digits(rng, 2, 32), "1")
        + part(lambda: "T", "t", " ") + part(lambda: _digits(rng, 2, 25), "1") + ":" + _digits(rng, 2, 61)
        + ":" + part(lambda: rng.choice([_digits(rng, 2, 61), "59", "60"]), "1", "")
        + (part(lambda: fraction, ",5", ".٣") if rng.random() < 0.4 else "")
        + part(lambda: offset, "z", "+0100", "+01")
    )  # fmt: skip
    return _mutated(rng, value)


def _uuid(rng: random.Random) -> str:
    value = "-".join(
        "".join(rng.choice("0123456789abcdefABCDEF") for _ in range(n)) for n in (8, 4, 4, 4, 12)
    )
    value = rng.choice([value] * 6 + [value.replace("-", ""), "{" + value + "}", value + "\n"])
    return _mutated(rng, value)


def _e164(rng: random.Random) -> str:
    return _mutated(rng, "+" + "".join(rng.choice("0123456789") for _ in range(rng.randint(4, 17))))


GENERATED = {"e164": _e164, "date-time": _date_time, "uuid": _uuid}


def values(name: str, count: int = 4000) -> Iterator[str]:
    """The edge cases of format ``name``, then ``count`` generated values (the same on every run)."""
    yield from EDGES[name]
    rng = random.Random(f"fast-check {name}")
    for _ in range(count):
        yield GENERATED[name](rng)


def store_of(directory: Path, schemas: dict[str, Any]) -> SchemaStore:
    for name, body in schemas.items():
        (directory / name).write_text(json.dumps(body))
    return SchemaStore(directory)


@pytest.fixture
def formats(tmp_path: Path) -> SchemaStore:
    """One schema per format (as strings, and under the keywords where narrowing must not be used)."""
    schemas: dict[str, Any] = {}
    for name in FORMAT_CHECKS:
        plain = f"{name}.json"
        schemas[plain] = {"type": "string", "format": name}
        schemas[f"not-{name}.json"] = {"not": {"$ref": plain}}
        schemas[f"if-{name}.json"] = {"if": {"$ref": plain}, "then": {"const": "never"}}
        schemas[f"one-of-{name}.json"] = {"oneOf": [{"$ref": plain}, {"type": "string", "minLength": 1}]}
    return store_of(tmp_path, schemas)


@pytest.mark.parametrize("name", list(FORMAT_CHECKS))
def test_each_narrowed_pattern_accepts_only_what_the_python_check_accepts(name: str) -> None:
    narrowed = jsonschema_rs.validator_for({"pattern": NARROW_PATTERNS[name]}).is_valid
    check = FORMAT_CHECKS[name]
    wrongly = [value for value in values(name) if narrowed(value) and not check(value)]
    assert wrongly == []
    assert any(narrowed(value) for value in EDGES[name]), "the pattern accepts the common values"


@pytest.mark.parametrize("name", list(FORMAT_CHECKS))
@pytest.mark.parametrize("where", ["", "not-", "if-", "one-of-"])
def test_the_fast_check_gives_the_strict_verdict_for_every_value(
    formats: SchemaStore, name: str, where: str
) -> None:
    path = formats.root / f"{where}{name}.json"
    fast = formats.fast_check(path)
    differ = [value for value in values(name) if fast(value) != (not formats.errors(path, value))]
    assert differ == []


def test_narrowing_is_not_used_where_a_narrower_subschema_would_accept_more(formats: SchemaStore) -> None:
    # Each of these is a valid date-time to the Python check but not to the narrowed pattern, so a
    # narrowed schema would take the other branch.
    value = "2024-01-15T10:30:00+05:75"
    assert is_rfc3339(value)
    for where, expected in (("", True), ("not-", False), ("if-", False), ("one-of-", False)):
        assert formats.fast_check(formats.root / f"{where}date-time.json")(value) is expected, where


def test_the_python_checks_keep_their_answers() -> None:
    """What the strict schemas (and `check`) have always said about each edge case; a uuid with a
    trailing newline is refused (it used to raise ValueError, a crash instead of a refusal), and so is an
    E.164 number with one (Python's ``$`` used to let it through)."""
    assert [value for value in EDGES["e164"] if is_e164(value)] == [
        "+15551234567", "+1234567", "+123456789012345"
    ]  # fmt: skip
    assert [value for value in EDGES["uuid"] if is_uuid(value)] == [
        UUID, UUID.upper(), "00000000-0000-0000-0000-000000000000"
    ]  # fmt: skip
    accepted = {value for value in EDGES["date-time"] if is_rfc3339(value)}
    assert "2024-01-15T10:30:00+05:75" in accepted
    assert not accepted & {"2024-01-15t10:30:00z", "2024-12-31T23:59:60Z", "0000-01-01T00:00:00Z"}


@pytest.fixture
def butter(tmp_path: Path) -> tuple[SchemaStore, Path, list[dict[str, Any]]]:
    shutil.copytree(ROOT / "schemas", tmp_path / "schemas")
    store = SchemaStore(tmp_path / "schemas")
    records = json.loads((ROOT / "fixtures" / "butter" / "phone-numbers.json").read_text())["records"]
    return store, tmp_path / "schemas" / "butter" / "phone-number.json", records


def test_whole_records_get_the_strict_verdict(butter: tuple[SchemaStore, Path, list[dict[str, Any]]]) -> None:
    store, path, records = butter
    fast = store.fast_check(path)
    rng = random.Random("fast-check records")
    odd: list[Any] = [None, 1, True, "", "x", [], {}, "2024-01-15t10:30:00z", "+1555123456\n", "agent_\n"]
    candidates: list[Any] = [*records, [], "record", None]
    for _ in range(3000):
        record = dict(rng.choice(records))
        name = rng.choice([*record, "extra", "status"])
        generated = {"created_at": _date_time, "phone_number": _e164}.get(name)
        if rng.random() < 0.2:
            record.pop(name, None)
        else:
            record[name] = generated(rng) if generated and rng.random() < 0.7 else rng.choice(odd)
        candidates.append(record)
    verdicts = [(fast(record), not store.errors(path, record)) for record in candidates]
    assert [candidate for candidate, (a, b) in zip(candidates, verdicts, strict=True) if a != b] == []
    assert sum(a for a, _ in verdicts) > len(records), "the mix has valid records beyond the fixtures"


def test_a_closed_object_stays_open_to_what_its_branches_evaluate(tmp_path: Path) -> None:
    # Under `not`, a branch's property must still count as evaluated: refusing {"a", "b"} inside would
    # accept it outside.
    inner = {
        "properties": {"a": {}},
        "allOf": [{"properties": {"b": {"type": "integer"}}}],
        "unevaluatedProperties": False,
    }
    store = store_of(tmp_path, {"inner.json": inner, "outer.json": {"not": {"$ref": "inner.json"}}})
    fast = store.fast_check(tmp_path / "outer.json")
    for instance in ({"a": 1, "b": 2}, {"a": 1, "b": "x"}, {"a": 1, "c": 2}, {"a": 1}):
        assert fast(instance) == (not store.errors(tmp_path / "outer.json", instance)), instance


def test_the_shipped_fixtures_are_checked_without_a_python_call(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every shipped schema is narrowed: the bulk check of the fixture files calls no Python format check."""
    called: list[object] = []

    def counted(check: Callable[[object], bool]) -> Callable[[object], bool]:
        def counting(value: object) -> bool:
            called.append(value)
            return check(value)

        return counting

    for name, check in list(FORMAT_CHECKS.items()):
        monkeypatch.setitem(FORMAT_CHECKS, name, counted(check))
    store = SchemaStore(ROOT / "schemas")
    for vendor in discover_vendors(ROOT / "schemas"):
        for name, dataset in load_vendor(ROOT / "schemas" / vendor, store).datasets.items():
            fast = store.fast_check(dataset.schema)
            records = json.loads(fixture_path(ROOT / "fixtures", vendor, dataset).read_text())["records"]
            assert all(fast(record) for record in records), (vendor, name)
    assert called == []
