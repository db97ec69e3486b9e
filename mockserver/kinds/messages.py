"""Validation messages in each vendor framework's own words.

A vendor declares its style (``laravel``, ``class-validator`` or ``plain``); the engine turns a
:class:`~mockserver.kinds.params.Violation` into the sentence that framework would write, so a client's
error display is exercised with realistic text.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal, TypeAlias

from mockserver.kinds.params import Violation

MessageStyle = Callable[[Violation], str]
MessageStyleName: TypeAlias = Literal["laravel", "class-validator", "plain"]


def laravel(violation: Violation) -> str:
    """Laravel's validator: 'The selected status is invalid.', 'The per page field must ...'."""
    attribute = violation.field.replace("_", " ")
    sentences = {
        "enum": f"The selected {attribute} is invalid.",
        "integer": f"The {attribute} field must be an integer.",
        "minimum": f"The {attribute} field must be at least {violation.limit}.",
        "maximum": f"The {attribute} field must not be greater than {violation.limit}.",
        "min_length": f"The {attribute} field must be at least {violation.limit} characters.",
        "uuid": f"The {attribute} field must be a valid UUID.",
        "empty": f"The {attribute} field must have a value.",
        "repeated": f"The {attribute} field must be a single value, not a list.",
        "unknown": f"The {attribute} field is not allowed.",
        "encoding": f"The {attribute} field must be valid UTF-8 text.",
        "cursor": f"The {attribute} is invalid: {violation.detail}",
    }
    return sentences.get(violation.rule, f"The {attribute} field is invalid.")


def class_validator(violation: Violation) -> str:
    """NestJS class-validator: 'limit must not be less than 0'."""
    field = violation.field
    sentences = {
        "enum": f"{field} must be one of the following values: {', '.join(violation.allowed)}",
        "integer": f"{field} must be an integer number",
        "minimum": f"{field} must not be less than {violation.limit}",
        "maximum": f"{field} must not be greater than {violation.limit}",
        "min_length": f"{field} must be longer than or equal to {violation.limit} characters",
        "uuid": f"{field} must be a UUID",
        "empty": f"{field} should not be empty",
        "repeated": f"{field} must be a single value, not an array",
        "unknown": f"property {field} should not exist",
        "encoding": f"{field} must be valid UTF-8 text",
        "cursor": f"{field} is invalid: {violation.detail}",
    }
    return sentences.get(violation.rule, f"{field} is invalid")


def plain(violation: Violation) -> str:
    """A neutral style for vendors whose framework is unknown."""
    field = violation.field
    sentences = {
        "enum": f"Invalid value for '{field}': expected one of {', '.join(violation.allowed)}",
        "integer": f"Invalid value for '{field}': expected an integer",
        "minimum": f"Invalid value for '{field}': must be at least {violation.limit}",
        "maximum": f"Invalid value for '{field}': must be at most {violation.limit}",
        "min_length": f"Invalid value for '{field}': must be at least {violation.limit} characters",
        "uuid": f"Invalid value for '{field}': expected a UUID",
        "empty": f"Invalid value for '{field}': must not be empty",
        "repeated": f"Invalid value for '{field}': given more than once",
        "unknown": f"Unknown parameter '{field}'",
        "encoding": f"Invalid value for '{field}': not valid UTF-8",
        "cursor": f"Invalid value for '{field}': {violation.detail}",
    }
    return sentences.get(violation.rule, f"Invalid value for '{field}'")


STYLES: dict[MessageStyleName, MessageStyle] = {
    "laravel": laravel,
    "class-validator": class_validator,
    "plain": plain,
}
