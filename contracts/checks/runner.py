"""Run the contract checks of every endpoint of every selected vendor against one target."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import partial
from typing import Any, Literal

import httpx

from contracts.checks.documented_behaviour import defaults, ordering, page_size, walk
from contracts.checks.drift import DriftDetector
from contracts.checks.endpoint import EndpointCheck
from contracts.checks.findings import Finding, Severity, grouped
from contracts.checks.observe import Observation, observe, report_differences
from contracts.checks.writes import WRITES_NEED_FLAG, WriteCheck, check_search, label, write_flow
from contracts.targets.client import (
    Budget,
    BudgetExhausted,
    GuardedClient,
    Redactor,
    RetryWaits,
    Unreachable,
    WritesRefused,
    cleartext_to_remote,
)
from contracts.targets.selection import VendorTarget, live_target, mock_target, url_target
from mockserver.declarations.model import VendorSpec
from mockserver.documents.schemas import SchemaStore
from mockserver.engine.config import EmulatorConfig
from mockserver.engine.emulator import Emulator, build_emulator
from mockserver.engine.options_file import merged
from mockserver.errors import ConfigurationError
from mockserver.intercept.transport import EmulatorTransport
from mockserver.serving.app import create_app

TargetKind = Literal["mock", "url", "live"]


@dataclass(frozen=True)
class EndpointStatus:
    """How one endpoint's check went: ``checked``, ``skipped`` (with the reason) or ``unreachable``."""

    vendor: str
    endpoint: str
    status: str
    reason: str | None = None
    requests: int = 0
    notes: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        """The JSON report's form."""
        data: dict[str, Any] = {
            "vendor": self.vendor,
            "endpoint": self.endpoint,
            "status": self.status,
            "requests": self.requests,
        }
        if self.reason:
            data["reason"] = self.reason
        if self.notes:
            data["notes"] = list(self.notes)
        return data


@dataclass
class Report:
    """Everything a run found."""

    target: str
    started: str
    findings: list[Finding] = field(default_factory=list)
    endpoints: list[EndpointStatus] = field(default_factory=list)
    # What the target was seen to do where the docs are silent (contracts calibrate writes these).
    observations: list[Observation] = field(default_factory=list)
    # Findings a baseline acknowledges (each finding's dict with "reason" and "expires"), and run notes.
    suppressed: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # From the history, per "<vendor> <endpoint>": when last verified clean, and each finding's first run.
    last_clean: dict[str, str] = field(default_factory=dict)
    first_seen: dict[str, dict[str, str]] = field(default_factory=dict)

    def first_seen_of(self, finding: Finding) -> str:
        """When a finding was first seen (this run, unless the history knows it)."""
        known = self.first_seen.get(f"{finding.vendor} {finding.endpoint}", {})
        return known.get(finding.fingerprint, self.started)

    @property
    def checked(self) -> int:
        """How many endpoints were checked."""
        return sum(1 for e in self.endpoints if e.status == "checked")

    def reaching(self, threshold: Severity) -> list[Finding]:
        """The findings at or above ``threshold``."""
        return [f for f in self.findings if f.severity.rank >= threshold.rank]


def _pacing(spec: VendorSpec) -> float:
    """Seconds between requests that keep within every documented rate-limit window."""
    windows = spec.rate_limits["windows"] if spec.rate_limits else []
    return max((window["seconds"] / window["requests"] for window in windows), default=0.0)


def _targets(
    kind: TargetKind, specs: Iterable[VendorSpec], url: str | None, environ: Mapping[str, str] | None
) -> list[VendorTarget]:
    if kind == "mock":
        return [mock_target(spec) for spec in specs]
    if kind == "url":
        if not url:
            raise ConfigurationError("--target url needs --url BASE (e.g. http://127.0.0.1:8080)")
        return [url_target(spec, url) for spec in specs]
    return [live_target(spec, environ) for spec in specs]


def _setup(kind: TargetKind, config: EmulatorConfig, timeout: float) -> tuple[Emulator, httpx.Client]:
    if kind == "mock":
        app = create_app(config)
        return app.state.emulator, httpx.Client(transport=EmulatorTransport(app), timeout=timeout)
    return build_emulator(config), httpx.Client(timeout=timeout, follow_redirects=False)


