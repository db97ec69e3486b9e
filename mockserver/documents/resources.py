"""Where the data that drives the emulator is: the schemas and fixtures shipped with the package.

An installed distribution (wheel, sdist, container) carries the repository's top-level ``schemas/`` and
``fixtures/`` inside the package, as ``mockserver/_data/``; they are found with :mod:`importlib.resources`,
wherever the package is installed. A source checkout (an editable install, ``make test``) has no
``_data/``: there the top-level folders themselves are used, so they stay the single source.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

PACKAGED_DATA = "_data"


def shipped_dir(name: str) -> Path:
    """The shipped data folder ``name`` (``schemas`` or ``fixtures``) of this installation."""
    packaged = resources.files("mockserver") / PACKAGED_DATA / name
    if isinstance(packaged, Path) and packaged.is_dir():
        return packaged
    checkout = Path(__file__).resolve().parents[2] / name
    if checkout.is_dir() and (checkout.parent / "pyproject.toml").is_file():
        return checkout
    # Neither exists: the caller reports "schemas directory not found" with this path.
    return Path(str(packaged))
