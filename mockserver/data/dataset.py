"""An immutable, indexed set of records: what one endpoint lists, for one tenant.

Everything a request needs is computed once: each record is serialised to JSON bytes when the
dataset is built, and only those bytes are kept, packed in one buffer (a record is decoded again when
something reads it, so memory per record stays near its serialised size); equality indexes,
orderings and search texts are built on first use and kept; a selection (the records that match a
set of constraints, in one order) is cached in a bounded LRU.
A request therefore costs a dictionary lookup and a slice, not a scan and a re-serialisation.
Replacing data means building a new Dataset and swapping the reference, which is atomic.
"""

from __future__ import annotations

import itertools
from array import array
from bisect import bisect_right
from collections import OrderedDict
from collections.abc import Hashable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol, overload

import orjson

Direction = Literal["asc", "desc"]
SortKey = tuple[str, Direction]
SELECTION_CACHE_SIZE = 256
SELECTION_CACHE_MEMBERS = 65_536  # at least; else 8 positions per record
MISSING = object()


def field_value(record: Mapping[str, Any], path: str) -> Any:
    """The value at a dotted ``path`` (``billing.monthly_fee``); None when any step is absent."""
    if type(record) is dict and "." not in path:  # the common case, without the ABC check
        return record.get(path)
    node: Any = record
    for part in path.split("."):
        if not isinstance(node, Mapping):
            return None
        node = node.get(part)
    return node


def normalise(value: Any, case_insensitive: bool) -> Hashable:
    """The index key of a value: case-folded when asked, type-tagged so True and 1 stay apart."""
    if isinstance(value, str) and case_insensitive:
        value = value.casefold()
    if isinstance(value, list | dict):
        raise TypeError(f"only scalar fields can be indexed, got {type(value).__name__}")
    return (type(value).__name__, value)


class Constraint(Protocol):
    """One condition on the records; ``key`` identifies it in the selection cache."""

    @property
    def key(self) -> Hashable: ...

    def matching(self, dataset: Dataset) -> frozenset[int]:
        """Positions of the records that satisfy the condition."""
        ...


@dataclass(frozen=True)
class Ordering:
    """A total order of the records: ``order`` lists positions, ``rank`` is its inverse."""

    keys: tuple[SortKey, ...]
    order: tuple[int, ...]
    rank: tuple[int, ...]


@dataclass(frozen=True)
class Selection:
    """The records matching some constraints, in one ordering."""

    ordering: Ordering
    members: tuple[int, ...]

    def after(self, position: int) -> int:
        """Index in ``members`` of the first record ranked after the record at ``position``."""
        return bisect_right(self.members, self.ordering.rank[position], key=self.ordering.rank.__getitem__)


def _sort_value(value: Any) -> tuple[bool, Any]:
    return (value is not None, value)


def _columns(records: Sequence[Mapping[str, Any]], fields: Sequence[str]) -> list[Sequence[Any]]:
    """The values of each of ``fields``, one column per field (each record decoded once for them all)."""
    if len(fields) == 1:
        return [[field_value(record, fields[0]) for record in records]]
    rows = [[field_value(record, field) for field in fields] for record in records]
    return list(zip(*rows, strict=True)) if rows else [[] for _ in fields]


NUMBERS = frozenset({int, float, bool})


def _ordering(keys: tuple[SortKey, ...], columns: Sequence[Sequence[Any]]) -> Ordering:
    """The records sorted by ``keys`` from the column of each key (stable, each key in its direction)."""
    order = list(range(len(columns[0]) if columns else 0))
    sortable, simple = [], bool(columns)
    for column in columns:
        types = set(map(type, column))
        if type(None) in types:  # None sorts first: compare (present, value)
            types.discard(type(None))
            column = [_sort_value(value) for value in column]  # noqa: PLW2901
        sortable.append(column)
        simple = simple and (types <= {str} or types <= NUMBERS)
    if simple:  # only strings or only numbers in each column: equal values are ==, no TypeError possible
        return _from_order(keys, _refined(order, sortable, [direction for _, direction in keys]))
    for values, (_, direction) in reversed(list(zip(sortable, keys, strict=True))):
        order.sort(key=values.__getitem__, reverse=direction == "desc")
    return _from_order(keys, order)


