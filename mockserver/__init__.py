"""An emulator of the phone-number list APIs of Famulor, Butter AI, Contactship and Mindhunters.

The public API is what ``__all__`` names; everything else is private and may change.

The names are imported on first use (PEP 562): ``import mockserver`` alone, as the pytest plugin's import
does in every pytest session of a project that installs the package, loads neither the engine nor the
server.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from mockserver.errors import ConfigurationError, DeclarationError, EmulatorError

if TYPE_CHECKING:
    from mockserver.engine.config import EmulatorConfig
    from mockserver.engine.emulator import Emulator, build_emulator
    from mockserver.kinds.auth import Credential
    from mockserver.serving.app import create_app

__all__ = [
    "ConfigurationError",
    "Credential",
    "DeclarationError",
    "Emulator",
    "EmulatorConfig",
    "EmulatorError",
    "build_emulator",
    "create_app",
]

_LAZY = {
    "Credential": "mockserver.kinds.auth",
    "Emulator": "mockserver.engine.emulator",
    "EmulatorConfig": "mockserver.engine.config",
    "build_emulator": "mockserver.engine.emulator",
    "create_app": "mockserver.serving.app",
}


def __getattr__(name: str) -> Any:
    home = _LAZY.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value  # imported once: later uses find it as an ordinary attribute
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
