"""`mockserver check` as a linter: each class of broken declaration, written into a made-up vendor, is
refused with one line that names the file, the JSON pointer and the problem."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from mockserver.cli import main
from mockserver.engine.config import EmulatorConfig
from mockserver.engine.emulator import build_emulator
from mockserver.state.datasets import VendorDatasets
from tests.conftest import SCHEMAS
from tests.madeup import PATH, edit, write_madeup

OPERATION = f"#/paths/{PATH.replace('/', '~1')}/get"
OTHER_TITLE = "Other phone-number API (emulated)"


@pytest.fixture
def data(tmp_path: Path) -> tuple[Path, Path]:
    return write_madeup(tmp_path, SCHEMAS)


def declaration(document: Any) -> Any:
    return document["paths"][PATH]["get"]["x-emulator"]


def problems(data: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> list[str]:
    code = main(["check", "--schemas", str(data[0]), "--fixtures", str(data[1])])
    lines = capsys.readouterr().err.splitlines()
    assert (code == 0) == (lines == [])
    return lines


def test_the_made_up_vendor_passes_check(data: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    assert problems(data, capsys) == []


BROKEN: list[tuple[str, str, Callable[[Any], None], str]] = [
    (
        "filter-field-missing",
        "openapi.json",
        lambda d: declaration(d)["filters"][0].update(field="colour"),
        f"{OPERATION}/x-emulator/filters/0/field: "
        "filter 'status' uses field 'colour', which number.json does not declare",
    ),
    (
        "search-nested-field-missing",
        "openapi.json",
        lambda d: declaration(d)["filters"].append(
            {"param": "region", "kind": "contains", "fields": ["meta.label"]}
        ),
        f"{OPERATION}/x-emulator/filters/2/fields/0: "
        "search/filter 'region' uses field 'meta.label', which number.json does not declare",
    ),
    (
        "sort-field-missing",
        "openapi.json",
        lambda d: declaration(d)["order"]["options"].update(number=[["msisdn", "asc"]]),
        f"{OPERATION}/x-emulator/order/options/number/0/0: "
        "sort option 'number' uses field 'msisdn', which number.json does not declare",
    ),
    (
        "envelope-does-not-match-the-list-schema",
        "openapi.json",
        lambda d: declaration(d)["envelope"]["paging"].update(total="${has_more}"),
        f"{OPERATION}/x-emulator/envelope: pages (first, 2 middle, last, empty) do not match "
        "number-list.json: /paging/total: True is not of type 'integer'",
    ),
    (
        "host-owned-by-another-vendor",
        "openapi.json",
        lambda d: d["x-emulator"]["hosts"].append("api.other.example"),
        "#/x-emulator/hosts/0: host 'api.other.example' is also claimed by vendor madeup",
    ),
    (
        "document-title-of-another-vendor",
        "openapi.json",
        lambda d: d["info"].update(title=OTHER_TITLE),
        f"#/info/title: title {OTHER_TITLE!r} is also the title of vendor madeup's document",
    ),
    (
        "documented-parameter-not-declared",
        "openapi.json",
        lambda d: d["paths"][PATH]["get"]["parameters"].append(
            {"name": "label", "in": "query", "schema": {"type": "string", "minLength": 1}}
        ),
        f"{OPERATION}/parameters/5: documented parameter 'label' is not declared to the emulator",
    ),
    (
        "declared-parameter-not-documented",
        "openapi.json",
        lambda d: declaration(d)["filters"].append({"param": "label", "field": "status"}),
        f"{OPERATION}/x-emulator: filter on undeclared parameter 'label'",
    ),
    (
        "paging-style-typo",
        "openapi.json",
        lambda d: declaration(d)["paging"].update(style="pages"),
        f"{OPERATION}/x-emulator/paging/style: "
        "'pages' is not allowed; allowed values: none, offset, page, cursor",
    ),
    (
        "filter-kind-typo",
        "openapi.json",
        lambda d: declaration(d)["filters"][0].update(kind="equal"),
        f"{OPERATION}/x-emulator/filters/0/kind: "
        "'equal' is not allowed; allowed values: equals, equals-any, contains, include-flag",
    ),
    (
        "paging-style-missing",
        "openapi.json",
        lambda d: declaration(d)["paging"].pop("style"),
        f"{OPERATION}/x-emulator/paging/style: required; allowed values: none, offset, page, cursor",
    ),
    (
        "paging-option-typo",
        "openapi.json",
        lambda d: declaration(d)["paging"].update(over_max="cap"),
        f"{OPERATION}/x-emulator/paging/over_max: 'cap' is not allowed; allowed values: reject, clamp",
    ),
    (
        "sort-direction-typo",
        "openapi.json",
        lambda d: declaration(d)["order"]["options"].update(number=[["number", "up"]]),
        f"{OPERATION}/x-emulator/order/options/number/0/1: 'up' is not allowed; allowed values: asc, desc",
    ),
    (
        "auth-kind-typo",
        "openapi.json",
        lambda d: d["x-emulator"]["auth"].update(kind="basic"),
        "#/x-emulator/auth/kind: 'basic' is not allowed; allowed values: bearer, api-key",
    ),
    (
        "key-the-seeder-cannot-draw",
        "number.json",
        lambda d: d["properties"]["id"].update(pattern="^(?!num_0000)num_[0-9]{4}$"),
        "#/x-emulator/datasets/numbers/key: the seeder cannot draw a 'id'",
    ),
]


def _copy_madeup(data: tuple[Path, Path], vendor_id: str, host: str, title: str) -> None:
    """A second vendor: the made-up one under another id, with a host and a title of its own."""
    shutil.copytree(data[0] / "madeup", data[0] / vendor_id)
    shutil.copytree(data[1] / "madeup", data[1] / vendor_id)

    def distinct(document: Any) -> None:
        document["x-emulator"].update(hosts=[host])
        document["info"].update(title=title)

    edit(data[0] / vendor_id / "openapi.json", distinct)


@pytest.mark.parametrize(("file", "change", "message"), [b[1:] for b in BROKEN], ids=[b[0] for b in BROKEN])
def test_a_broken_declaration_is_refused_in_one_line(
    data: tuple[Path, Path],
    capsys: pytest.CaptureFixture[str],
    file: str,
    change: Callable[[Any], None],
    message: str,
) -> None:
    second = "also claimed by" in message or "also the title of" in message
    if second:
        _copy_madeup(data, "other", "api.other.example", OTHER_TITLE)
    edit(data[0] / "madeup" / file, change)
    found = problems(data, capsys)
    assert len(found) == 1, found
    vendor = "other" if second else "madeup"
    assert found[0].startswith(f"error: {data[0] / vendor / 'openapi.json'}: #/")
    assert message in found[0]


def test_a_mount_that_could_clash_by_case_is_refused(
    data: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    _copy_madeup(data, "Madeup", "api.upper.example", "Upper phone-number API (emulated)")
    assert problems(data, capsys) == [
        f"error: {data[0] / 'Madeup' / 'openapi.json'}: mount /Madeup: a vendor id (its folder name) is "
        "lowercase letters, digits and '-'"
    ]


def test_seeding_a_partial_record_draws_a_key_that_matches_the_pattern(data: tuple[Path, Path]) -> None:
    """ids are ^num_[0-9]{4}$: a partial record gets a fresh key of that shape, valid and unused."""
    emulator = build_emulator(EmulatorConfig(schemas_dir=data[0], fixtures_dir=data[1]))
    state: VendorDatasets = emulator.datasets["madeup"]
    before = {record["id"] for record in state.dataset("default", "numbers").records}
    seeded = state.seed("t", "numbers", [{"status": "inactive"}, {"region": "eu"}], mode="extend")
    fresh = [record["id"] for record in seeded.records if record["id"] not in before]
    assert len(fresh) == 2
    assert all(key.startswith("num_") and len(key) == 8 and key[4:].isdigit() for key in fresh)


# ---------------------------------------------------------------- write declarations

LINE = f"{PATH}/{{id}}"


def with_writes(data: tuple[Path, Path]) -> None:
    """The made-up vendor with a catalogue of numbers to take, a create, an update and a delete."""
    vendor = data[0] / "madeup"
    (vendor / "take-request.json").write_text(
        json.dumps({"type": "object", "required": ["number"], "properties": {"number": {"type": "string"}}}),
        encoding="utf-8",
    )
    (vendor / "offer.json").write_text(
        json.dumps({"type": "object", "properties": {"number": {"type": "string"}}}), encoding="utf-8"
    )
    (data[1] / "madeup" / "offers.json").write_text(json.dumps({"records": []}), encoding="utf-8")
    error = {"$ref": "#/components/responses/Error"}
    body = {"content": {"application/json": {"schema": {"$ref": "take-request.json"}}}}
    path_id = [{"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}]

    def add(document: Any) -> None:
        document["x-emulator"]["catalogues"] = {
            "offers": {"schema": "offer.json", "key": "number", "fixture": "offers.json"}
        }
        document["paths"][PATH]["post"] = {
            "operationId": "takeLine",
            "requestBody": body,
            "responses": {"201": error, "400": error, "404": error},
            "x-emulator": {
                "operation": "create",
                "dataset": "numbers",
                "catalogue": "offers",
                "held_by": "number",
                "body_field": "number",
                "copy": ["number"],
                "errors": {
                    "invalid_body": "invalid_parameter",
                    "held": "not_found",
                    "not_offered": "not_found",
                },
            },
        }
        document["paths"][LINE] = {
            "put": {
                "operationId": "updateLine",
                "parameters": path_id,
                "requestBody": body,
                "responses": {"200": error, "404": error},
                "x-emulator": {
                    "operation": "update",
                    "dataset": "numbers",
                    "key_param": "id",
                    "fields": ["region"],
                    "errors": {"not_found": "not_found"},
                },
            },
            "delete": {
                "operationId": "dropLine",
                "parameters": path_id,
                "responses": {"200": error, "404": error},
                "x-emulator": {
                    "operation": "delete",
                    "dataset": "numbers",
                    "key_param": "id",
                    "errors": {"not_found": "not_found"},
                },
            },
        }

    edit(vendor / "openapi.json", add)


def write_declaration(document: Any, path: str, method: str) -> Any:
    return document["paths"][path][method]["x-emulator"]


def test_write_declarations_of_the_made_up_vendor_pass_check(
    data: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    with_writes(data)
    assert problems(data, capsys) == []


BROKEN_WRITES: list[tuple[str, Callable[[Any], None], str]] = [
    (
        "effect-on-undeclared-dataset",
        lambda d: write_declaration(d, LINE, "delete").update(dataset="lines"),
        "effect on undeclared dataset 'lines'",
    ),
    (
        "create-body-lacks-the-key-field",
        lambda d: write_declaration(d, PATH, "post").update(body_field="msisdn"),
        "the request body schema does not require the key field 'msisdn'",
    ),
    (
        "undeclared-catalogue",
        lambda d: write_declaration(d, PATH, "post").update(catalogue="stock"),
        "catalogue 'stock' is not declared",
    ),
    (
        "key-param-not-in-the-path",
        lambda d: write_declaration(d, LINE, "put").update(key_param="line"),
        "key_param 'line' is not a parameter of the path",
    ),
    (
        "outcome-names-an-undeclared-error",
        lambda d: write_declaration(d, LINE, "delete").update(errors={"not_found": "gone"}),
        "error 'gone' is not declared",
    ),
    (
        "operation-on-the-wrong-method",
        lambda d: write_declaration(d, LINE, "delete").update(operation="update"),
        "an update operation is PUT",
    ),
    (
        "update-writes-an-undeclared-field",
        lambda d: write_declaration(d, LINE, "put").update(fields=["label"]),
        "update uses field 'label', which number.json does not declare",
    ),
    (
        "create-copies-a-field-the-catalogue-lacks",
        lambda d: write_declaration(d, PATH, "post").update(copy=["region"]),
        "copy uses field 'region', which offer.json does not declare",
    ),
]


@pytest.mark.parametrize(
    ("change", "message"), [b[1:] for b in BROKEN_WRITES], ids=[b[0] for b in BROKEN_WRITES]
)
def test_a_broken_write_declaration_is_refused_in_one_line(
    data: tuple[Path, Path], capsys: pytest.CaptureFixture[str], change: Callable[[Any], None], message: str
) -> None:
    with_writes(data)
    edit(data[0] / "madeup" / "openapi.json", change)
    found = problems(data, capsys)
    assert len(found) == 1, found
    assert found[0].startswith(f"error: {data[0] / 'madeup' / 'openapi.json'}: #/paths/")
    assert message in found[0]