def _refined(order: list[int], columns: Sequence[Sequence[Any]], directions: Sequence[str]) -> list[int]:
    """``order`` sorted by the first column, each run of equal values then by the next column, and so on:
    the same order as one stable sort per key, last key first, but with one sort over all the records
    (the later ones sort only runs of equal values, often of one record)."""
    column = columns[0]
    ordered = sorted(order, key=column.__getitem__, reverse=directions[0] == "desc")
    if len(columns) == 1:
        return ordered
    refined: list[int] = []
    for _, run in itertools.groupby(ordered, key=column.__getitem__):
        positions = list(run)
        refined.extend(_refined(positions, columns[1:], directions[1:]) if len(positions) > 1 else positions)
    return refined


def _from_order(keys: tuple[SortKey, ...], order: Sequence[int]) -> Ordering:
    rank = [0] * len(order)
    for place, position in enumerate(order):
        rank[position] = place
    return Ordering(keys, tuple(order), tuple(rank))


def _column(records: list[Any], field: str) -> list[Any]:
    """:func:`field_value` of each record (a plain name read from parsed objects directly)."""
    if "." not in field:
        try:
            return [record.get(field) for record in records]
        except AttributeError:  # a record that is not an object
            pass
    return [field_value(record, field) for record in records]


def _permutation(order: Sequence[Any], size: int) -> bool:
    """Whether ``order`` holds each of ``0 .. size - 1`` once (in linear time)."""
    if len(order) != size or not set(map(type, order)) <= {int}:
        return False
    return not order or (min(order) == 0 and max(order) == size - 1 and len(set(order)) == size)


def _copied(values: list[Any]) -> list[Any]:
    """Equal values in new objects (JSON values, as parsed: an orjson round trip)."""
    try:
        copies: list[Any] = orjson.loads(orjson.dumps(values))
    except TypeError:  # not JSON after all (orjson.JSONEncodeError): the values as they are
        return values
    return copies


def _taken(items: list[Any]) -> Iterator[Any]:
    """The items of ``items``, each dropped from the list once handed out (peak memory stays low)."""
    for index, item in enumerate(items):
        items[index] = None
        yield item


class Blobs(Sequence[bytes]):
    """Serialised records packed in one buffer, with their end offsets (no object per record).

    orjson gives each record's bytes a generous allocation and shrinks it; kept one by one, those shrunk
    blocks fragment the heap to several KB a record. Packed, a record costs its bytes and 8 more.
    """

    __slots__ = ("_buffer", "_ends")

    def __init__(self, blobs: Iterable[bytes] = ()) -> None:
        buffer = bytearray()
        ends = array("Q")
        for blob in blobs:
            buffer += blob
            ends.append(len(buffer))
        self._buffer = bytes(buffer)
        self._ends = ends

    @classmethod
    def packed(cls, buffer: bytes, ends: array[int]) -> Blobs:
        """Blobs from their packed form (:attr:`buffer` and :attr:`ends`, as a prepared file keeps them)."""
        last = ends[-1] if ends else 0
        offsets = ends.tolist()
        if last != len(buffer) or offsets != sorted(offsets):  # not decreasing (sorted: linear when so)
            raise ValueError("the end offsets do not fit the buffer")
        blobs = cls.__new__(cls)
        blobs._buffer = buffer
        blobs._ends = ends
        return blobs

    @property
    def buffer(self) -> bytes:
        """Every record's bytes, one after the other."""
        return self._buffer

    @property
    def ends(self) -> array[int]:
        """Where each record's bytes end in :attr:`buffer` (a copy)."""
        return array("Q", self._ends)

    def __len__(self) -> int:
        return len(self._ends)

    @overload
    def __getitem__(self, index: int) -> bytes: ...

    @overload
    def __getitem__(self, index: slice) -> list[bytes]: ...

    def __getitem__(self, index: int | slice) -> bytes | list[bytes]:
        if isinstance(index, slice):
            return [self[position] for position in range(*index.indices(len(self)))]
        if index < 0:
            index += len(self._ends)
        if not 0 <= index < len(self._ends):
            raise IndexError("record index out of range")
        return self._buffer[self._ends[index - 1] if index else 0 : self._ends[index]]

    def __iter__(self) -> Iterator[bytes]:
        buffer, start = self._buffer, 0
        for end in self._ends:
            yield buffer[start:end]
            start = end

    @property
    def nbytes(self) -> int:
        """Bytes held: the packed records and their offsets."""
        return len(self._buffer) + self._ends.itemsize * len(self._ends)


