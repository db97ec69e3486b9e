"""Cursors: stateless, tamper-evident, bound to their scope."""

from __future__ import annotations

import pytest

from mockserver.kinds.cursors import CursorCodec, CursorProblem, _encode, cursor_scope, scope_digest

SCOPE = scope_digest("butter", "/api/phone-numbers", "org_test", [("status", "free")])


def test_a_cursor_round_trips_on_any_replica_with_the_same_secret() -> None:
    cursor = CursorCodec("s3cret").issue("phon_a1b2c3d4e5f6", SCOPE)
    assert CursorCodec("s3cret").read(cursor, SCOPE) == "phon_a1b2c3d4e5f6"


def test_a_cursor_from_another_secret_is_refused() -> None:
    cursor = CursorCodec("one").issue("phon_a1b2c3d4e5f6", SCOPE)
    assert isinstance(CursorCodec("two").read(cursor, SCOPE), CursorProblem)


def test_a_cursor_for_another_query_says_to_send_the_same_filters() -> None:
    codec = CursorCodec("s3cret")
    issued = cursor_scope(("butter", "/api/phone-numbers", "org_test"), ([("status", "free")], "desc"))
    replayed = cursor_scope(("butter", "/api/phone-numbers", "org_test"), ([], "desc"))
    problem = codec.read(codec.issue("phon_a1b2c3d4e5f6", issued), replayed)
    assert isinstance(problem, CursorProblem)
    assert "other filters" in problem.reason
    assert "same query parameters" in problem.reason


def test_a_cursor_of_another_tenant_says_so() -> None:
    codec = CursorCodec("s3cret")
    issued = cursor_scope(("butter", "/api/phone-numbers", "org_test"), ([("status", "free")], "desc"))
    replayed = cursor_scope(("butter", "/api/phone-numbers", "org_other"), ([("status", "free")], "desc"))
    problem = codec.read(codec.issue("phon_a1b2c3d4e5f6", issued), replayed)
    assert isinstance(problem, CursorProblem)
    assert "another tenant" in problem.reason


def test_every_single_character_change_is_detected() -> None:
    codec = CursorCodec("s3cret")
    cursor = codec.issue("phon_a1b2c3d4e5f6", SCOPE)
    for index in range(len(cursor)):
        replacement = "A" if cursor[index] != "A" else "B"
        tampered = cursor[:index] + replacement + cursor[index + 1 :]
        assert isinstance(codec.read(tampered, SCOPE), CursorProblem), index


def test_scope_digests_do_not_depend_on_dict_order() -> None:
    assert scope_digest({"a": 1, "b": 2}) == scope_digest({"b": 2, "a": 1})


@pytest.mark.parametrize(
    "payload",
    [
        b"[1]",
        b'"x"',
        b"null",
        b"\xff\xfe",
        b'{"scope":"s"}',
        b'{"id":[1],"scope":"s"}',
        b'{"id":{},"scope":"s"}',
        b'{"id":true,"scope":"s"}',
        b'{"id":"a","scope":1}',
        b"{",
    ],
)
def test_a_correctly_signed_but_malformed_payload_is_refused_not_crashed(payload: bytes) -> None:
    """The default secret is public, so anyone can sign; the payload is checked, not trusted."""
    codec = CursorCodec("public")
    forged = f"{_encode(payload)}.{_encode(codec._mac(payload))}"
    assert isinstance(codec.read(forged, "s"), CursorProblem)


def test_non_canonical_base64_is_refused() -> None:
    codec = CursorCodec("s3cret")
    cursor = codec.issue("phon_a1b2c3d4e5f6", SCOPE)
    for variant in (cursor + "==", cursor.replace("-", "+").replace("_", "/"), cursor[:4] + "*" + cursor[4:]):
        if variant != cursor:
            assert isinstance(codec.read(variant, SCOPE), CursorProblem), variant
