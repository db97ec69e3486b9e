"""An emulator of the phone-number list APIs of Famulor, Butter AI, Contactship and Mindhunters.

The public API is what ``__all__`` names; everything else is private and may change.
"""

from mockserver.engine.config import EmulatorConfig
from mockserver.engine.emulator import Emulator, build_emulator
from mockserver.errors import ConfigurationError, DeclarationError, EmulatorError
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
