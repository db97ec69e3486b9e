"""Loading: a broken declaration, schema or fixture stops start-up with the file and the problem."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from mockserver import ConfigurationError, DeclarationError, EmulatorConfig, build_emulator
from tests.conftest import FIXTURES, SCHEMAS


@pytest.fixture
def copy(tmp_path: Path) -> EmulatorConfig:
    shutil.copytree(SCHEMAS, tmp_path / "schemas")
    shutil.copytree(FIXTURES, tmp_path / "fixtures")
    return EmulatorConfig(schemas_dir=tmp_path / "schemas", fixtures_dir=tmp_path / "fixtures")


def edit(path: Path, change: Callable[[Any], None]) -> None:
    document = json.loads(path.read_text())
    change(document)
    path.write_text(json.dumps(document))


def operation(document: Any, path: str) -> Any:
    return document["paths"][path]["get"]


@pytest.mark.parametrize(
    ("vendor", "change", "problem"),
    [
        (
            "butter",
            lambda d: operation(d, "/api/phone-numbers")["x-emulator"]["paging"].update(style="pages"),
            "#/paths/~1api~1phone-numbers/get/x-emulator/paging/style: 'pages' is not allowed; "
            "allowed values: none, offset, page, cursor",
        ),
        (
            "butter",
            lambda d: operation(d, "/api/phone-numbers")["x-emulator"]["filters"].append(
                {"param": "nope", "field": "x"}
            ),
            "filter on undeclared parameter 'nope'",
        ),
        (
            "contactship",
            lambda d: operation(d, "/v1/phone-numbers")["x-emulator"]["envelope"].update(
                extra="${next_cursor}"
            ),
            "does not provide",
        ),
        (
            "famulor",
            lambda d: d["x-emulator"]["errors"].pop("not_found"),
            "'not_found' is a required property",
        ),
        (
            "mindhunters",
            lambda d: d["x-emulator"]["options"]["over_max"].update(value="ignore"),
            "must be one of",
        ),
        (
            "butter",
            lambda d: d["x-emulator"]["options"]["max_page_size"].update(targets=["/paths/nowhere"]),
            "does not exist",
        ),
    ],
)
def test_a_broken_declaration_names_its_file_and_the_problem(
    copy: EmulatorConfig, vendor: str, change: Callable[[Any], None], problem: str
) -> None:
    edit(copy.schemas_dir / vendor / "openapi.json", change)
    with pytest.raises(DeclarationError) as raised:
        build_emulator(copy)
    assert raised.value.source.endswith(f"{vendor}/openapi.json")
    assert problem in str(raised.value)


def test_invalid_json_names_the_line(copy: EmulatorConfig) -> None:
    (copy.schemas_dir / "famulor" / "openapi.json").write_text('{\n  "openapi": "3.1.0",\n  oops\n}')
    with pytest.raises(DeclarationError, match="invalid JSON at line 3"):
        build_emulator(copy)


def test_an_invalid_fixture_record_names_the_record_field_and_rule(copy: EmulatorConfig) -> None:
    edit(
        copy.fixtures_dir / "contactship" / "phone-numbers.json",
        lambda d: d["records"][3].update(type="both"),
    )
    with pytest.raises(DeclarationError) as raised:
        build_emulator(copy)
    assert raised.value.source.endswith("contactship/phone-numbers.json")
    assert "record 3: /type: 'both' is not one of" in raised.value.problem


def test_the_first_bad_record_is_the_one_named(copy: EmulatorConfig) -> None:
    def damage(document: Any) -> None:
        records = document["records"]
        records[2]["phone_number_id"] = records[1]["phone_number_id"]  # a duplicate key first
        records[4]["created_at"] = "2024-02-30T10:00:00Z"  # then a date that does not exist

    path = copy.fixtures_dir / "butter" / "phone-numbers.json"
    edit(path, damage)
    with pytest.raises(DeclarationError, match="record 2: duplicate or unusable phone_number_id"):
        build_emulator(copy)
    edit(path, lambda d: d["records"][2].update(phone_number_id="phon_0123456789ab"))
    with pytest.raises(DeclarationError) as raised:
        build_emulator(copy)
    assert (
        raised.value.problem
        == "record 4: /created_at: '2024-02-30T10:00:00Z' is not a 'date-time' (schema rule 'format')"
    )


def test_a_fixture_with_an_extra_field_is_refused(copy: EmulatorConfig) -> None:
    edit(copy.fixtures_dir / "butter" / "phone-numbers.json", lambda d: d["records"][0].update(label="x"))
    with pytest.raises(DeclarationError, match="Unevaluated properties are not allowed"):
        build_emulator(copy)


def test_a_missing_fixture_file_is_named(copy: EmulatorConfig) -> None:
    (copy.fixtures_dir / "famulor" / "whatsapp-senders.json").unlink()
    with pytest.raises(DeclarationError, match=r"whatsapp-senders\.json: file not found"):
        build_emulator(copy)


def test_unknown_vendors_and_options_are_configuration_errors(copy: EmulatorConfig) -> None:
    with pytest.raises(ConfigurationError, match="unknown vendor"):
        build_emulator(EmulatorConfig(vendors=("twilio",)))
    with pytest.raises(DeclarationError, match="unknown option"):
        build_emulator(EmulatorConfig(options={"butter": {"page_sise": 3}}))
    with pytest.raises(DeclarationError, match="takes a int"):
        build_emulator(EmulatorConfig(options={"butter": {"default_page_size": "ten"}}))
