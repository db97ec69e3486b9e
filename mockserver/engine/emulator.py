"""An emulator instance: its vendors loaded and indexed, their state, their apps and the shared journal."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

from mockserver.declarations.loading import discover_vendors, load_vendor
from mockserver.declarations.model import VendorSpec
from mockserver.documents.schemas import SchemaStore
from mockserver.engine.answer_cache import AnswerCache
from mockserver.engine.config import DriftSetting, EmulatorConfig
from mockserver.engine.routing import Routes
from mockserver.engine.vendor_app import VendorApp
from mockserver.errors import ConfigurationError
from mockserver.kinds.cursors import CursorCodec
from mockserver.limits import Limits
from mockserver.state.backends import SharedState, open_state
from mockserver.state.datasets import VendorDatasets
from mockserver.state.faults import FaultIds, FaultRule
from mockserver.state.journal import DEFAULT_JOURNAL_SIZE, Journal, JournalBudget
from mockserver.state.prepared import PreparedCache

if TYPE_CHECKING:  # imported where used: a build with no standing drift needs no drift
    from mockserver.drifts import VendorDrifts


def emulator_version() -> str:
    """The installed package version (``0+unknown`` when run from a bare checkout)."""
    try:
        return version("vendor-emulator")
    except PackageNotFoundError:
        return "0+unknown"


@dataclass(frozen=True)
class Emulator:
    """A configured emulator: its vendors, their state and their ASGI apps."""

    config: EmulatorConfig
    vendors: dict[str, VendorSpec]
    datasets: dict[str, VendorDatasets]  # each vendor's data, by vendor id
    apps: dict[str, VendorApp]
    journal: Journal
    shared: SharedState
    # called after each admin write and each write a vendor request made (e.g. a purchase)
    changed: list[Callable[[], None]] = field(default_factory=list)
    # called when the server stops: responses that never end by themselves (event streams) end then,
    # so that a stop (Ctrl-C, SIGTERM, docker stop) is not held up by an open page
    stopping: list[Callable[[], None]] = field(default_factory=list)

    @cached_property
    def routes(self) -> Routes[VendorApp]:
        """Which vendor app answers a path, and which vendor a host name belongs to (the one owner)."""
        hosts = {vendor_id: spec.hosts for vendor_id, spec in self.vendors.items()}
        return Routes(self.apps, self.config.root_vendor, hosts)

    @property
    def states(self) -> dict[str, VendorDatasets]:
        """The old name of :attr:`datasets` (each vendor's data, by vendor id), kept so that code using it
        keeps working; read-only."""
        return self.datasets

    @property
    def has_tenants(self) -> bool:
        """Whether any vendor has a tenant beyond those of its built-in and configured keys."""
        return any(app.tenancy.registered_tenants() for app in self.apps.values())

    def reset(self) -> None:
        """Every vendor back to its fixtures, initial keys, no faults and an empty journal."""
        for app in self.apps.values():
            app.tenancy.reset()

    def apply(self, vendor: str, part: str, value: Any) -> None:
        """Mirror a change another process made (a shared backend calls this; nothing is put back)."""
        app = self.apps.get(vendor)
        if app is None:
            return
        with self.shared.applying():
            if part.startswith("data:"):
                tenant, _, name = part[len("data:") :].partition("\x00")
                self.datasets[vendor].applied(tenant, name, value)
            elif part.startswith("writes:"):
                app.writes.applied(part[len("writes:") :], value)
            else:
                app.tenancy.applied(part, value)


def build_emulator(config: EmulatorConfig) -> Emulator:
    """Load, check and index every selected vendor (raises a DeclarationError naming any broken file)."""
    if config.admin_token is not None and not config.admin_token.strip():
        raise ConfigurationError("an admin token cannot be empty")
    if not config.schemas_dir.is_dir():
        raise ConfigurationError(f"schemas directory not found: {config.schemas_dir}")
    if not config.fixtures_dir.is_dir():
        raise ConfigurationError(f"fixtures directory not found: {config.fixtures_dir}")
    store = SchemaStore(config.schemas_dir)
    codec = CursorCodec(config.cursor_secret)
    limits = config.limits
    entries = limits.journal_entries if config.journal_size == DEFAULT_JOURNAL_SIZE else config.journal_size
    shared = open_state(config.state)
    journal = shared.journal(entries, journal_budget(limits))
    cache = AnswerCache(limits.answer_cache_bytes)
    vendors, datasets, apps = {}, {}, {}
    fault_ids = FaultIds()  # one sequence for every vendor: a rule id names one rule
    prepared = PreparedCache.from_environment()  # large fixture files, kept prepared between starts
    for vendor_id in config.selected(discover_vendors(config.schemas_dir)):
        spec = load_vendor(config.schemas_dir / vendor_id, store, config.options.get(vendor_id))
        _check_credentials(spec, config)
        vendors[vendor_id] = spec
        datasets[vendor_id] = VendorDatasets(
            spec, store, config.fixtures_dir, limits, shared, prepared=prepared
        )
        extra = config.credentials.get(vendor_id, ())
        limiter = (
            shared.rate_limiter(vendor_id, spec.rate_limits, time.monotonic) if spec.rate_limits else None
        )
        apps[vendor_id] = VendorApp(
            spec, datasets[vendor_id], codec, journal, extra, rate_limits=config.rate_limits,
            cache=cache, limits=limits, shared=shared, limiter=limiter, fault_ids=fault_ids, store=store,
        )  # fmt: skip
    for setting in config.drifts:
        app = apps.get(setting.vendor)
        if app is None:
            raise ConfigurationError(
                f"--drift {setting.vendor}:{setting.drift}: no vendor {setting.vendor!r} served"
            )
        app.standing_drifts = (*app.standing_drifts, standing_rule(app, setting))
    emulator = Emulator(config, vendors, datasets, apps, journal, shared)
    for app in apps.values():
        app.writes.listeners = emulator.changed  # the same list: listeners added later are told too
    shared.start(emulator.apply, list(apps))
    return emulator


def standing_rule(app: VendorApp, setting: DriftSetting) -> FaultRule:
    """The rule of a drift on for the whole run (``serve --drift``), checked against the catalogue."""
    return _standing(app.drifts, setting)


def check_drift_settings(config: EmulatorConfig) -> None:
    """The standing drifts of ``config``, checked without building an emulator (``serve --workers``
    checks them once, before it starts its workers); ConfigurationError names what is allowed."""
    store = SchemaStore(config.schemas_dir)
    available = discover_vendors(config.schemas_dir)
    for setting in config.drifts:
        if setting.vendor not in available:
            raise ConfigurationError(
                f"--drift {setting.vendor}:{setting.drift}: no vendor {setting.vendor!r}"
            )
        spec = load_vendor(config.schemas_dir / setting.vendor, store, config.options.get(setting.vendor))
        from mockserver.drifts import VendorDrifts, vendor_view  # noqa: PLC0415 - see the imports

        _standing(VendorDrifts(vendor_view(spec, store)), setting)


def _standing(drifts: VendorDrifts, setting: DriftSetting) -> FaultRule:
    from mockserver.drifts import DriftError  # noqa: PLC0415 - see the imports

    try:
        params = drifts.check(setting.drift, dict(setting.params), setting.endpoint)
    except DriftError as error:
        raise ConfigurationError(f"--drift {setting.vendor}:{setting.drift}: {error}") from None
    probability = setting.probability
    if probability is not None and (
        isinstance(probability, bool) or not isinstance(probability, int | float) or not 0 < probability <= 1
    ):
        raise ConfigurationError(
            f"--drift {setting.vendor}:{setting.drift}: probability is above 0 and at most 1"
        )
    return FaultRule(path=setting.endpoint, drift=setting.drift, params=params, probability=probability)


def journal_budget(limits: Limits) -> JournalBudget:
    """The journal's byte budgets from the emulator's limits."""
    return JournalBudget(
        tenant_bytes=limits.journal_bytes,
        total_bytes=limits.journal_total_bytes,
        header_value_bytes=limits.journal_header_value_bytes,
        query_bytes=limits.journal_query_bytes,
        max_headers=limits.max_headers,
        body_bytes=limits.journal_body_bytes,
        bodies_bytes=limits.journal_bodies_bytes,
    )


def _check_credentials(spec: VendorSpec, config: EmulatorConfig) -> None:
    if spec.auth.tenant_header is None:
        return
    for credential in config.credentials.get(spec.id, ()):
        if credential.tenant is None:
            raise ConfigurationError(
                f"{spec.id} keys belong to an organization: give it as KEY:{spec.auth.tenant_header}"
            )


def credential_headers(spec: VendorSpec) -> list[dict[str, str]]:
    """The headers that authenticate each of a vendor's test credentials."""
    out = []
    for credential in spec.auth.test_credentials:
        if spec.auth.kind == "bearer":
            headers = {"Authorization": f"Bearer {credential.key}"}
        else:
            headers = {spec.auth.header or "": credential.key}
        if spec.auth.tenant_header and credential.tenant:
            headers[spec.auth.tenant_header] = credential.tenant
        out.append(headers)
    return out
