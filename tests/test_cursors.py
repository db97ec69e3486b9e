"""Cursors: stateless, tamper-evident, bound to their scope."""

from __future__ import annotations

from mockserver.cursors import CursorCodec, CursorProblem, scope_digest

SCOPE = scope_digest("butter", "/api/phone-numbers", "org_test", [("status", "free")])


def test_a_cursor_round_trips_on_any_replica_with_the_same_secret() -> None:
    cursor = CursorCodec("s3cret").issue("phon_a1b2c3d4e5f6", SCOPE)
    assert CursorCodec("s3cret").read(cursor, SCOPE) == "phon_a1b2c3d4e5f6"


def test_a_cursor_from_another_secret_is_refused() -> None:
    cursor = CursorCodec("one").issue("phon_a1b2c3d4e5f6", SCOPE)
    assert isinstance(CursorCodec("two").read(cursor, SCOPE), CursorProblem)


def test_a_cursor_for_another_scope_is_refused() -> None:
    codec = CursorCodec("s3cret")
    cursor = codec.issue("phon_a1b2c3d4e5f6", SCOPE)
    other = scope_digest("butter", "/api/phone-numbers", "org_other", [("status", "free")])
    problem = codec.read(cursor, other)
    assert isinstance(problem, CursorProblem)
    assert "other filters" in problem.reason


def test_every_single_character_change_is_detected() -> None:
    codec = CursorCodec("s3cret")
    cursor = codec.issue("phon_a1b2c3d4e5f6", SCOPE)
    for index in range(len(cursor)):
        replacement = "A" if cursor[index] != "A" else "B"
        tampered = cursor[:index] + replacement + cursor[index + 1 :]
        assert isinstance(codec.read(tampered, SCOPE), CursorProblem), index


def test_scope_digests_do_not_depend_on_dict_order() -> None:
    assert scope_digest({"a": 1, "b": 2}) == scope_digest({"b": 2, "a": 1})
