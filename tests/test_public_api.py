"""The public API is deliberate: this test pins it (httpx does the same)."""

from __future__ import annotations

import mockserver


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
