"""Pagination styles: one class per *style*, each carrying everything about it, chosen by declaration.

A pager serves a page (the positions of the records on it plus the variables its envelope template
needs: ``total``, ``next_cursor``...), and it is also the client of its own style: how a client asks for
the first and the next page, where the end is, and what the page's signals (totals, end-of-list flags,
next cursors, headers) promise, so that the linter, the recorder and the contract checks walk every
style the same way. It declares the JSON Schema of its declaration block, the envelope variables it
provides, and what it adds to the served OpenAPI document.

The styles are the modules of :mod:`mockserver.kinds.paging_styles`; each registers itself by ``style``.
Adding a style is adding one module there.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

from mockserver.data.dataset import Dataset, Selection
from mockserver.documents.reading import path_get
from mockserver.kinds.cursors import CursorCodec
from mockserver.kinds.discovery import discover
from mockserver.kinds.params import ParamSpec, Violation
from mockserver.kinds.settings import Settings

Query = dict[str, Any]
OverMax = Literal["reject", "clamp"]
SignalRole = Literal["total", "more", "size", "page", "size_report"]
"""What an envelope variable is to a client: ``total``, the count of records listed across the pages;
``more``, the flag saying a later page exists; ``size``, the page size applied (echoing the size
parameter); ``page``, the page number (echoing the page parameter); ``size_report``, the page size as
the style reports it (the records listed, or the size asked for, as declared)."""

OVER_MAX = {
    "enum": ["reject", "clamp"],
    "description": "A size above the parameter's maximum: `reject` it (4xx) or `clamp` it to the maximum.",
}
PAGE_PARAM = {"type": "string", "description": "The parameter with the page number (from 1)."}
SIZE_PARAM = {
    "type": "string",
    "description": "The parameter with the page size (its default is the default size).",
}


@dataclass(frozen=True)
class PageRequest:
    """What a pager needs to know about one request."""

    params: Mapping[str, Any]
    dataset: Dataset
    selection: Selection
    scope: str
    codec: CursorCodec


@dataclass(frozen=True)
class Page:
    """The positions of the records on this page, the envelope's variables and any response headers."""

    positions: Sequence[int]
    variables: dict[str, Any] = field(default_factory=dict)
    headers: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class PageSeen:
    """One page as a client saw it.

    ``signals`` holds the envelope variables the endpoint's envelope declares, read at their places
    (a variable the envelope does not carry is absent; one it carries but the body lacks is None).
    ``headers`` are the response headers, names in lower case.
    """

    query: Mapping[str, Any]
    listed: int
    signals: Mapping[str, Any] = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Broken:
    """A paging signal that does not keep its promise: which variable, why, what was due and what came.

    ``across`` marks a difference between pages, which the data changing under a live walk may explain.
    """

    variable: str
    message: str
    expected: Any
    got: Any
    across: bool = False


@dataclass(frozen=True)
class Verdict:
    """What one page of a walk shows: broken promises, the next page's query, and whether the end is
    properly reached (``next`` None and ``complete``) or the walk had to stop short."""

    broken: list[Broken]
    next: Query | None
    complete: bool = False


