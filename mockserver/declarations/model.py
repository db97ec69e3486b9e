"""The declaration model: what the engine knows about a vendor, as typed, frozen dataclasses.

:mod:`mockserver.declarations.loading` builds these from ``schemas/<id>/openapi.json``; nothing else reads the
raw declaration. Blocks the engine reads as they are declared (rate limits, the live environment) are
TypedDicts with the declaration's own keys; the loader narrows to them once the block has passed
``declaration.schema.json``, and ``tests/unit/declarations/test_model_schema.py`` proves the two agree
(properties, required keys, enum values), so that narrowing is sound.

This module does not use ``from __future__ import annotations``: TypedDict reads ``NotRequired`` from
evaluated annotations only (Python 3.11), and the agreement test reads ``__required_keys__``.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, NotRequired, TypeAlias, TypedDict

from mockserver.documents.json_types import JsonValue
from mockserver.kinds.auth import AuthSpec
from mockserver.kinds.filters import Filter
from mockserver.kinds.messages import MessageStyleName
from mockserver.kinds.ordering import OrderSpec
from mockserver.kinds.paging import Pager
from mockserver.kinds.params import ParamSpec, QueryPolicy

OptionValue: TypeAlias = str | int | float | bool
"""What an option may be set to (``declaration.schema.json``: ``option.value``)."""

WhereValue: TypeAlias = str | int | bool
"""What an endpoint's ``where`` may require of a field."""


@dataclass(frozen=True)
class ErrorTemplate:
    """One of a vendor's error responses, with ``${...}`` placeholders."""

    status: int
    body: JsonValue
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class DatasetSpec:
    """A kind of record a vendor lists: its item schema and key field."""

    name: str
    schema: Path
    key: str


@dataclass(frozen=True)
class EndpointSpec:
    """One emulated list operation."""

    path: str
    operation_id: str
    summary: str
    docs: str
    dataset: str
    params: Mapping[str, ParamSpec]
    order: OrderSpec
    paging: Pager
    envelope: JsonValue
    response_schema: Path
    filters: tuple[Filter, ...] = ()
    where: Mapping[str, WhereValue] = field(default_factory=dict)


@dataclass(frozen=True)
class CatalogueSpec:
    """What a vendor offers but the account does not hold (numbers to buy): searched, then created from."""

    name: str
    schema: Path
    fixture: Path  # the file's name in the vendor's fixtures folder
    key: str


WriteOperation: TypeAlias = Literal["search", "create", "update", "delete"]
"""What a write does (``declaration.schema.json``: ``write.operation``)."""

NewKey: TypeAlias = Literal["max_plus_one"]
"""How a created record's key is drawn (``write.new_key``)."""


class MatchRule(TypedDict):
    """search: the catalogue field a query parameter narrows (``write.match``)."""

    field: str
    digits: NotRequired[bool]  # the parameter's digits contained in the field's digits


class WriteErrors(TypedDict, total=False):
    """The vendor error template (a key of ``errors``) answered per outcome of a write."""

    invalid_body: str
    unparseable: str
    held: str
    not_offered: str
    not_found: str
    already_scheduled: str


class Deferred(TypedDict):
    """delete: records matching ``where`` stay listed until the end of their billing period."""

    where: Mapping[str, JsonValue]
    period_days: int | str
    set: Mapping[str, JsonValue]
    response: JsonValue


@dataclass(frozen=True)
class WriteSpec:
    """One operation that searches a catalogue or changes a dataset, declared as data.

    The fields from ``operation`` on are the operation's ``x-emulator`` block (``declaration.schema.json``:
    ``$defs/write``); :mod:`mockserver.engine.writes` implements them. ``method``, ``path``,
    ``operation_id``, ``params``, ``body_schema``, ``patterns`` and ``path_patterns`` come from the OpenAPI
    operation (an integer path parameter matches digits only, as a Laravel route's ``whereNumber``).
    """

    method: str
    path: str
    operation_id: str
    params: Mapping[str, ParamSpec]
    operation: WriteOperation
    body_schema: Path | None = None
    patterns: Mapping[str, str] = field(default_factory=dict)  # query parameter -> the regex it must match
    path_patterns: Mapping[str, str] = field(default_factory=dict)  # path parameter -> the regex it matches
    dataset: str | None = None
    catalogue: str | None = None
    match: Mapping[str, MatchRule] = field(default_factory=dict)
    held_by: str | None = None
    envelope: JsonValue = None
    key_param: str | None = None
    body_field: str | None = None
    fields: tuple[str, ...] = ()
    empty_is_null: bool = False
    copy: tuple[str, ...] = ()
    record: Mapping[str, JsonValue] = field(default_factory=dict)
    new_key: NewKey = "max_plus_one"
    switches: Mapping[str, str] = field(default_factory=dict)
    errors: WriteErrors = field(default_factory=WriteErrors)
    deferred: Deferred | None = None
    status: int | None = None
    response: JsonValue = None
    response_fields: tuple[str, ...] | None = None


@dataclass(frozen=True)
class OptionSpec:
    """A choice the vendor's docs leave open, with its effective value and why the default was chosen."""

    name: str
    value: OptionValue
    default: OptionValue
    assumption: str
    choices: tuple[OptionValue, ...] | None = None  # None: any value of the default's type


class RateWindow(TypedDict):
    """One sliding window: at most ``requests`` per ``seconds``."""

    requests: int
    seconds: float


class RateHeaders(TypedDict, total=False):
    """The names of the rate-limit headers a vendor sends."""

    limit: str
    remaining: str
    reset: str


class RateLimits(TypedDict):
    """A vendor's documented rate limits (``x-emulator.rate_limits``)."""

    windows: Sequence[RateWindow]
    headers: NotRequired[RateHeaders]
    source: str


class LiveEnvironment(TypedDict):
    """The environment of a live contract run (``x-emulator.live_environment``)."""

    base_url_variable: str
    default_base_url: str
    credentials: Sequence[str]


@dataclass(frozen=True)
class VendorSpec:
    """Everything the engine knows about one vendor.

    Fields with a default are the ones a declaration may leave out (``declaration.schema.json`` does
    not require them); ``id``, ``endpoints``, ``openapi`` and ``source`` come from the folder and the
    OpenAPI document around the ``x-emulator`` block.
    """

    id: str
    title: str
    docs: str
    live_base_url: str
    hosts: tuple[str, ...]
    auth: AuthSpec
    datasets: Mapping[str, DatasetSpec]
    errors: Mapping[str, ErrorTemplate]
    endpoints: tuple[EndpointSpec, ...]
    openapi: Mapping[str, JsonValue]
    source: Path
    live_environment: LiveEnvironment
    content_type: str = "application/json"
    query: QueryPolicy = field(default_factory=QueryPolicy)
    messages: MessageStyleName = "plain"
    options: tuple[OptionSpec, ...] = ()
    rate_limits: RateLimits | None = None
    writes: tuple[WriteSpec, ...] = ()
    catalogues: Mapping[str, CatalogueSpec] = field(default_factory=dict)
