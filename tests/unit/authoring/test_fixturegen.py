"""Fixtures from recipes: the generator, its derived coverage, and the commands that drive it."""

from __future__ import annotations

import re
from pathlib import Path
from random import Random

import pytest

from mockserver.authoring.fixturegen import generate
from mockserver.cli import main
from mockserver.data.patterns import UnsupportedPattern, draw_matching
from mockserver.data.recipes import Compiler, Context, RecipeError
from mockserver.documents.schemas import SchemaStore
from tests.conftest import SCHEMAS
from tests.madeup import edit, write_madeup

RECIPE = "madeup/recipe.json"


@pytest.fixture
def data(tmp_path: Path) -> tuple[Path, Path]:
    return write_madeup(tmp_path, SCHEMAS)


def test_fixtures_check_passes_when_current_and_names_a_stale_file(
    data: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    arguments = ["fixtures", "--check", "--schemas", str(data[0]), "--fixtures", str(data[1])]
    assert main(arguments) == 0
    fixture = data[1] / "madeup" / "numbers.json"
    fixture.write_text(fixture.read_text().replace("num_", "num-", 1))
    capsys.readouterr()
    assert main(arguments) == 1
    assert f"stale {fixture}" in capsys.readouterr().out


def test_a_recipe_too_small_for_three_pages_is_refused_with_the_endpoint(data: tuple[Path, Path]) -> None:
    """Three pages at the default size is derived from the declarations, not written in the recipe."""
    edit(data[1] / RECIPE, lambda r: r["datasets"]["numbers"].update(count=15))
    _, problems = generate(*data)
    assert problems == [
        f"{data[1] / 'madeup' / 'numbers.json'}: /api/lines lists 15 records: fewer than 3 pages of 10"
    ]


def test_an_unmatched_filter_value_is_refused_with_the_query(data: tuple[Path, Path]) -> None:
    """Every enum value of a filter matches a record: derived from the declarations."""
    edit(data[1] / RECIPE, lambda r: r["datasets"]["numbers"]["fields"].update(region={"const": "us"}))
    _, problems = generate(*data)
    assert problems == [f"{data[1] / 'madeup' / 'numbers.json'}: /api/lines?region=eu matches no record"]


def test_a_recipes_own_coverage_rule_is_enforced(data: tuple[Path, Path]) -> None:
    rule = {"field": "status", "values": ["inactive"], "at_least": 1000}
    edit(data[1] / RECIPE, lambda r: r["datasets"]["numbers"].update(coverage=[rule]))
    _, problems = generate(*data)
    assert len(problems) == 1
    assert "status='inactive' occurs" in problems[0]


def test_generation_is_deterministic(data: tuple[Path, Path]) -> None:
    first, _ = generate(*data)
    second, _ = generate(*data)
    assert [f.text for f in first] == [f.text for f in second]


def test_an_unknown_kind_names_the_field_and_the_kinds() -> None:
    with pytest.raises(RecipeError, match=r"status: give exactly one kind, one of choice, const, deal"):
        Compiler(SchemaStore(SCHEMAS)).field("status", {"pick": ["a"]}, None)


def test_a_lookup_without_an_entry_names_the_field_and_value() -> None:
    draw = Compiler(SchemaStore(SCHEMAS)).field("label", {"lookup": {"field": "type", "map": {"a": 1}}}, None)
    with pytest.raises(RecipeError, match=r"label: no entry for type='b'"):
        draw(Context(Random(0), 1, {}, {"type": "b"}))


def test_new_refuses_an_existing_vendor_and_a_bad_id(
    data: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    where = ["--schemas", str(data[0]), "--fixtures", str(data[1])]
    assert main(["new", "madeup", *where]) == 2
    assert "already exists" in capsys.readouterr().err
    assert main(["new", "Bad_Id", *where]) == 2
    assert "lowercase letters, digits and '-'" in capsys.readouterr().err


@pytest.mark.parametrize(
    "pattern",
    [r"^num_[0-9]{4}$", r"^phon_[0-9a-f]{12,}$", r"^(sip|pstn)-\d+\.[A-Z]?[^x]{2}$", r"^\w\s\S\D\W$"],
)
def test_drawn_strings_match_their_pattern(pattern: str) -> None:
    for seed in range(20):
        assert re.search(pattern, draw_matching(pattern, Random(seed))), pattern


def test_a_pattern_with_a_lookaround_cannot_be_drawn() -> None:
    with pytest.raises(UnsupportedPattern, match="cannot draw"):
        draw_matching(r"^(?!0)\d+$", Random(0))
    with pytest.raises(UnsupportedPattern, match="not a regular expression"):
        draw_matching(r"[unclosed", Random(0))
