"""One vendor's drift catalogue: which drifts apply where (from its declarations), checking a request to
switch one on, and running the active drifts on one request and its answer.

A drift in use is a :data:`DriftUse`: its id and its parameters as given (sorted pairs). The same
objects come from the rules of the admin API, the plugin, ``serve --drift`` and a ``Prefer: drift=``
header, so every way of switching a drift on behaves the same.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from mockserver.drifts.base import EVERY_PATH, Drift, DriftError, Exchange, Target
from mockserver.drifts.view import EndpointView, VendorView

DriftUse = tuple[str, tuple[tuple[str, Any], ...]]
"""A drift in use: its id and its given parameters as sorted (name, value) pairs."""
BOUND_CACHE_SIZE = 1024


def use(drift_id: str, params: Mapping[str, Any] | None = None) -> DriftUse:
    """The :data:`DriftUse` of a drift with these parameters."""
    return drift_id, tuple(sorted((params or {}).items()))


@dataclass(frozen=True)
class Listing:
    """One drift as a vendor has it: the drift and where it applies."""

    drift: type[Drift]
    targets: tuple[Target, ...]

    def as_dict(self, vendor: str) -> dict[str, Any]:
        """The JSON form ``vendor-emulator drifts --json`` prints and docs/drifts.md is made from."""
        drift = self.drift
        return {
            "id": drift.id,
            "vendor": vendor,
            "summary": drift.summary,
            "kind": drift.kind,
            "invisible": drift.invisible or None,
            "loops": drift.loops,
            "params": [
                {
                    "name": p.name,
                    "type": p.type,
                    "description": p.description,
                    **({"choices": list(p.choices)} if p.choices is not None else {}),
                }
                for p in drift.params
            ],
            "applies": [
                {
                    "endpoint": target.path,
                    "defaults": dict(target.defaults),
                    "kind": target.kind or drift.kind,
                    **(
                        {"choices": {k: list(v) for k, v in target.choices.items()}} if target.choices else {}
                    ),
                }
                for target in self.targets
            ],
        }


@dataclass(frozen=True)
class Bound:
    """A drift ready for one path: the drift, its parameters (defaults filled) and the endpoint."""

    drift: Drift
    params: Mapping[str, Any]
    endpoint: EndpointView | None


class VendorDrifts:
    """The drifts that apply to one vendor, and how to run them."""

    def __init__(self, view: VendorView) -> None:
        self.view = view
        self.listings: dict[str, Listing] = {}
        for drift_id, drift in Drift.kinds().items():
            targets = drift.targets(view)
            if targets:
                self.listings[drift_id] = Listing(drift, tuple(targets))
        self._instances = {drift_id: listing.drift() for drift_id, listing in self.listings.items()}
        self._bound: dict[tuple[DriftUse, str], Bound | None] = {}

    # ------------------------------------------------------------------ checking

    def check(self, drift_id: object, params: object = None, endpoint: object = None) -> dict[str, Any]:
        """The parameters of a request to switch ``drift_id`` on, checked and converted; DriftError (its
        message lists what is allowed) for an unknown drift, endpoint or parameter, or a bad value."""
        if not isinstance(drift_id, str) or drift_id not in self.listings:
            raise DriftError(
                f"no drift {drift_id!r} for {self.view.id}; known: {', '.join(sorted(self.listings))}"
            )
        if params is None:
            params = {}
        if not isinstance(params, Mapping):
            raise DriftError(f"params is an object of parameter values, got {params!r}")
        listing = self.listings[drift_id]
        targets = self._targets(listing, endpoint)
        declared = {param.name: param for param in listing.drift.params}
        checked: dict[str, Any] = {}
        for name, value in params.items():
            if name not in declared:
                allowed = ", ".join(declared) or "none"
                raise DriftError(f"{drift_id} has no parameter {name!r}; its parameters: {allowed}")
            checked[name] = declared[name].check(value)
            choices = {choice for target in targets for choice in target.choices.get(name, ())}
            if choices and checked[name] not in choices:
                raise DriftError(f"{drift_id}: {name} is one of {sorted(map(str, choices))}, got {value!r}")
        listing.drift.validate(checked)
        return checked

    def _targets(self, listing: Listing, endpoint: object) -> tuple[Target, ...]:
        if endpoint is None:
            return listing.targets
        paths = [target.path for target in listing.targets]
        if not isinstance(endpoint, str) or (endpoint not in paths and EVERY_PATH not in paths):
            raise DriftError(f"{listing.drift.id} applies to {', '.join(paths)}, not to {endpoint!r}")
        return tuple(target for target in listing.targets if target.path in (endpoint, EVERY_PATH))

    # ------------------------------------------------------------------ running

    def bound(self, drift: DriftUse, path: str) -> Bound | None:
        """The drift ready for ``path``, or None when it does not apply there (or its params do not)."""
        key = (drift, path)
        if key in self._bound:
            return self._bound[key]
        found = self._bind(drift, path)
        if len(self._bound) >= BOUND_CACHE_SIZE:
            self._bound.clear()
        self._bound[key] = found
        return found

    def _bind(self, drift: DriftUse, path: str) -> Bound | None:
        drift_id, given = drift
        listing = self.listings.get(drift_id)
        if listing is None:
            return None
        target = next((t for t in listing.targets if t.path == path), None) or next(
            (t for t in listing.targets if t.path == EVERY_PATH), None
        )
        if target is None:
            return None
        try:  # a Prefer header's parameters are text, and unchecked: a bad one leaves the drift off
            checked = self.check(drift_id, dict(given))
        except DriftError:
            return None
        params = {**target.defaults, **checked}
        if any(name in target.choices and params[name] not in target.choices[name] for name in params):
            return None  # e.g. a field this endpoint's items do not have
        return Bound(self._instances[drift_id], params, self.view.endpoint(path))

    def active(self, drifts: Iterable[DriftUse], path: str) -> list[Bound]:
        """The drifts of ``drifts`` that apply to ``path``, ready to run."""
        return [bound for bound in (self.bound(drift, path) for drift in drifts) if bound is not None]

    def request(self, active: Sequence[Bound], query: bytes) -> bytes:
        """The query string the engine answers, each drift's change made in turn."""
        for bound in active:
            query = bound.drift.request(query, bound.params, bound.endpoint)
        return query

    def respond(self, active: Sequence[Bound], answer: Exchange) -> None:
        """Each drift's change to the answer, in turn."""
        for bound in active:
            bound.drift.respond(answer, bound.params, bound.endpoint)

    def auth_stage(self, drifts: Iterable[DriftUse]) -> list[Bound]:
        """The drifts that act before authentication (a key's header, a refusal's status or shape)."""
        return [
            bound
            for bound in (self.bound(drift, EVERY_PATH) for drift in drifts)
            if bound is not None and bound.drift.auth_stage
        ]

    def auth_headers(self, active: Sequence[Bound], headers: dict[str, str]) -> dict[str, str]:
        """The headers authentication reads under the auth-stage drifts."""
        for bound in active:
            change = getattr(bound.drift, "auth_headers", None)
            if change is not None:
                headers = change(headers, bound.params, self.view)
        return headers

    def refused(self, active: Sequence[Bound], answer: Exchange) -> None:
        """The auth-stage drifts' change to an answer refused before authentication."""
        for bound in active:
            bound.drift.refused(answer, bound.params, self.view)

    def describe(self) -> list[dict[str, Any]]:
        """Every drift of this vendor in its JSON form."""
        return [listing.as_dict(self.view.id) for listing in self.listings.values()]


