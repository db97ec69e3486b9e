"""``schemathesis-config``: what it writes for a vendor that sells from a catalogue, and for the others."""

from __future__ import annotations

from pathlib import Path

from schemathesis.config import SchemathesisConfig
from schemathesis.core.warnings import SchemathesisWarning

from mockserver import create_app
from mockserver.testing.schemathesis_config import (
    WARNINGS_WITH_A_CATALOGUE,
    project_settings,
    schemathesis_toml,
)
from tests.conftest import data_config


def test_the_warnings_named_are_schemathesis_own_and_only_validation_mismatch_is_left_out() -> None:
    known = {str(warning) for warning in SchemathesisWarning}
    assert set(WARNINGS_WITH_A_CATALOGUE) <= known
    shown_by_default = {str(w) for w in SchemathesisConfig().projects.default.warnings.display}
    assert shown_by_default - set(WARNINGS_WITH_A_CATALOGUE) == {"validation_mismatch"}


def test_only_a_vendor_that_sells_from_a_catalogue_leaves_the_warning_out() -> None:
    emulator = create_app(data_config()).state.emulator
    selling = {
        vendor_id
        for vendor_id, spec in emulator.vendors.items()
        if any(write.operation == "create" and write.catalogue for write in spec.writes)
    }
    assert "famulor" in selling
    for vendor_id, spec in emulator.vendors.items():
        assert bool(project_settings(spec)) == (vendor_id in selling), vendor_id


def test_the_written_config_is_read_by_schemathesis() -> None:
    emulator = create_app(data_config()).state.emulator
    text = schemathesis_toml(emulator, Path("hooks.py"))
    config = SchemathesisConfig.from_str(text.replace('hooks = "hooks.py"\n', ""))  # not loaded here
    famulor = emulator.vendors["famulor"]
    title = str(famulor.openapi["info"]["title"])
    project = config.projects.get({"info": {"title": title}})
    assert "validation_mismatch" not in {str(w) for w in project.warnings.display}