class Records(Sequence[Mapping[str, Any]]):
    """The records of a dataset, decoded from their bytes on each read (each read is a fresh copy)."""

    __slots__ = ("_blobs",)

    def __init__(self, blobs: Blobs) -> None:
        self._blobs = blobs

    def __len__(self) -> int:
        return len(self._blobs)

    @overload
    def __getitem__(self, index: int) -> Mapping[str, Any]: ...

    @overload
    def __getitem__(self, index: slice) -> list[Mapping[str, Any]]: ...

    def __getitem__(self, index: int | slice) -> Mapping[str, Any] | list[Mapping[str, Any]]:
        if isinstance(index, slice):
            return [orjson.loads(blob) for blob in self._blobs[index]]
        result: Mapping[str, Any] = orjson.loads(self._blobs[index])
        return result

    def __iter__(self) -> Iterator[Mapping[str, Any]]:
        return map(orjson.loads, self._blobs)


class Dataset:
    """Records of one kind, validated before they get here, with their key field."""

    _generations = itertools.count(1)

    def __init__(
        self, records: Iterable[Mapping[str, Any]], key: str, orderings: Iterable[tuple[SortKey, ...]] = ()
    ) -> None:
        """Serialise ``records``; the ``orderings`` named are built now (the records are read once for
        the keys and every field those orderings sort by), any other on first use."""
        # Only the serialised bytes are kept: the dataset owns its records, so nothing a caller does to the
        # dicts it passed in (or gets back) can change what is indexed or served.
        # The keys are read back from the bytes once the caller's dicts are gone: a key object made while
        # they are being freed would land among them and keep their memory pages alive.
        blobs = Blobs(orjson.dumps(record) for record in records)
        eager = list(dict.fromkeys(orderings))
        fields = list(dict.fromkeys(field for keys in eager for field, _ in keys))
        if not fields:
            self._start(blobs, key, [record[key] for record in Records(blobs)])
            return
        rows = [[record[key], *(field_value(record, field) for field in fields)] for record in Records(blobs)]
        keys_column, *columns = zip(*rows, strict=True) if rows else [[] for _ in range(len(fields) + 1)]
        del rows
        self._start(blobs, key, keys_column)
        self._build(eager, dict(zip(fields, columns, strict=True)))

    @classmethod
    def loaded(cls, records: list[Any], key: str, orderings: Iterable[tuple[SortKey, ...]] = ()) -> Dataset:
        """A dataset from freshly parsed records, checked already, which it takes over: ``records`` is
        emptied as they are serialised. The ``orderings`` named are built now.

        What loading a fixture file does, in fewer passes than ``Dataset(records, ...)``: the keys and the
        fields the orderings sort by are taken from the parsed records, not decoded again from the bytes.
        They are copies (an orjson round trip per column), made while every parsed record is still alive:
        so they are allocated after the parsed records, not among them while those are freed (which would
        keep the freed records' memory pages)."""
        eager = list(dict.fromkeys(orderings))
        fields = list(dict.fromkeys(field for keys in eager for field, _ in keys))
        keys_column = _copied([record[key] for record in records])
        columns = [_copied(_column(records, field)) for field in fields]
        blobs = Blobs(orjson.dumps(record) for record in _taken(records))
        dataset = cls.__new__(cls)
        dataset._start(blobs, key, keys_column)
        del keys_column
        dataset._build(eager, dict(zip(fields, columns, strict=True)))
        return dataset

    def _build(self, eager: Sequence[tuple[SortKey, ...]], by_field: Mapping[str, Sequence[Any]]) -> None:
        """The orderings ``eager``, from the column of each field they sort by."""
        for keys in eager:
            try:
                self._orderings[keys] = _ordering(keys, [by_field[field] for field, _ in keys])
            except TypeError:  # values that do not compare: left to the first use, which says so as before
                continue

    @classmethod
    def packed(
        cls,
        blobs: Blobs,
        key: str,
        keys: Sequence[Any],
        orderings: Mapping[tuple[SortKey, ...], Sequence[int]] | None = None,
    ) -> Dataset:
        """A dataset from records already serialised and checked: their ``keys`` in order, and the order of
        the positions for some sort keys (what a prepared file keeps; see mockserver.state.prepared)."""
        dataset = cls.__new__(cls)
        dataset._start(blobs, key, keys)
        for sort_keys, order in (orderings or {}).items():
            if not _permutation(order, len(blobs)):
                raise ValueError(f"the order for {sort_keys} is not a permutation of the records")
            dataset._orderings[sort_keys] = _from_order(sort_keys, order)
        return dataset

    def _start(self, blobs: Blobs, key: str, keys: Sequence[Any]) -> None:
        self.generation = next(Dataset._generations)  # unique for the process: caches key on it
        self.blobs = blobs
        self.records = Records(blobs)
        self.key = key
        if len(keys) != len(blobs):
            raise ValueError(f"{len(keys)} keys for {len(blobs)} records")
        self.positions: dict[Any, int] = dict(zip(keys, range(len(keys)), strict=True))
        if len(self.positions) != len(blobs):
            raise ValueError(f"duplicate values of the key field {key!r}")
        self.everything = frozenset(range(len(blobs)))
        self._indexes: dict[tuple[str, bool], dict[Hashable, frozenset[int]]] = {}
        self._texts: dict[tuple[str, ...], tuple[tuple[str, ...], ...]] = {}
        self._orderings: dict[tuple[SortKey, ...], Ordering] = {}
        self._selections: OrderedDict[Hashable, Selection] = OrderedDict()
        self._selected = 0

    def __len__(self) -> int:
        return len(self.blobs)

    def index(self, field: str, case_insensitive: bool = False) -> Mapping[Hashable, frozenset[int]]:
        """Positions of the records by the (normalised) value of ``field``."""
        cache_key = (field, case_insensitive)
        if cache_key not in self._indexes:
            buckets: dict[Hashable, set[int]] = {}
            for position, record in enumerate(self.records):
                value = normalise(field_value(record, field), case_insensitive)
                buckets.setdefault(value, set()).add(position)
            self._indexes[cache_key] = {value: frozenset(members) for value, members in buckets.items()}
        return self._indexes[cache_key]

    def texts(self, fields: tuple[str, ...]) -> tuple[tuple[str, ...], ...]:
        """Per record, the case-folded text of each of ``fields`` (a search matches within one field)."""
        if fields not in self._texts:
            self._texts[fields] = tuple(
                tuple(
                    str(value).casefold()
                    for field in fields
                    if (value := field_value(record, field)) is not None
                )
                for record in self.records
            )
        return self._texts[fields]

    def ordering(self, keys: tuple[SortKey, ...]) -> Ordering:
        """The records sorted by ``keys`` (stable multi-key sort, each key in its own direction)."""
        if keys not in self._orderings:
            self._orderings[keys] = _ordering(keys, _columns(self.records, [field for field, _ in keys]))
        return self._orderings[keys]

    def built_ordering(self, keys: tuple[SortKey, ...]) -> Ordering | None:
        """The ordering for ``keys`` if it is built already (nothing is computed)."""
        return self._orderings.get(keys)

    def select(self, constraints: Sequence[Constraint], ordering: Ordering) -> Selection:
        """The records that satisfy every constraint, in ``ordering`` (cached)."""
        cache_key = (ordering.keys, tuple(constraint.key for constraint in constraints))
        cached = self._selections.get(cache_key)
        if cached is not None:
            self._selections.move_to_end(cache_key)
            return cached
        selection = Selection(ordering, self._members(constraints, ordering))
        self._selections[cache_key] = selection
        self._selected += len(selection.members)
        budget = max(SELECTION_CACHE_MEMBERS, 8 * len(self.records))  # positions held, all selections
        while len(self._selections) > SELECTION_CACHE_SIZE or self._selected > budget:
            self._selected -= len(self._selections.popitem(last=False)[1].members)
        return selection

    def _members(self, constraints: Sequence[Constraint], ordering: Ordering) -> tuple[int, ...]:
        if not constraints:
            return ordering.order
        matches = sorted((constraint.matching(self) for constraint in constraints), key=len)
        chosen = matches[0].intersection(*matches[1:])
        if len(chosen) == len(self.records):
            return ordering.order
        return tuple(sorted(chosen, key=ordering.rank.__getitem__))

    def copies(self) -> list[dict[str, Any]]:
        """Fresh copies of every record, safe for a caller to change."""
        return [orjson.loads(blob) for blob in self.blobs]

    def json_array(self, positions: Iterable[int]) -> bytes:
        """The records at ``positions`` as one JSON array, from their pre-serialised bytes."""
        blobs = self.blobs
        return b"[" + b",".join([blobs[position] for position in positions]) + b"]"