def _check_endpoints(
    spec: VendorSpec, target: VendorTarget, client: GuardedClient, detector: DriftDetector, report: Report
) -> None:
    vendor_wide: set[str] = set()
    for endpoint in spec.endpoints:
        check = EndpointCheck(spec, endpoint, target, client, detector)
        status = "checked"
        reason = None
        observations: list[Observation] = []
        try:
            body = check.baseline()
            for step in _steps(check, body):
                _guarded(step, check)
            observations = observe(check, vendor_wide)
            report_differences(check, observations)
        except Unreachable as error:
            status, reason = "unreachable", str(error)
        except BudgetExhausted as error:
            check.notes.append(f"{error}: the checks stopped early")
        report.findings += check.findings
        report.observations += observations
        spent = client.budget.by_endpoint.get(check.label, 0)
        notes = (*client.transients.pop(check.label, []), *check.notes)
        report.endpoints.append(EndpointStatus(spec.id, check.label, status, reason, spent, notes))


def _steps(check: EndpointCheck, body: Any) -> list[Callable[[], None]]:
    """The checks after the baseline request, in order."""
    sample = check.items(body)
    return [
        check.authentication,
        partial(check.filters, sample),
        partial(ordering, check, body),
        partial(defaults, check, body),
        partial(walk, check, body),
        partial(page_size, check),
    ]


def _guarded(step: Callable[[], None], check: EndpointCheck) -> None:
    """Run one check; data drifted beyond what a check can read becomes a note, not a crash."""
    try:
        step()
    except (Unreachable, BudgetExhausted):
        raise
    except (TypeError, ValueError, KeyError, AttributeError, IndexError) as error:
        check.notes.append(f"a check could not read the response ({type(error).__name__}); other checks ran")


def _check_writes(
    spec: VendorSpec, target: VendorTarget, client: GuardedClient, detector: DriftDetector, report: Report
) -> None:
    """The vendor's searches on every target; its changing writes where the client may write, else each
    is reported skipped with the reason (never a silent pass)."""
    for write in spec.writes:
        if write.operation == "search":
            check = WriteCheck(spec, write, target, client, detector)
            _record(report, check, partial(check_search, check))
    for flow in write_flow(spec, target, client, detector):
        checks = list(flow.checks())
        if not client.allow_writes:
            report.endpoints += [
                EndpointStatus(spec.id, check.label, "skipped", WRITES_NEED_FLAG) for check in checks
            ]
            continue
        status, reason = "checked", None
        try:
            flow.run()
        except Unreachable as error:
            status, reason = "unreachable", str(error)
        except (BudgetExhausted, WritesRefused) as error:
            checks[0].notes.append(f"{error}: the write checks stopped early")
        except (TypeError, ValueError, KeyError, AttributeError, IndexError) as error:
            checks[0].notes.append(f"a write check could not read a response ({type(error).__name__})")
        for check in checks:
            _status(report, check, status, reason)


def _record(report: Report, check: WriteCheck, steps: Callable[[], None]) -> None:
    status, reason = "checked", None
    try:
        steps()
    except Unreachable as error:
        status, reason = "unreachable", str(error)
    except BudgetExhausted as error:
        check.notes.append(f"{error}: the checks stopped early")
    except (TypeError, ValueError, KeyError, AttributeError, IndexError) as error:
        check.notes.append(f"a check could not read the response ({type(error).__name__}); other checks ran")
    _status(report, check, status, reason)


def _status(report: Report, check: WriteCheck, status: str, reason: str | None) -> None:
    report.findings += check.findings
    spent = check.client.budget.by_endpoint.get(check.label, 0)
    notes = (*check.client.transients.pop(check.label, []), *check.notes)
    report.endpoints.append(EndpointStatus(check.vendor.id, check.label, status, reason, spent, notes))


def _redacted(finding: Finding, redactor: Redactor) -> Finding:
    return replace(
        finding,
        path=redactor.text(finding.path),
        message=redactor.text(finding.message),
        expected=redactor.value(finding.expected),
        observed=redactor.value(finding.observed),
        examples=tuple(redactor.text(example) for example in finding.examples),
        fix=redactor.text(finding.fix) if finding.fix is not None else None,
    )


@dataclass(frozen=True)
class Session:
    """One vendor of a run: its declarations and target, and a guarded client (None when skipped)."""

    spec: VendorSpec
    target: VendorTarget
    client: GuardedClient | None
    detector: DriftDetector