def preferred_drifts(prefer: str) -> list[DriftUse]:
    """The drifts a ``Prefer`` header asks for: ``drift=ID`` with optional ``;name=value`` parameters,
    several separated by commas (``Prefer: drift=field.renamed;field=number, code=...``)."""
    found = []
    for part in prefer.split(","):
        pieces = [piece.strip() for piece in part.split(";")]
        name, _, value = pieces[0].partition("=")
        if name.strip().lower() != "drift" or not value.strip():
            continue
        params = {}
        for piece in pieces[1:]:
            key, equals, text = piece.partition("=")
            if equals and key.strip():
                params[key.strip()] = text.strip().strip('"')
        found.append(use(value.strip().strip('"'), params))
    return found


def parse_spec(text: str) -> tuple[str, str, dict[str, str]]:
    """``VENDOR:ID[:name=value,...]`` (``serve --drift`` and the plugin's marker) as its three parts."""
    vendor, colon, rest = text.partition(":")
    drift_id, _, given = rest.partition(":")
    if not colon or not vendor or not drift_id:
        raise DriftError(f"a drift is VENDOR:ID[:param=value,...], got {text!r}")
    params = {}
    for item in filter(None, (piece.strip() for piece in given.split(","))):
        name, equals, value = item.partition("=")
        if not equals or not name:
            raise DriftError(f"a drift's parameters are name=value pairs separated by commas, got {item!r}")
        params[name] = value
    return vendor, drift_id, params
