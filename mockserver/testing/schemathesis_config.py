"""A Schemathesis configuration for the emulator: each vendor's test credentials, and the cursor hooks.

``vendor-emulator schemathesis-config`` writes ``schemathesis.toml`` (which Schemathesis reads from the
current directory) with one ``[[project]]`` per vendor, selected by the title of its OpenAPI document,
and a copy of :mod:`mockserver.testing.schemathesis_hooks` beside it, named by absolute path so that any
Schemathesis installation can load it.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

from mockserver.engine.emulator import Emulator, credential_headers
from mockserver.testing.schemathesis_hooks import REGISTRATION

CONFIG_FILE = "schemathesis.toml"
HOOKS_FILE = "vendor_emulator_hooks.py"


def _toml_string(text: str) -> str:
    return json.dumps(text)  # a JSON string is a valid TOML basic string


def _inline_table(values: dict[str, str]) -> str:
    return "{ " + ", ".join(f"{_toml_string(k)} = {_toml_string(v)}" for k, v in values.items()) + " }"


def schemathesis_toml(emulator: Emulator, hooks: Path) -> str:
    """The config: the hooks file, then one project per vendor with its first test credential."""
    lines = [
        "# Written by `vendor-emulator schemathesis-config`: Schemathesis against the emulator.",
        "# Each [[project]] applies to the OpenAPI document with that title (one per vendor).",
        f"hooks = {_toml_string(str(hooks))}",
    ]
    for spec in emulator.vendors.values():
        info = spec.openapi.get("info")
        title = str(info.get("title", spec.title)) if isinstance(info, dict) else spec.title
        lines += ["", "[[project]]", f"title = {_toml_string(title)}"]
        lines.append(f"headers = {_inline_table(credential_headers(spec)[0])}")
    return "\n".join(lines) + "\n"


def schemathesis_files(emulator: Emulator, directory: Path) -> tuple[Path, Path]:
    """Write the config and the hooks into ``directory``; returns both paths."""
    directory.mkdir(parents=True, exist_ok=True)
    hooks = (directory / HOOKS_FILE).resolve()
    source = (
        resources.files("mockserver.testing").joinpath("schemathesis_hooks.py").read_text(encoding="utf-8")
    )
    hooks.write_text(source + REGISTRATION, encoding="utf-8")
    config = directory / CONFIG_FILE
    config.write_text(schemathesis_toml(emulator, hooks), encoding="utf-8")
    return config, hooks
