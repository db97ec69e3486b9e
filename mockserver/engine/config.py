"""How an emulator instance is configured: where its data is, which vendors, keys and options."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mockserver.documents.resources import shipped_dir
from mockserver.errors import ConfigurationError
from mockserver.kinds.auth import Credential
from mockserver.limits import DEFAULT_LIMITS, Limits

DEFAULT_SCHEMAS_DIR = shipped_dir("schemas")
DEFAULT_FIXTURES_DIR = shipped_dir("fixtures")
# Cursors must verify on every replica, so the default secret is fixed; set your own to make cursors
# unforgeable by anyone who has read this file.
DEFAULT_CURSOR_SECRET = "vendor-emulator/cursor/v1"  # noqa: S105 - public by design, see above
CURSOR_SECRET_ENV = "VENDOR_EMULATOR_CURSOR_SECRET"  # noqa: S105 - a variable name


def _default_secret() -> str:
    return os.environ.get(CURSOR_SECRET_ENV) or DEFAULT_CURSOR_SECRET


@dataclass(frozen=True)
class DriftSetting:
    """A drift switched on for the whole run (``serve --drift``, ``--drift-file``): see docs/drifts.md."""

    vendor: str
    drift: str
    params: Mapping[str, Any] = field(default_factory=dict)
    endpoint: str | None = None
    probability: float | None = None


@dataclass(frozen=True)
class EmulatorConfig:
    """Everything an emulator instance is built from. The defaults serve all vendors from the shipped data."""

    schemas_dir: Path = DEFAULT_SCHEMAS_DIR
    fixtures_dir: Path = DEFAULT_FIXTURES_DIR
    vendors: tuple[str, ...] | None = None
    root_vendor: str | None = None
    credentials: Mapping[str, tuple[Credential, ...]] = field(default_factory=dict)
    options: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    cursor_secret: str = field(default_factory=_default_secret, repr=False)
    journal_size: int = 1000
    rate_limits: bool = False
    admin_token: str | None = field(default=None, repr=False)
    limits: Limits = DEFAULT_LIMITS
    state: str | None = field(default=None, repr=False)  # None/"memory": this process; "redis://..."
    drifts: tuple[DriftSetting, ...] = ()  # drifts on for every tenant while the emulator runs

    def selected(self, available: list[str]) -> list[str]:
        """The vendor ids to serve, checked against what is available."""
        wanted = list(self.vendors) if self.vendors is not None else available
        named = {*wanted, *self.credentials, *self.options, *([self.root_vendor] if self.root_vendor else [])}
        unknown = sorted(named - set(available))
        if unknown:
            raise ConfigurationError(f"unknown vendor(s) {unknown}; available: {available}")
        if self.root_vendor and self.root_vendor not in wanted:
            wanted.append(self.root_vendor)
        return wanted