class Pager(ABC):
    """One pagination style. Subclasses register by ``style``.

    Class attributes a style declares: ``style``; ``schema``, the JSON Schema of its declaration block
    (a ``oneOf`` branch of the declaration's ``paging``, with ``title`` and ``description``);
    ``template_variables``, the ``${...}`` variables it gives the envelope and what they mean; ``rank``,
    where it is listed in the declaration reference; ``signal_roles``, which of its template variables
    plays each :data:`SignalRole` (a checker asks :meth:`signal`, never a variable's name).

    An instance's ``settings`` are its declaration block parsed into the style's ``settings_class`` (a
    :class:`~mockserver.kinds.settings.Settings` whose fields are the properties of ``schema``; the style
    re-annotates ``settings`` with it). Styles with a page-size parameter derive from :class:`SizedPager`.
    """

    style: ClassVar[str]
    schema: ClassVar[Mapping[str, Any]]
    template_variables: ClassVar[Mapping[str, str]]
    signal_roles: ClassVar[Mapping[SignalRole, str]] = {}
    rank: ClassVar[int] = 100
    registry: ClassVar[dict[str, type[Pager]]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "style" in cls.__dict__:  # a style, not a shared base of styles
            Pager.registry[cls.style] = cls

    settings_class: ClassVar[type[Settings]] = Settings
    settings: Settings

    def __init__(self, declaration: Mapping[str, Any], specs: Mapping[str, ParamSpec]) -> None:
        self.declaration = declaration  # the raw block, as declared (for display); styles read settings
        self.specs = dict(specs)
        self.settings = self.settings_class.parse(declaration)

    @classmethod
    def kinds(cls) -> dict[str, type[Pager]]:
        """Every registered style, in reference order (the styles' modules are imported first)."""
        discover("mockserver.kinds.paging_styles")
        return dict(sorted(Pager.registry.items(), key=lambda item: (item[1].rank, item[0])))

    @classmethod
    def from_declaration(cls, declaration: Mapping[str, Any], specs: Mapping[str, ParamSpec]) -> Pager:
        """The pager a declaration describes."""
        return cls.kinds()[declaration["style"]](declaration, specs)

    @classmethod
    def declaration_schema(cls) -> dict[str, Any]:
        """The style's declaration block, as a branch of ``paging``'s ``oneOf``."""
        return {
            **cls.schema,
            "properties": {
                "style": {"const": cls.style, "description": f"`{cls.style}`."},
                **cls.schema.get("properties", {}),
            },
            "additionalProperties": False,
            "x-template-variables": dict(cls.template_variables),
        }

    # ------------------------------------------------------------------ serving

    @property
    def paging_params(self) -> frozenset[str]:
        """The query parameters that move through pages (they do not change what is listed)."""
        return frozenset()

    @property
    def size_param(self) -> str | None:
        """The page-size parameter (its default is the default page size); None when pages have no size."""
        return None

    def request_specs(self) -> dict[str, ParamSpec]:
        """The parameter specs to validate requests with (a pager may relax a bound it enforces itself)."""
        return self.specs

    @property
    def clamps_size(self) -> bool:
        """Whether a size above the parameter's maximum is clamped to it (``over_max: clamp``)."""
        return False

    def _size_limit(self, name: str) -> int | None:
        return self.specs[name].maximum if self.clamps_size else None

    def _relaxed(self, *names: str) -> dict[str, ParamSpec]:
        relaxed = dict(self.specs)
        if self.clamps_size:
            for name in names:
                relaxed[name] = relaxed[name].without_maximum()
        return relaxed

    @abstractmethod
    def page(self, request: PageRequest) -> Page | Violation:
        """This request's page, or the Violation its paging parameters commit."""

    # ------------------------------------------------------------------ the client's side

    def signal(self, role: SignalRole) -> str | None:
        """The envelope variable that plays ``role`` in this style (None when the style has none)."""
        return self.signal_roles.get(role)

    def default_size(self) -> int | None:
        """The default page size (None when the endpoint is not paginated or declares none)."""
        name = self.size_param
        default = self.specs[name].default if name is not None and name in self.specs else None
        return default if isinstance(default, int) and not isinstance(default, bool) else None

    def records_for(self, pages: int) -> int | None:
        """How many records fill ``pages`` pages at the default size (None when pages have no size)."""
        size = self.default_size()
        return None if size is None else pages * size

    def param_roles(self) -> dict[str, str]:
        """What each paging parameter is to a client: ``size``, ``page`` (a page number) or ``position``."""
        return {} if self.size_param is None else {self.size_param: "size"}

    def first_query(self, size: int | None) -> Query:
        """The paging parameters of the first page at ``size`` (the default size when None)."""
        return {} if size is None or self.size_param is None else {self.size_param: size}

    def next_query(self, seen: PageSeen, size: int | None = None) -> Query | None:
        """The query of the page after ``seen``, or None when it was the last.

        With ``size`` (the size asked for), a page listing fewer records is the last unless its signals
        say there is more; without it, the walk ends at a page listing nothing.
        """
        return None

    def verdict(self, seen: PageSeen, size: int, number: int, distinct: int) -> Verdict:
        """Page ``number`` (from 1) of a walk at ``size``: the promises its signals break, and what is next.

        ``distinct`` counts the distinct records listed so far, this page's included.
        """
        following = self.next_query(seen, size)
        return Verdict([], following, complete=following is None)

    def openapi_annotations(self, envelope: Any) -> dict[str, dict[str, Any]]:
        """Extensions to write onto the served document's query parameters, by parameter name."""
        return {}


@dataclass(frozen=True, kw_only=True)
class SizedSettings(Settings):
    """The settings every style with a page-size parameter has: the parameter, and what a size above its
    maximum does (keyword-only, so that a style's own required settings may follow)."""

    size_param: str
    over_max: OverMax = "reject"


class SizedPager(Pager):
    """The base of the styles whose pages have a size parameter (``size_param``, ``over_max``)."""

    settings: SizedSettings

    @property
    def size_param(self) -> str:
        return self.settings.size_param

    @property
    def clamps_size(self) -> bool:
        return self.settings.over_max == "clamp"


def signal_paths(template: Any, prefix: tuple[str, ...] = ()) -> dict[str, tuple[str, ...]]:
    """Where each ``${variable}`` of an envelope template sits (``{"items": ("data", "items")}``)."""
    found: dict[str, tuple[str, ...]] = {}
    if isinstance(template, Mapping):
        for key, value in template.items():
            found.update(signal_paths(value, (*prefix, str(key))))
    elif isinstance(template, str) and template.startswith("${") and template.endswith("}"):
        found[template[2:-1]] = prefix
    return found


def read_signals(template: Any, body: Any) -> dict[str, Any]:
    """The envelope variables of ``template`` read from ``body`` (None where the body lacks them)."""
    return {name: path_get(body, path) for name, path in signal_paths(template).items()}
