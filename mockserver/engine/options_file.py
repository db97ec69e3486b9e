"""Options files: the ``--option`` settings of a run, one ``VENDOR.OPTION=VALUE`` per line.

``contracts calibrate`` writes them from what a live vendor was observed to do; ``serve --options-file``,
``mock_vendors(options_file=...)`` and the pytest plugin (ini ``vendor_emulator_options_file``) read
them. A line is exactly what ``--option`` takes; a line starting with ``#`` is a comment (calibrate
records there where and when each value was observed). Values are JSON where they parse as JSON
(``50``, ``true``), text otherwise, as with ``--option``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mockserver.errors import ConfigurationError

MAX_OPTIONS_FILE_BYTES = 1_000_000


def parse_option(text: str) -> tuple[str, str, Any]:
    """``vendor.option=value`` as (vendor, option, value); ValueError when it is not of that form."""
    name, equals, raw = text.partition("=")
    vendor, dot, option = name.strip().partition(".")
    if not equals or not dot or not vendor or not option:
        raise ValueError("expected VENDOR.OPTION=VALUE, e.g. butter.default_page_size=50")
    raw = raw.strip()
    try:
        value = json.loads(raw)
    except json.JSONDecodeError:
        value = raw
    return vendor, option, value


def option_line(vendor: str, option: str, value: Any) -> str:
    """The line (and ``--option`` argument) that sets ``vendor.option`` to ``value``."""
    text = value if isinstance(value, str) and _round_trips(value) else json.dumps(value)
    return f"{vendor}.{option}={text}"


def _round_trips(text: str) -> bool:
    """A string value can be written bare when reading it back gives the same string."""
    try:
        json.loads(text)
    except json.JSONDecodeError:
        return text == text.strip() and "\n" not in text
    return False


def read_options_file(path: Path) -> dict[str, dict[str, Any]]:
    """The options a file sets, by vendor; a bad line is a ConfigurationError naming file and line."""
    try:
        if path.stat().st_size > MAX_OPTIONS_FILE_BYTES:
            raise ConfigurationError(f"{path}: larger than {MAX_OPTIONS_FILE_BYTES} bytes")
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigurationError(f"cannot read options file {path}: {error}") from None
    options: dict[str, dict[str, Any]] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        try:
            vendor, option, value = parse_option(stripped)
        except ValueError as error:
            raise ConfigurationError(f"{path}:{number}: {error}") from None
        options.setdefault(vendor, {})[option] = value
    return options


def merged(
    *layers: Mapping[str, Mapping[str, Any]] | None,
) -> dict[str, dict[str, Any]]:
    """Options from several sources; a later layer wins per option."""
    out: dict[str, dict[str, Any]] = {}
    for layer in layers:
        for vendor, values in (layer or {}).items():
            out.setdefault(vendor, {}).update(values)
    return out
