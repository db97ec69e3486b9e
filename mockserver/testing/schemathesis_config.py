"""A Schemathesis configuration for the emulator: each vendor's test credentials, and the cursor hooks.

``vendor-emulator schemathesis-config`` writes ``schemathesis.toml`` (which Schemathesis reads from the
current directory) with one ``[[project]]`` per vendor, selected by the title of its OpenAPI document,
its writes' accepted statuses (``[[project.operations]]``: a valid request refused by state, such as a
purchase of a number not on offer, is an expected answer; a vendor that sells from a catalogue also
leaves out Schemathesis' ``validation_mismatch`` warning, see :data:`WARNINGS_WITH_A_CATALOGUE`), and a
copy of
:mod:`mockserver.testing.schemathesis_hooks` beside it, named by absolute path so that any
Schemathesis installation can load it.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

from mockserver.declarations.model import VendorSpec
from mockserver.engine.emulator import Emulator, credential_headers
from mockserver.testing.schemathesis_hooks import REGISTRATION

CONFIG_FILE = "schemathesis.toml"
HOOKS_FILE = "vendor_emulator_hooks.py"


def _toml_string(text: str) -> str:
    return json.dumps(text)  # a JSON string is a valid TOML basic string


def _inline_table(values: dict[str, str]) -> str:
    return "{ " + ", ".join(f"{_toml_string(k)} = {_toml_string(v)}" for k, v in values.items()) + " }"


ACCEPTED = ("2xx", "401", "403", "404")  # Schemathesis' default expected statuses of a valid request


def accepted_statuses(spec: VendorSpec) -> dict[str, list[str]]:
    """operationId -> the statuses a schema-valid request may rightly get, for each write.

    A valid purchase of a number that is not on offer, or a second release, is refused by state no schema
    describes; the write's declared outcomes (their error templates' statuses) are such answers.
    """
    accepted = {}
    for write in spec.writes:
        names = [*write.errors.values(), *write.switches.values()]
        statuses = {str(spec.errors[str(name)].status) for name in names if str(name) in spec.errors}
        accepted[write.operation_id] = [*ACCEPTED, *sorted(statuses - set(ACCEPTED))]
    return accepted


WARNINGS_WITH_A_CATALOGUE = (
    "missing_auth",
    "missing_test_data",
    "base_url_mismatch",
    "missing_deserializer",
    "unused_openapi_auth",
    "unsupported_regex",
    "method_not_allowed",
    "constants_extraction",
    "unmatched_filter",
    "unresolvable_reference",
    "rate_limited",
    "dictionary_mismatch",
    "timeout_units",
)
"""Schemathesis' warnings shown for a vendor that sells from a catalogue: every one Schemathesis 4.32
shows by default but ``validation_mismatch`` (a unit test compares the list with the installed one).
Only a number the search returned can be bought, and only once, so most generated purchases that match
the schema are rightly refused (400, "not available"); Schemathesis reads that as a schema looser than
the API, which it is, by the vendor's own documentation."""


def project_settings(spec: VendorSpec) -> list[str]:
    """Settings of a vendor's ``[[project]]`` beyond its title and headers."""
    if any(write.operation == "create" and write.catalogue for write in spec.writes):
        return [f"warnings.display = {json.dumps(list(WARNINGS_WITH_A_CATALOGUE))}"]
    return []


def operation_tables(spec: VendorSpec) -> list[str]:
    """The ``[[project.operations]]`` tables of a vendor's writes (their accepted statuses)."""
    lines = []
    for operation_id, statuses in accepted_statuses(spec).items():
        lines += ["", "[[project.operations]]", f"include-operation-id = {_toml_string(operation_id)}"]
        lines.append(f"checks.positive_data_acceptance.expected-statuses = {json.dumps(statuses)}")
    return lines


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
        lines += project_settings(spec)
        lines += operation_tables(spec)
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
