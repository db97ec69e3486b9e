"""The declaration model: what the engine knows about a vendor, as typed, frozen dataclasses.

:mod:`mockserver.declarations.loading` builds these from ``schemas/<id>/openapi.json``; nothing else reads the
raw declaration.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mockserver.kinds.auth import AuthSpec
from mockserver.kinds.filters import Filter
from mockserver.kinds.ordering import OrderSpec
from mockserver.kinds.paging import Pager
from mockserver.kinds.params import ParamSpec, QueryPolicy


@dataclass(frozen=True)
class ErrorTemplate:
    """One of a vendor's error responses, with ``${...}`` placeholders."""

    status: int
    body: Any
    headers: Mapping[str, str]


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
    filters: tuple[Filter, ...]
    where: Mapping[str, Any]
    order: OrderSpec
    paging: Pager
    envelope: Any
    response_schema: Path


@dataclass(frozen=True)
class OptionSpec:
    """A choice the vendor's docs leave open, with its effective value and why the default was chosen."""

    name: str
    value: Any
    default: Any
    choices: tuple[Any, ...] | None
    assumption: str


@dataclass(frozen=True)
class VendorSpec:
    """Everything the engine knows about one vendor."""

    id: str
    title: str
    docs: str
    live_base_url: str
    hosts: tuple[str, ...]
    content_type: str
    auth: AuthSpec
    datasets: Mapping[str, DatasetSpec]
    query: QueryPolicy
    messages: str
    errors: Mapping[str, ErrorTemplate]
    endpoints: tuple[EndpointSpec, ...]
    options: tuple[OptionSpec, ...]
    openapi: Mapping[str, Any]
    source: Path
    rate_limits: Mapping[str, Any] | None = None
    live_environment: Mapping[str, Any] = field(default_factory=dict)
