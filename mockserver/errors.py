"""Exceptions the emulator raises at start-up. Request-time problems never raise: they become responses."""

from __future__ import annotations

from pathlib import Path


class EmulatorError(Exception):
    """Base of every start-up error of the emulator."""


class DeclarationError(EmulatorError):
    """A vendor document (OpenAPI, x-emulator block, schema or fixture) is broken.

    The message always names the file and the place in it, so a user who edits a declaration
    sees what to fix without a traceback.
    """

    def __init__(self, source: Path | str, problem: str) -> None:
        self.source = str(source)
        self.problem = problem
        super().__init__(f"{self.source}: {problem}")


class ConfigurationError(EmulatorError):
    """The emulator was configured with something that cannot work (unknown vendor, bad option)."""
