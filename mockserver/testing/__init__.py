"""For teams' tests: route the vendors' real hosts to the emulator, in-process, for every Python HTTP client.

The mocks live in :mod:`mockserver.testing.mocks` (re-exported here, the public import path, and imported
on first use: the pytest plugin, :mod:`mockserver.testing.plugin`, is loaded by every pytest session and
imports them only when a test asks for a fixture); Hypothesis strategies and the Schemathesis set-up beside
them.

Layer 9: imports intercept, serving, the engine and below.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mockserver.testing.mocks import (
        CallsAssertionError,
        EmulatorMock,
        OtherHosts,
        VendorMock,
        host_pattern,
        mock_vendors,
    )

__all__ = [
    "CallsAssertionError",
    "EmulatorMock",
    "OtherHosts",
    "VendorMock",
    "host_pattern",
    "mock_vendors",
]


def __getattr__(name: str) -> Any:
    if name not in __all__:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module("mockserver.testing.mocks"), name)
    globals()[name] = value  # imported once: later uses find it as an ordinary attribute
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
