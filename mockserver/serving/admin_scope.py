"""Who an admin request acts for, and what it may touch (tenant scoping of the ``/__mock__`` API).

- A caller *is* a tenant when it sends that tenant's vendor credentials with the admin request (the same
  headers as a vendor request); a caller without credentials acts as the vendor's test-key tenant, whose
  keys are public anyway. The global admin token (``X-Mock-Admin-Token``) may act on any tenant.
- A tenant operation on another tenant needs that tenant's credentials or the admin token.
- Global operations (reset of all, reset of a vendor, a fault for every tenant, reading every tenant's
  journal, switching a vendor's rate limits) need the admin token whenever the server has tenants beyond
  the built-in ones; on a server with no tenants they stay open, as before.

These checks are small functions on purpose: every admin route (and any state backend) calls them.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from dataclasses import dataclass

from mockserver.engine.emulator import Emulator
from mockserver.engine.vendor_app import VendorApp
from mockserver.kinds.auth import DEFAULT_TENANT, Denied

TOKEN_HEADER = "x-mock-admin-token"  # noqa: S105 - a header name
ALL_TENANTS = "*"


class ScopeError(Exception):
    """A refused admin request: HTTP status, a machine-readable code and a sentence."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Caller:
    """Who sent an admin request: the admin token's holder, and the tenant it acts as."""

    admin: bool
    tenant: str | None  # None: no vendor in the path to be a tenant of


def token_ok(emulator: Emulator, headers: Mapping[str, str]) -> bool:
    """Whether the request carries the admin token (False when the server has none)."""
    token = emulator.config.admin_token
    presented = headers.get(TOKEN_HEADER, "")
    return token is not None and hmac.compare_digest(presented.encode(), token.encode())


def test_tenant(app: VendorApp) -> str:
    """The tenant of a vendor's first test key: who a caller without credentials acts as."""
    return app.spec.auth.test_credentials[0].tenant or DEFAULT_TENANT


def identify(emulator: Emulator, app: VendorApp | None, headers: Mapping[str, str]) -> Caller:
    """The caller of an admin request; vendor credentials that do not authenticate are a 401."""
    admin = token_ok(emulator, headers)
    if app is None:
        return Caller(admin, None)
    if app.tenancy.authenticator.header not in headers:
        return Caller(admin, test_tenant(app))
    who = app.tenancy.authenticator.authenticate(headers)
    if isinstance(who, Denied):
        raise ScopeError(
            401, "invalid_credentials", f"the {who.header} sent with this admin request is not accepted"
        )
    return Caller(admin, who.tenant)


def require_tenant(caller: Caller, tenant: str) -> None:
    """Refuse acting on ``tenant`` unless the caller is it or holds the admin token."""
    if caller.admin or caller.tenant == tenant:
        return
    raise ScopeError(
        403,
        "tenant_scope",
        f"this request acts on tenant {tenant!r}: send that tenant's credentials or the admin token",
    )


def require_global(emulator: Emulator, caller: Caller, what: str) -> None:
    """Refuse a global operation without the admin token while the server has tenants."""
    if caller.admin or not emulator.has_tenants:
        return
    hint = "" if emulator.config.admin_token else " (start the server with --admin-token)"
    raise ScopeError(
        403,
        "admin_token_required",
        f"{what} affects every tenant, and this server has tenants: send the admin token{hint}",
    )


def target_tenant(emulator: Emulator, caller: Caller, asked: object, what: str) -> str | None:
    """The tenant an operation is for: the caller's own by default; ``*`` (None) means every tenant."""
    if asked is None or asked == "":
        return caller.tenant
    if not isinstance(asked, str):
        raise ScopeError(400, "invalid_tenant", f"a tenant is a string, got {asked!r}")
    if asked == ALL_TENANTS:
        require_global(emulator, caller, what)
        return None
    require_tenant(caller, asked)
    return asked
