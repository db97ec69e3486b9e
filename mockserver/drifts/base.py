"""What a drift is: an id, the finding kind it must produce, parameters, where it applies, its transforms.

Each drift is a subclass of :class:`Drift` in a module of :mod:`mockserver.drifts.families` (one module per
family: fields, paging, semantics, transport), registered by its ``id`` as paging styles and filter kinds
are (found by :func:`mockserver.kinds.discovery.discover`). A drift never names a vendor: ``targets`` reads
the vendor's declarations (through :class:`~mockserver.drifts.view.VendorView`) and returns where the drift
can be expressed, with the parameter defaults derived there; an empty list means "not for this vendor".

A drift changes one request on its way in (``request``: the query string the engine answers) and/or the
answer on its way out (``respond``). Both receive the parameters (the target's defaults, overridden by the
caller's) already checked against :attr:`Drift.params`.
"""

from __future__ import annotations

import random
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

from mockserver.drifts.view import EndpointView, VendorView
from mockserver.kinds.discovery import discover

ParamType = Literal["string", "integer", "number", "boolean"]
Params = Mapping[str, Any]
EVERY_PATH = "*"  # a target that covers every request of the vendor (transport, auth, errors)


INDEX = re.compile(r"/\d+(?=/|$)")


@dataclass(frozen=True)
class Reported:
    """One finding of a ``contracts check`` JSON report, as a drift reads it to replay it
    (:mod:`mockserver.drifts.replay`): where (vendor, ``GET /path``, JSON pointer), what kind, the message,
    what was expected and observed, and the fix an ``assumption-differs`` finding names."""

    vendor: str
    endpoint: str
    kind: str
    pointer: str = ""
    message: str = ""
    expected: Any = None
    observed: Any = None
    fix: str | None = None
    option: str | None = None

    @property
    def path(self) -> str:
        """The endpoint's path (``/v1/phone-numbers`` of ``GET /v1/phone-numbers``)."""
        return self.endpoint.partition(" ")[2] or self.endpoint

    @property
    def generic(self) -> str:
        """The JSON pointer with every list index as ``*`` (``/data/*/phone_number``)."""
        return INDEX.sub("/*", self.pointer)

    def item_field(self, endpoint: EndpointView | None) -> str | None:
        """The item field (dotted) the pointer names, when it points into the endpoint's listed items."""
        if endpoint is None or endpoint.items is None:
            return None
        prefix = "".join(f"/{name}" for name in endpoint.items) + "/*/"
        rest = self.generic.removeprefix(prefix)
        return rest.replace("/", ".") if rest != self.generic and rest and "*" not in rest else None

    def at_signal(self, endpoint: EndpointView | None, role: str) -> bool:
        """Whether the pointer is where the endpoint's envelope carries the paging signal ``role``."""
        where = endpoint.signals.get(role) if endpoint is not None else None
        return where is not None and self.generic == "".join(f"/{name}" for name in where)


class DriftError(ValueError):
    """An unknown drift, a drift that does not apply there, or a bad parameter: the message lists what is
    allowed."""


@dataclass(frozen=True)
class Param:
    """One parameter of a drift: its name, type, what it means, and (optionally) the values allowed."""

    name: str
    type: ParamType
    description: str
    choices: tuple[Any, ...] | None = None
    minimum: float | None = None

    def check(self, value: Any) -> Any:
        """``value`` as this parameter holds it (a command-line string is converted); DriftError if not."""
        if isinstance(value, str) and self.type != "string":
            value = _from_text(value)
        ok = {
            "string": isinstance(value, str),
            "integer": isinstance(value, int) and not isinstance(value, bool),
            "number": isinstance(value, int | float) and not isinstance(value, bool),
            "boolean": isinstance(value, bool),
        }[self.type]
        if not ok:
            raise DriftError(f"parameter {self.name!r} is a {self.type}, got {value!r}")
        if self.choices is not None and value not in self.choices:
            raise DriftError(f"parameter {self.name!r} is one of {list(self.choices)}, got {value!r}")
        if self.minimum is not None and value < self.minimum:
            raise DriftError(f"parameter {self.name!r} is at least {self.minimum:g}, got {value!r}")
        return value


def _from_text(text: str) -> Any:
    lowered = text.strip().lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        return text


@dataclass(frozen=True)
class Target:
    """Where a drift applies: an endpoint's path (or every path), with the parameter defaults derived there.

    ``choices`` narrows a parameter to what makes sense at this endpoint (e.g. ``field``: the item schema's
    fields of the right kind); ``kind``, the finding kind at this endpoint when it is not the drift's
    usual one.
    """

    path: str
    defaults: Mapping[str, Any] = field(default_factory=dict)
    choices: Mapping[str, tuple[Any, ...]] = field(default_factory=dict)
    kind: str | None = None  # the finding kind here, when it differs from the drift's own


