"""Datasets: indexes, orderings and cached selections."""

from __future__ import annotations

import random
from typing import Any

import pytest

from mockserver.data import dataset as dataset_module
from mockserver.data.dataset import Dataset, SortKey, field_value
from mockserver.kinds.filters import FieldEquals, TextContains

RECORDS = [
    {"id": 1, "kind": "a", "fee": {"eur": 2.0}, "name": "Berlin", "flag": True},
    {"id": 2, "kind": "b", "fee": {"eur": 1.0}, "name": "Bern", "flag": False},
    {"id": 3, "kind": "a", "fee": {"eur": 2.0}, "name": None, "flag": True},
    {"id": 4, "kind": "a", "fee": {"eur": 3.0}, "name": "Paris", "flag": False},
]


def test_field_value_follows_dotted_paths() -> None:
    assert field_value(RECORDS[0], "fee.eur") == 2.0
    assert field_value(RECORDS[0], "fee.usd") is None
    assert field_value(RECORDS[0], "name.first") is None


def test_orderings_sort_each_key_in_its_own_direction() -> None:
    data = Dataset(RECORDS, "id")
    ordering = data.ordering((("fee.eur", "desc"), ("id", "asc")))
    assert [RECORDS[p]["id"] for p in ordering.order] == [4, 1, 3, 2]
    assert [ordering.rank[p] for p in ordering.order] == [0, 1, 2, 3]


def test_nulls_sort_first_ascending() -> None:
    data = Dataset(RECORDS, "id")
    assert [RECORDS[p]["id"] for p in data.ordering((("name", "asc"), ("id", "asc"))).order] == [3, 1, 2, 4]


def test_selection_intersects_constraints_in_order() -> None:
    data = Dataset(RECORDS, "id")
    ordering = data.ordering((("id", "desc"),))
    selected = data.select([FieldEquals("kind", "a"), FieldEquals("flag", True)], ordering)
    assert [RECORDS[p]["id"] for p in selected.members] == [3, 1]
    assert data.select([FieldEquals("flag", 1)], ordering).members == (), "True and 1 are different values"


def test_text_search_is_case_insensitive_across_fields() -> None:
    data = Dataset(RECORDS, "id")
    ordering = data.ordering((("id", "asc"),))
    assert [
        RECORDS[p]["id"] for p in data.select([TextContains(("name", "kind"), "BER")], ordering).members
    ] == [1, 2]


def test_after_finds_the_next_member_even_when_the_cursor_record_is_filtered_out() -> None:
    data = Dataset(RECORDS, "id")
    ordering = data.ordering((("id", "asc"),))
    selection = data.select([FieldEquals("kind", "a")], ordering)
    assert selection.after(data.positions[2]) == 1  # record 2 is kind b; the next kind-a record is 3


def test_the_selection_cache_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dataset_module, "SELECTION_CACHE_SIZE", 3)
    data = Dataset(RECORDS, "id")
    ordering = data.ordering((("id", "asc"),))
    for needle in "abcdefg":
        data.select([TextContains(("name",), needle)], ordering)
    assert len(data._selections) == 3


def test_duplicate_keys_are_refused() -> None:
    with pytest.raises(ValueError, match="duplicate"):
        Dataset([*RECORDS, RECORDS[0]], "id")


def test_records_are_serialised_once_and_joined_as_a_json_array() -> None:
    data = Dataset(RECORDS[:2], "id")
    assert data.json_array([1, 0]).startswith(b'[{"id":2,')


def test_a_dataset_owns_its_records() -> None:
    """What a caller does to the dicts it passed in, or got back, never changes what is indexed or served."""
    given: list[dict[str, Any]] = [{"id": 1, "kind": "a", "fee": {"eur": 2.0}, "name": "x", "flag": True}]
    data = Dataset(given, "id")
    given[0]["fee"]["eur"] = -1
    copies = data.copies()
    copies[0]["kind"] = "z"
    assert data.records[0]["fee"] == {"eur": 2.0}
    assert data.index("kind") == {("str", "a"): frozenset({0})}
    assert b'"eur":2.0' in data.json_array([0])


def _one_sort_per_key(keys: tuple[SortKey, ...], columns: list[list[Any]]) -> list[int]:
    """The definition: one stable sort per key, last key first (None first, as ``(present, value)``)."""
    order = list(range(len(columns[0])))
    for column, (_, direction) in reversed(list(zip(columns, keys, strict=True))):
        values = [(value is not None, value) for value in column] if None in column else column
        order.sort(key=values.__getitem__, reverse=direction == "desc")
    return order


@pytest.mark.parametrize("seed", range(300))
def test_an_ordering_is_one_stable_sort_per_key(seed: int) -> None:
    rng = random.Random(seed)
    pools: list[list[Any]] = [
        ["a", "b", "B", "", "ab"], [0, 1, 2, -1, 2.5, True, False, 1.0], ["x", None], [3, None, 0.5],
        [f"k{index}" for index in range(40)], ["a", 1], [[1], [0]],
    ]  # fmt: skip
    size = rng.randint(0, 60)
    keys = tuple((f"f{index}", rng.choice(["asc", "desc"])) for index in range(rng.randint(1, 3)))
    columns = [[rng.choice(pool) for _ in range(size)] for pool in (rng.choice(pools) for _ in keys)]
    try:
        expected: list[int] | type[TypeError] = _one_sort_per_key(keys, columns)  # type: ignore[arg-type]
    except TypeError:
        expected = TypeError
    if expected is TypeError:
        with pytest.raises(TypeError):
            dataset_module._ordering(keys, columns)  # type: ignore[arg-type]
    else:
        assert list(dataset_module._ordering(keys, columns).order) == expected  # type: ignore[arg-type]
