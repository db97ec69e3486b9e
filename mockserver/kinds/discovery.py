"""Kinds are found, not listed: every module of a kinds package is imported, and registers its kind."""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache


@cache
def discover(package: str) -> None:
    """Import every module of ``package`` (once), so that each registers its kind."""
    module = importlib.import_module(package)
    for found in pkgutil.iter_modules(module.__path__):
        importlib.import_module(f"{package}.{found.name}")
