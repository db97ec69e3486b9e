"""Targets: where the contract is checked. ``mock`` (in-process), ``url`` (a running server) or ``live``."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from mockserver.declarations.model import VendorSpec
from mockserver.engine.emulator import credential_headers

VARIABLE = re.compile(r"\$\{([A-Z][A-Z0-9_]*)\}")


@dataclass(frozen=True)
class VendorTarget:
    """One vendor of a target: base URL and headers, or why it is skipped."""

    vendor: str
    base_url: str = ""
    headers: Mapping[str, str] = field(default_factory=dict)
    secrets: tuple[str, ...] = ()
    skipped: str | None = None
    live: bool = False


def mock_target(spec: VendorSpec) -> VendorTarget:
    """The in-process emulator, with its first test credential."""
    return VendorTarget(spec.id, f"http://emulator.invalid/{spec.id}", credential_headers(spec)[0])


def url_target(spec: VendorSpec, base: str) -> VendorTarget:
    """A running emulator (or anything mounted like one): ``{base}/{vendor}``, test credentials."""
    return VendorTarget(spec.id, f"{base.rstrip('/')}/{spec.id}", credential_headers(spec)[0])


def _headers(spec: VendorSpec, values: list[str]) -> dict[str, str]:
    key = values[0]
    headers = (
        {"Authorization": f"Bearer {key}"} if spec.auth.kind == "bearer" else {spec.auth.header or "": key}
    )
    if spec.auth.tenant_header and len(values) > 1:
        headers[spec.auth.tenant_header] = values[1]
    return headers


def live_target(spec: VendorSpec, environ: Mapping[str, str] | None = None) -> VendorTarget:
    """The real vendor, from the environment its declaration names; skipped, naming what is missing."""
    environ = os.environ if environ is None else environ
    declared = spec.live_environment
    names: list[str] = list(declared["credentials"])
    missing = [name for name in names if not environ.get(name)]
    base = environ.get(declared["base_url_variable"]) or declared["default_base_url"]
    for variable in VARIABLE.findall(base):
        if not environ.get(variable):
            missing.append(f"{variable} (or {declared['base_url_variable']})")
        base = base.replace("${" + variable + "}", environ.get(variable, ""))
    if missing:
        return VendorTarget(
            spec.id, skipped=f"set {', '.join(missing)} to check {spec.title} live", live=True
        )
    values = [environ[name] for name in names]
    return VendorTarget(spec.id, base, _headers(spec, values), tuple(values), live=True)