@contextmanager
def sessions(  # noqa: PLR0917 - the run's settings, as run() takes them
    target: TargetKind,
    url: str | None,
    vendors: Iterable[str] | None,
    environ: Mapping[str, str] | None,
    budget: Budget,
    redactor: Redactor,
    timeout: float,
    sleep: Callable[[float], None],
    config: EmulatorConfig,
    *,
    allow_writes: bool = False,
) -> Iterator[Iterator[Session]]:
    """The selected vendors of a target, each with a client that is safe to point at a real vendor.

    The clients may write (POST, PUT, DELETE) on the mock and a URL (the emulator); on live only with
    ``allow_writes``.
    """
    emulator, http = _setup(target, config, timeout)
    selected = list(vendors) if vendors else list(emulator.vendors)
    unknown = sorted(set(selected) - set(emulator.vendors))
    if unknown:
        http.close()
        raise ConfigurationError(f"unknown vendor(s) {unknown}; known: {sorted(emulator.vendors)}")
    specs = [emulator.vendors[vendor_id] for vendor_id in selected]
    detector = DriftDetector(SchemaStore(config.schemas_dir))

    def each() -> Iterator[Session]:
        waits = RetryWaits()  # one budget of waits before retries for the whole run
        for spec, vendor_target in zip(specs, _targets(target, specs, url, environ), strict=True):
            redactor.add(*vendor_target.secrets)
            if vendor_target.skipped:
                yield Session(spec, vendor_target, None, detector)
                continue
            if target != "mock" and cleartext_to_remote(vendor_target.base_url):
                raise ConfigurationError(
                    f"{spec.id}: refusing to send credentials over plain http to a non-loopback host"
                )
            pacing = _pacing(spec) if vendor_target.live else 0.0
            client = GuardedClient(
                http,
                vendor_target.base_url,
                budget,
                redactor,
                min_interval=pacing,
                sleep=sleep,
                allow_writes=target != "live" or allow_writes,
                waits=waits,
            )
            yield Session(spec, vendor_target, client, detector)

    with http:
        yield each()


def with_options(
    config: EmulatorConfig | None, options: Mapping[str, Mapping[str, Any]] | None
) -> EmulatorConfig:
    """``config`` (or the default one) with ``options`` set on top of its own."""
    config = config or EmulatorConfig()
    return replace(config, options=merged(config.options, options)) if options else config


def run(
    target: TargetKind = "mock",
    *,
    url: str | None = None,
    vendors: Iterable[str] | None = None,
    environ: Mapping[str, str] | None = None,
    budget_per_endpoint: int = 80,
    budget_per_run: int = 300,
    timeout: float = 10.0,
    sleep: Callable[[float], None] = time.sleep,
    config: EmulatorConfig | None = None,
    options: Mapping[str, Mapping[str, Any]] | None = None,
    allow_writes: bool = False,
) -> Report:
    """Check every endpoint of the selected vendors on ``target``; credentials never reach the report.

    ``options`` (``{"butter": {"sort_direction": "asc"}}``, or what an options file holds) set what the
    emulator assumes, and so what the target is compared with where the docs are silent.

    Declared writes are checked too: searches everywhere; the operations that change data (a purchase
    costs money) on the mock and a URL always, on live only with ``allow_writes`` (else each is reported
    skipped, with the reason).
    """
    report = Report(target, datetime.now(UTC).isoformat(timespec="seconds"))
    budget, redactor = Budget(budget_per_run, budget_per_endpoint), Redactor()
    settings = (
        target,
        url,
        vendors,
        environ,
        budget,
        redactor,
        timeout,
        sleep,
        with_options(config, options),
    )
    with sessions(*settings, allow_writes=allow_writes) as each:
        for session in each:
            if session.client is None:
                labels = [f"GET {e.path}" for e in session.spec.endpoints]
                labels += [label(write) for write in session.spec.writes]
                report.endpoints += [
                    EndpointStatus(session.spec.id, name, "skipped", session.target.skipped)
                    for name in labels
                ]
                continue
            _check_endpoints(session.spec, session.target, session.client, session.detector, report)
            _check_writes(session.spec, session.target, session.client, session.detector, report)
    report.findings = [_redacted(finding, redactor) for finding in grouped(report.findings)]
    report.observations = [
        replace(
            seen,
            observed=redactor.value(seen.observed),
            how=redactor.text(seen.how),
            url=redactor.text(seen.url),
        )
        for seen in report.observations
    ]
    return report
