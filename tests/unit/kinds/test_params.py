"""Query parsing: typed values, defaults, and a Violation (never an exception) for every bad input."""

from __future__ import annotations

import pytest

from mockserver.kinds.params import ParamSpec, QueryPolicy, Violation, parse_query

SPECS = {
    "page": ParamSpec("page", "integer", default=1, minimum=1, maximum=500),
    "status": ParamSpec("status", "string", enum=("free", "assigned")),
    "agent": ParamSpec("agent", "string", format="uuid"),
    "q": ParamSpec("q", "string", min_length=2),
}
STRICT = QueryPolicy()


def test_declared_parameters_are_typed_and_defaults_filled() -> None:
    assert parse_query(b"page=3&status=free", SPECS, STRICT) == {
        "page": 3,
        "status": "free",
        "agent": None,
        "q": None,
    }
    assert parse_query(b"", SPECS, STRICT) == {"page": 1, "status": None, "agent": None, "q": None}


def test_undeclared_parameters_are_ignored() -> None:
    assert parse_query(b"utm_source=x&page=2", SPECS, STRICT)["page"] == 2  # type: ignore[index]


@pytest.mark.parametrize(
    ("query", "rule"),
    [
        (b"page=0", "minimum"),
        (b"page=501", "maximum"),
        (b"page=-1", "minimum"),
        (b"page=1.0", "integer"),
        (b"page=%D9%A5", "integer"),  # ARABIC-INDIC DIGIT FIVE: int() accepts it, the vendors do not
        (b"page=+5", "integer"),
        (b"page=5_0", "integer"),
        (b"page=%205", "integer"),
        (b"page=" + b"9" * 5000, "maximum"),
        (b"page=5%0A", "integer"),
        (b"page=-" + b"9" * 30, "minimum"),
        (b"status%5B%5D=free", "repeated"),
        (b"status[0]=free", "repeated"),
        (b"status=FREE", "enum"),
        (b"agent=3c90c3cc0d444b5088888dd25736052a", "uuid"),
        (b"agent=3c90c3cc-0d44-4b50-8888-8dd25736052a%0A", "uuid"),  # was a ValueError: a 500
        (b"q=a", "min_length"),
        (b"status=", "empty"),
        (b"status=free&status=assigned", "repeated"),
        (b"q=%FF%FE", "encoding"),
    ],
)
def test_bad_values_are_violations_naming_the_rule(query: bytes, rule: str) -> None:
    result = parse_query(query, SPECS, STRICT)
    assert isinstance(result, Violation)
    assert result.rule == rule


def test_integers_are_64_bit_even_without_a_declared_maximum() -> None:
    """The emulator echoes numbers back as JSON; beyond 64 bits no vendor backend could hold them."""
    spec = {"offset": ParamSpec("offset", "integer", minimum=0)}
    assert parse_query(b"offset=9223372036854775807", spec, STRICT) == {"offset": 2**63 - 1}
    assert parse_query(b"offset=" + b"0" * 30 + b"5", spec, STRICT) == {"offset": 5}
    too_big = parse_query(b"offset=9223372036854775808", spec, STRICT)
    assert isinstance(too_big, Violation)
    assert (too_big.rule, too_big.limit) == ("maximum", 2**63 - 1)


def test_undeclared_parameters_are_ignored_even_when_not_utf8() -> None:
    assert parse_query(b"foo=%FF&page=2", SPECS, STRICT)["page"] == 2  # type: ignore[index]


@pytest.mark.parametrize(("policy", "expected"), [("first", "free"), ("last", "assigned")])
def test_repeated_parameters_follow_the_vendor_policy(policy: str, expected: str) -> None:
    result = parse_query(b"status=free&status=assigned", SPECS, QueryPolicy(repeated=policy))  # type: ignore[arg-type]
    assert result["status"] == expected  # type: ignore[index]


def test_empty_values_can_be_ignored() -> None:
    assert parse_query(b"status=&page=", SPECS, QueryPolicy(empty="ignore"))["page"] == 1  # type: ignore[index]


def test_undeclared_parameters_can_be_rejected() -> None:
    rejecting = QueryPolicy(unknown="reject")
    assert parse_query(b"page=2&utm_source=x", SPECS, rejecting) == Violation("utm_source", "unknown")
    assert parse_query(b"page=2&status=free", SPECS, rejecting) == {
        "page": 2,
        "status": "free",
        "agent": None,
        "q": None,
    }
    assert parse_query(b"status%5B%5D=free", SPECS, rejecting) == Violation("status", "repeated")


def test_unsupported_schema_keywords_are_refused_at_load() -> None:
    with pytest.raises(ValueError, match="unsupported"):
        ParamSpec.from_openapi({"name": "x", "in": "query", "schema": {"type": "string", "pattern": "^a$"}})