@dataclass
class Exchange:
    """One answer of ``vendor`` while drifts work on it: status, headers, body (bytes), media type, delay,
    and how it ends (``cut``: ``short`` sends ``cut_at`` bytes of the body and closes; None: all of it).
    ``request_query`` is the query string the client sent (before any drift changed it).

    ``json`` is the parsed body, parsed once for every drift that reads it and serialised again at the end
    (``dirty``)."""

    vendor: VendorView
    status: int
    body: bytes
    headers: list[tuple[str, str]]
    content_type: str | None = None
    delay: float = 0.0
    cut: str | None = None
    cut_at: int = 0
    request_query: bytes = b""
    rng: random.Random = field(default_factory=random.Random)
    _json: Any = None
    _parsed: bool = False
    dirty: bool = False

    @property
    def json(self) -> Any:
        """The body as JSON (None when it is not JSON)."""
        if not self._parsed:
            import orjson  # noqa: PLC0415 - only drifted answers parse

            try:
                self._json = orjson.loads(self.body) if self.body else None
            except orjson.JSONDecodeError:
                self._json = None
            self._parsed = True
        return self._json

    @json.setter
    def json(self, value: Any) -> None:
        self._json, self._parsed, self.dirty = value, True, True

    def set_body(self, body: bytes, content_type: str | None = None) -> None:
        """Replace the body with raw bytes (the JSON view is dropped)."""
        self.body, self._json, self._parsed, self.dirty = body, None, False, False
        if content_type is not None:
            self.content_type = content_type

    def finish(self) -> bytes:
        """The body bytes after every drift (the JSON serialised again when a drift changed it)."""
        if self.dirty:
            import orjson  # noqa: PLC0415

            self.body = orjson.dumps(self._json)
            self.dirty = False
        return self.body


class Drift:
    """One kind of vendor change. Subclasses register by ``id`` (a ``family.name`` string).

    Class attributes: ``id``; ``summary`` (what the vendor did, one line); ``kind``, the finding kind the
    contract monitor must report for it, or None when the monitor cannot see it from outside, with the
    reason in ``invisible``; ``params`` (their defaults come from ``targets``); ``loops``: a naive client
    may never stop paging under it (issue 24 part 4's request cap cuts such a run; see
    :func:`looping`); ``auth_stage``: it acts on requests refused before authentication too.
    """

    id: ClassVar[str]
    summary: ClassVar[str]
    kind: ClassVar[str | None]
    invisible: ClassVar[str] = ""
    params: ClassVar[tuple[Param, ...]] = ()
    loops: ClassVar[bool] = False
    auth_stage: ClassVar[bool] = False
    registry: ClassVar[dict[str, type[Drift]]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "id" in cls.__dict__:
            Drift.registry[cls.id] = cls

    @classmethod
    def kinds(cls) -> dict[str, type[Drift]]:
        """Every registered drift, by id, in id order (the family modules are imported first)."""
        discover("mockserver.drifts.families")
        return dict(sorted(Drift.registry.items()))

    @classmethod
    def family(cls) -> str:
        """The part of the id before the dot: fields, format, envelope, paging, semantics, transport..."""
        return cls.id.split(".", 1)[0]

    @classmethod
    def targets(cls, vendor: VendorView) -> list[Target]:
        """Where this drift can be expressed for ``vendor`` (empty: it is not listed for the vendor)."""
        return [Target(endpoint.path) for endpoint in vendor.endpoints]

    @classmethod
    def validate(cls, params: Params) -> None:
        """Refuse (DriftError) parameters that are each well-typed but wrong together or unsafe."""

    @classmethod
    def from_finding(cls, finding: Reported, target: Target, endpoint: EndpointView | None) -> Params | None:
        """The parameters under which this drift, at ``target``, reproduces ``finding`` of a monitor report;
        None when it cannot (the default). ``endpoint`` is the finding's list endpoint, if it is one.
        ``serve --drift-from`` asks every drift of the vendor, in id order; the first answer wins."""
        return None

    # ------------------------------------------------------------------ transforms

    def request(self, query: bytes, params: Params, endpoint: EndpointView | None) -> bytes:
        """The query string the engine answers instead of ``query`` (unchanged by default)."""
        return query

    def respond(self, answer: Exchange, params: Params, endpoint: EndpointView | None) -> None:
        """Change the answer in place (nothing by default)."""

    def refused(self, answer: Exchange, params: Params, vendor: VendorView) -> None:
        """Change an answer refused before authentication (only ``auth_stage`` drifts are asked)."""


def looping() -> frozenset[str]:
    """The ids of the drifts under which a naive client may page for ever (part 4's request cap)."""
    return frozenset(drift_id for drift_id, drift in Drift.kinds().items() if drift.loops)
