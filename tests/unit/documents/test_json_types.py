"""Narrowing JSON values: an object or an array where one is expected, the place named when it is not."""

import pytest

from mockserver.documents.json_types import JsonObject, as_array, as_object, member, object_member

DOCUMENT: JsonObject = {"paths": {"/numbers": {"get": {"responses": {"200": {}}}}}, "servers": [1]}


def test_member_walks_nested_objects() -> None:
    assert object_member(DOCUMENT, "paths", "/numbers", "get") == {"responses": {"200": {}}}


def test_an_absent_key_is_a_key_error() -> None:
    with pytest.raises(KeyError):
        member(DOCUMENT, "paths", "/missing")


def test_a_step_through_something_else_than_an_object_names_where() -> None:
    with pytest.raises(TypeError, match="servers is not a JSON object"):
        member(DOCUMENT, "servers", "0")


def test_as_array_and_as_object_refuse_the_other_shape() -> None:
    assert as_array(DOCUMENT["servers"]) == [1]
    with pytest.raises(TypeError, match="servers is not a JSON object: list"):
        as_object(DOCUMENT["servers"], "servers")
    with pytest.raises(TypeError, match="paths is not a JSON array: dict"):
        as_array(DOCUMENT["paths"], "paths")
