"""One line per declaration error: the JSON pointer, what is wrong, and for a choice, the allowed values.

A raw ``oneOf`` failure lists every branch's complaint; a declaration author needs to hear that
``paging/style`` is ``'pages'`` and must be one of ``none, offset, page, cursor``. Branches that are told
apart by a ``const`` (a *discriminator*, such as ``style``) are explained by that field, or, when the
field picks a branch, by that branch's own first error.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from jsonschema.exceptions import ValidationError

CHOICE_RULES = ("enum", "const")


def pointer(parts: Iterable[Any]) -> str:
    """An RFC 6901 JSON pointer (``/paths/~1v1~1numbers/get``) of a path of keys and indexes."""
    return "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in parts)


def allowed(values: Sequence[Any]) -> str:
    """The allowed values in one line: ``none, offset, page, cursor``."""
    return ", ".join(str(value) if isinstance(value, str) else repr(value) for value in values)


def _discriminator(branches: Sequence[Any]) -> tuple[str, list[Any]] | None:
    """The property every branch pins with a ``const``, and the values, if there is one."""
    if not branches or not all(isinstance(branch, Mapping) for branch in branches):
        return None
    first = branches[0].get("properties", {})
    for name in first:
        values = [branch.get("properties", {}).get(name, {}).get("const") for branch in branches]
        if all(isinstance(branch.get("properties", {}).get(name), Mapping) for branch in branches) and all(
            "const" in branch["properties"][name] for branch in branches
        ):
            return name, values
    return None


def _choice_message(where: str, value: Any, values: Sequence[Any]) -> str:
    return f"{where}: {value!r} is not allowed; allowed values: {allowed(values)}"


def _fitting_branch(error: ValidationError, branches: Sequence[Any]) -> str | None:
    """Without a discriminator: the one branch whose required properties the instance has, explained."""
    fitting = [
        number
        for number, branch in enumerate(branches)
        if isinstance(branch, Mapping) and set(branch.get("required", ())) <= set(error.instance)  # type: ignore[arg-type]
    ]
    if len(fitting) != 1:
        return None
    inner = [sub for sub in error.context or () if list(sub.schema_path)[:1] == fitting]
    return explain(inner) if inner else None


def _branch_error(error: ValidationError) -> str | None:
    """For a oneOf/anyOf told apart by a const: the discriminator's problem, or the chosen branch's."""
    branches = error.schema.get(str(error.validator)) if isinstance(error.schema, Mapping) else None
    if not isinstance(error.instance, Mapping) or not isinstance(branches, list):
        return None
    found = _discriminator(branches)
    if found is None:
        return _fitting_branch(error, branches)
    name, values = found
    where = pointer([*error.absolute_path, name])
    if name not in error.instance:
        return f"{where}: required; allowed values: {allowed(values)}"
    if error.instance[name] not in values:
        return _choice_message(where, error.instance[name], values)
    chosen = values.index(error.instance[name])
    inner = [sub for sub in error.context or () if list(sub.schema_path)[:1] == [chosen]]
    return explain(inner) if inner else None


def _missing_choice(error: ValidationError) -> str | None:
    """A required property that picks a oneOf branch (``paging.style``): say which values it takes."""
    branches = error.schema.get("oneOf") if isinstance(error.schema, Mapping) else None
    found = _discriminator(branches) if isinstance(branches, list) else None
    if found is None or not isinstance(error.instance, Mapping) or found[0] in error.instance:
        return None
    return f"{pointer([*error.absolute_path, found[0]])}: required; allowed values: {allowed(found[1])}"


def _one(error: ValidationError) -> str:
    if error.validator == "required" and (missing := _missing_choice(error)) is not None:
        return missing
    if error.validator in ("oneOf", "anyOf"):
        branch = _branch_error(error)
        if branch is not None:
            return branch
    where = pointer(error.absolute_path) or "/"
    if error.validator == "enum":
        return _choice_message(where, error.instance, list(error.validator_value))  # type: ignore[arg-type]
    if error.validator == "const":
        return _choice_message(where, error.instance, [error.validator_value])
    return f"{where}: {error.message} (schema rule {error.validator!r})"


def _rank(error: ValidationError) -> tuple[bool, list[str]]:
    """Choices first (a typo in a kind explains the missing fields after it), then in document order."""
    return (error.validator not in CHOICE_RULES, [str(part) for part in error.path])


def explain(errors: Iterable[ValidationError]) -> str:
    """The most useful one-line explanation of a declaration's validation errors."""
    ranked = sorted(_flatten(errors), key=_rank)
    return _one(ranked[0])


def _flatten(errors: Iterable[ValidationError]) -> list[ValidationError]:
    """The errors, with ``if``/``then``/``allOf`` wrappers replaced by what they contain."""
    out: list[ValidationError] = []
    for error in errors:
        if error.validator == "allOf" and error.context:
            out += _flatten(error.context)
        else:
            out.append(error)
    return out
