"""Authentication remembers the digest of header values that authenticated a moment ago.

A client sends the same key on every request, so the SHA-256 is not computed again for it; what these
tests pin is that the shortcut changes nothing else: a revoked, rebound or reloaded key is judged afresh
on the very next request, the tenant header is still checked, what is remembered stays bounded, and
the key shows up in no repr.
"""

from __future__ import annotations

import pytest

from mockserver.kinds import auth
from mockserver.kinds.auth import (
    RECENT_KEYS,
    Authenticator,
    AuthSpec,
    Credential,
    Denied,
    Principal,
    Refusal,
    digest,
)
from mockserver.serving.app import create_app

BEARER = AuthSpec("bearer", ())
ORGANIZATION = AuthSpec("api-key", (), header="X-API-Key", tenant_header="X-Organization-Id")


def bearer(key: str) -> dict[str, str]:
    return {"authorization": f"Bearer {key}"}


@pytest.fixture
def hashed(monkeypatch: pytest.MonkeyPatch) -> list[bytes]:
    """Every key the authenticator hashes, in order."""
    seen: list[bytes] = []

    def counting(key: bytes) -> bytes:
        seen.append(key)
        return digest(key)

    monkeypatch.setattr(auth, "digest", counting)
    return seen


def test_a_key_seen_a_moment_ago_is_not_hashed_again(hashed: list[bytes]) -> None:
    authenticator = Authenticator(BEARER, [Credential("k1", "acme")])
    hashed.clear()  # the accepted keys' digests, made once
    for _ in range(5):
        assert authenticator.authenticate(bearer("k1")) == Principal("acme")
    assert hashed == [b"k1"]


def test_a_revoked_key_is_refused_on_the_very_next_request() -> None:
    authenticator = Authenticator(BEARER, [Credential("k1", "acme"), Credential("k2", "acme")])
    assert authenticator.authenticate(bearer("k1")) == Principal("acme")
    assert authenticator.revoke("k1")
    assert authenticator.authenticate(bearer("k1")) == Denied(Refusal.INVALID, "Authorization")
    assert authenticator.authenticate(bearer("k2")) == Principal("acme")


def test_a_key_revoked_while_a_request_was_remembering_it_is_still_refused() -> None:
    authenticator = Authenticator(BEARER, [Credential("k1", "acme")])
    assert authenticator.authenticate(bearer("k1")) == Principal("acme")
    remembered = dict(authenticator._recent)
    authenticator.revoke("k1")
    authenticator._recent = remembered  # as if a request in another thread stored it after the revocation
    assert authenticator.authenticate(bearer("k1")) == Denied(Refusal.INVALID, "Authorization")


def test_a_key_bound_again_or_reloaded_gets_its_new_tenant_at_once() -> None:
    authenticator = Authenticator(BEARER, [Credential("k1", "acme")])
    assert authenticator.authenticate(bearer("k1")) == Principal("acme")
    authenticator.add(Credential("k1", "globex"))
    assert authenticator.authenticate(bearer("k1")) == Principal("globex")
    authenticator.load({digest(b"k1").hex(): "initech"})  # another process changed the keys
    assert authenticator.authenticate(bearer("k1")) == Principal("initech")
    authenticator.restore([])
    assert authenticator.authenticate(bearer("k1")) == Denied(Refusal.INVALID, "Authorization")
    authenticator.restore([(digest(b"k1").hex(), "umbrella")])
    assert authenticator.authenticate(bearer("k1")) == Principal("umbrella")
    authenticator.load({})
    assert authenticator.authenticate(bearer("k1")) == Denied(Refusal.INVALID, "Authorization")


def test_the_tenant_header_is_checked_on_every_request() -> None:
    authenticator = Authenticator(ORGANIZATION, [Credential("bk_1", "org_a")])
    right = {"x-api-key": "bk_1", "x-organization-id": "org_a"}
    assert authenticator.authenticate(right) == Principal("org_a")
    assert authenticator.authenticate({**right, "x-organization-id": "org_b"}) == Denied(
        Refusal.FORBIDDEN, "X-Organization-Id"
    )
    assert authenticator.authenticate({"x-api-key": "bk_1"}) == Denied(Refusal.MISSING, "X-Organization-Id")
    assert authenticator.authenticate(right) == Principal("org_a")


def test_what_is_remembered_stays_bounded_and_holds_no_refused_value() -> None:
    keys = [Credential(f"key-{index}", "acme") for index in range(3 * RECENT_KEYS)]
    authenticator = Authenticator(BEARER, keys)
    for item in keys:
        assert authenticator.authenticate(bearer(item.key)) == Principal("acme")
        assert len(authenticator._recent) <= RECENT_KEYS
    authenticator.authenticate(bearer("wrong"))
    authenticator.authenticate(bearer("x" * 5000))
    assert all("wrong" not in value and len(value) < 5000 for value, _ in authenticator._recent)


def test_the_key_is_in_no_repr() -> None:
    authenticator = Authenticator(BEARER, [Credential("sk-secret-1", "acme")])
    authenticator.authenticate(bearer("sk-secret-1"))
    assert "sk-secret-1" not in repr(authenticator)


def test_a_vendor_refuses_a_revoked_key_on_the_next_request_and_after_a_reset() -> None:
    butter = create_app().state.emulator.apps["butter"]
    tenancy = butter.tenancy
    tenancy.register("bk_mine", "org_mine")
    scope = {
        "type": "http", "method": "GET", "path": "/api/phone-numbers", "root_path": "", "query_string": b"",
        "headers": [(b"x-api-key", b"bk_mine"), (b"x-organization-id", b"org_mine")],
    }  # fmt: skip
    assert butter.reply(scope).status == 200
    assert butter.reply(scope).status == 200
    tenancy.revoke("bk_mine")
    assert butter.reply(scope).status == 401
    tenancy.register("bk_mine", "org_mine")
    assert butter.reply(scope).status == 200
    tenancy.reset()
    assert butter.reply(scope).status == 401
