"""For teams' tests: route the vendors' real hosts to the emulator, in-process, for every Python HTTP client.

The mocks live in :mod:`mockserver.testing.mocks` (re-exported here, the public import path); the pytest
plugin in :mod:`mockserver.testing.plugin`; Hypothesis strategies and the Schemathesis set-up beside them.

Layer 9: imports intercept, serving, the engine and below.
"""

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
