"""An emulator of the phone-number list APIs of Famulor, Butter AI, Contactship and Mindhunters.

The public API is what ``__all__`` names; everything else is private and may change.
"""

from mockserver.app import create_app
from mockserver.config import EmulatorConfig
from mockserver.emulator import Emulator, build_emulator
from mockserver.errors import ConfigurationError, DeclarationError, EmulatorError
from mockserver.vendor import Credential

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
