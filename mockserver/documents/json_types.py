"""JSON values as types: what a parsed document may hold, and the narrowing of one value to a shape.

The declaration model is typed with these instead of ``Any``, so ``mypy --strict`` sees a key typo or a
misread shape. Parsed JSON is exactly this union (``json.load`` and ``orjson.loads`` build lists and
dicts); the helpers narrow one value where a caller needs an object or an array, and fail with the
place when the document holds something else.
"""

from collections.abc import Mapping
from typing import TypeAlias

JsonScalar: TypeAlias = bool | int | float | str | None
JsonValue: TypeAlias = JsonScalar | list["JsonValue"] | dict[str, "JsonValue"]
JsonObject: TypeAlias = dict[str, JsonValue]
JsonArray: TypeAlias = list[JsonValue]


def as_object(value: JsonValue, where: str = "value") -> JsonObject:
    """``value`` as a JSON object; TypeError naming ``where`` when it is not one."""
    if not isinstance(value, dict):
        raise TypeError(f"{where} is not a JSON object: {type(value).__name__}")
    return value


def as_array(value: JsonValue, where: str = "value") -> JsonArray:
    """``value`` as a JSON array; TypeError naming ``where`` when it is not one."""
    if not isinstance(value, list):
        raise TypeError(f"{where} is not a JSON array: {type(value).__name__}")
    return value


def member(document: Mapping[str, JsonValue], key: str, *keys: str) -> JsonValue:
    """The value at ``key, *keys`` in nested objects.

    KeyError when a key is absent, TypeError when a step is not an object.
    """
    node = document[key]
    for depth, step in enumerate(keys):
        node = as_object(node, "/".join((key, *keys[:depth])))[step]
    return node


def object_member(document: Mapping[str, JsonValue], key: str, *keys: str) -> JsonObject:
    """The JSON object at ``key, *keys`` (see :func:`member`)."""
    return as_object(member(document, key, *keys), "/".join((key, *keys)))
