"""The public API is deliberate: this test pins it (httpx does the same)."""

from __future__ import annotations

import dataclasses

import pytest

import mockserver
from tests.conftest import data_config


def test_the_public_api_is_exactly_this() -> None:
    assert mockserver.__all__ == [
        "ConfigurationError",
        "Credential",
        "DeclarationError",
        "Emulator",
        "EmulatorConfig",
        "EmulatorError",
        "build_emulator",
        "create_app",
    ]
    for name in mockserver.__all__:
        assert getattr(mockserver, name).__module__.startswith("mockserver.")


def test_the_test_kit_exports_exactly_this() -> None:
    import mockserver.intercept
    import mockserver.testing

    assert mockserver.testing.__all__ == [
        "CallsAssertionError",
        "EmulatorMock",
        "OtherHosts",
        "VendorMock",
        "host_pattern",
        "mock_vendors",
    ]
    assert mockserver.intercept.__all__ == [
        "Interceptor",
        "OtherHosts",
        "SocketGuard",
        "VendorHostNotInterceptedError",
        "available_interceptors",
    ]


def test_an_emulators_datasets_keep_their_old_name() -> None:
    """``Emulator.datasets`` was ``Emulator.states``: code using the old name keeps working, read-only."""
    emulator = mockserver.build_emulator(data_config(vendors=("butter",)))
    assert emulator.states is emulator.datasets
    assert list(emulator.datasets) == ["butter"]
    with pytest.raises((AttributeError, dataclasses.FrozenInstanceError)):
        emulator.states = {}  # type: ignore[misc]
