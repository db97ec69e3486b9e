"""The control plane of one vendor: which keys it accepts, for which tenants, and what each tenant holds.

Keys are registered and revoked at run time (the admin API, the test kit), within ``--max-keys`` and
``--max-tenants``; a tenant's last key revoked frees everything held for it (data, journal, faults,
rate-limit windows, cached answers). A reset goes back to the fixtures and the initial keys. With a
shared backend every change is stored for every process first, and ``applied`` mirrors another
process's change here. The request pipeline (vendor_app) only reads from this: who a key is, and
whether rate limits are on.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from mockserver.declarations.model import VendorSpec
from mockserver.engine.answer_cache import AnswerCache
from mockserver.kinds.auth import DEFAULT_TENANT, Authenticator, Credential
from mockserver.limits import Limits
from mockserver.state.backends import SharedState
from mockserver.state.datasets import VendorDatasets
from mockserver.state.fault_store import Faults
from mockserver.state.journal import Journal
from mockserver.state.rate_limiter import RateLimiter


class KeyConflictError(ValueError):
    """A key cannot be bound to the tenant asked for (built in, or bound to another tenant)."""


class TenantLimitError(ValueError):
    """One more tenant (or key) would pass --max-tenants (--max-keys); ``code`` says which."""

    def __init__(self, message: str, code: str = "too_many_tenants") -> None:
        super().__init__(message)
        self.code = code


def tenant_for_key(key: str) -> str:
    """A tenant name derived from a key, which never reveals the key."""
    return "key-" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:12]


class Tenancy:
    """One vendor's keys and tenants, what each tenant holds, and the switches a reset puts back."""

    def __init__(
        self,
        spec: VendorSpec,
        *,
        datasets: VendorDatasets,
        journal: Journal,
        faults: Faults,
        cache: AnswerCache,
        limiter: RateLimiter | None,
        shared: SharedState,
        limits: Limits,
        credentials: tuple[Credential, ...] = (),
        rate_limits: bool = False,
    ) -> None:
        self.spec = spec
        self.datasets = datasets
        self.journal = journal
        self.faults = faults
        self.cache = cache
        self.limiter = limiter
        self.shared = shared
        self.limits = limits
        self._initial_credentials = (*spec.auth.test_credentials, *credentials)
        self.builtin_tenants = frozenset(item.tenant or DEFAULT_TENANT for item in self._initial_credentials)
        self._builtin_keys = frozenset(item.key for item in self._initial_credentials)
        self.authenticator = Authenticator(spec.auth, self._initial_credentials)
        # The keys accepted after a reset (never handed out: a reset compares with it, see reset_here).
        self._initial_authenticator = Authenticator(spec.auth, self._initial_credentials)
        self._rate_limits = rate_limits
        self._initial_rate_limits = rate_limits
        self.forgetters: list[Callable[[str | None], None]] = []
        """Called with a tenant when it is freed, with None on a reset (the writes' clocks and switches)."""

    # ------------------------------------------------------------------ keys and tenants

    def register(self, key: str, tenant: str | None = None) -> str:
        """Accept ``key`` for ``tenant`` (by default a fresh, isolated one); returns the tenant's name."""
        organization = self.spec.auth.tenant_header
        if not isinstance(key, str) or not key or key != key.strip(" \t"):
            raise ValueError("a key is a non-empty string without surrounding white space")
        if tenant is not None and (not isinstance(tenant, str) or not tenant):
            raise ValueError("a tenant is a non-empty string")
        if organization and tenant is None:
            raise ValueError(f"{self.spec.id} keys belong to an organization: give its {organization}")
        name = tenant or tenant_for_key(key)
        if key in self._builtin_keys:
            raise KeyConflictError("a built-in or configured key cannot be re-mapped")
        with self.shared.exclusive(self.spec.id):  # the caps and bindings of every process
            return self._bind(key, name)

    def _bind(self, key: str, name: str) -> str:
        bound = self.authenticator.credential(key)
        if bound is not None:
            if (bound.tenant or DEFAULT_TENANT) != name:
                raise KeyConflictError("this key is already bound to another tenant; revoke it there first")
            return name
        if self.authenticator.size() >= self.limits.max_keys:
            message = f"{self.spec.id} accepts {self.limits.max_keys} keys already (--max-keys)"
            raise TenantLimitError(message, "too_many_keys")
        if self.is_new_tenant(name) and len(self.registered_tenants()) >= self.limits.max_tenants:
            raise TenantLimitError(
                f"{self.spec.id} has {self.limits.max_tenants} tenants already (--max-tenants);"
                " revoke a tenant's keys to free it"
            )
        credential = Credential(key, name)
        if self.shared.shared:  # stored for every process first: nothing changes here if that fails
            self.shared.put(self.spec.id, "credentials", self.authenticator.exported(change=credential))
        self.authenticator.add(credential)
        return name

    def is_new_tenant(self, tenant: str) -> bool:
        """Whether no key is bound to ``tenant`` yet."""
        return tenant not in self.builtin_tenants and self.authenticator.count(tenant) == 0

    def registered_tenants(self) -> set[str]:
        """The tenants that keys registered at run time created (built-in and configured ones excluded)."""
        return set(self.authenticator.tenants()) - self.builtin_tenants

    def revoke(self, key: str) -> bool:
        """Refuse ``key`` from now on (its requests get the vendor's invalid-key 401).

        When it was the last key of a registered tenant, the tenant is freed: its data, journal, faults,
        rate-limit windows and cached answers go.
        """
        with self.shared.exclusive(self.spec.id):
            bound = self.authenticator.credential(key)
            if self.shared.shared:  # every process frees the tenant when it applies the change
                self.shared.put(self.spec.id, "credentials", self.authenticator.exported(revoked=key))
            revoked = self.authenticator.revoke(key)
        tenant = (bound.tenant or DEFAULT_TENANT) if bound is not None else None
        if tenant is not None and tenant not in self.builtin_tenants and not self.authenticator.count(tenant):
            self.free(tenant)
        return revoked

    def free(self, tenant: str) -> None:
        """Forget everything held for ``tenant`` (its keys stay as they are)."""
        self.datasets.forget(tenant)
        self.journal.clear(self.spec.id, tenant)
        self.faults.clear(tenant)
        self.cache.forget(tenant)
        if self.limiter is not None:
            self.limiter.forget(tenant)
        for forget in self.forgetters:
            forget(tenant)

    # ------------------------------------------------------------------ switches and reset

    @property
    def rate_limits(self) -> bool:
        """Whether the documented rate limits are enforced (``--rate-limits`` or the admin API)."""
        return self._rate_limits

    @rate_limits.setter
    def rate_limits(self, enabled: bool) -> None:
        if self.shared.shared:
            self.shared.put(self.spec.id, "rate_limits", enabled)
        self._rate_limits = enabled

    def reset(self) -> None:
        """Back to the start: fixtures, initial keys, no faults, no journal, empty rate-limit windows.

        The pytest plugin resets every vendor before each test, those the last test never touched too:
        each step costs next to nothing where there is nothing to undo (no entry to drop, the initial
        keys still accepted), and one process has nobody to tell.
        """
        if not self.shared.shared:
            self.journal.clear(self.spec.id)
            self.reset_here()
            return
        self.shared.put(self.spec.id, "reset", None)  # every process, first; then this one
        self.journal.clear(self.spec.id)
        with self.shared.applying():
            self.reset_here()

    def reset_here(self) -> None:
        """``reset`` of this process's memory only (another process reset the vendor for everyone).

        Cached answers stay: one is keyed by its dataset's generation, and the fixtures' datasets (what
        every tenant sees after a reset) are the same objects as before, so it still answers them right;
        answers from a tenant's own data are keyed by datasets no tenant holds any more (the cache's byte
        budget lets them go).
        """
        self.datasets.reset()
        if self.faults.rules():
            self.faults.applied([])
        if not self.authenticator.accepts_as(self._initial_authenticator):
            self.authenticator = Authenticator(self.spec.auth, self._initial_credentials)
        self._rate_limits = self._initial_rate_limits
        if self.limiter is not None:
            self.limiter.reset()
        for forget in self.forgetters:
            forget(None)

    def applied(self, part: str, value: object) -> None:
        """Mirror a change another process made to this vendor's shared state."""
        if part == "reset":
            self.reset_here()
        elif part == "faults":
            self.faults.applied(value)  # type: ignore[arg-type]
        elif part == "credentials":
            before = self.registered_tenants()
            self.authenticator = Authenticator(self.spec.auth, self._initial_credentials)
            if value is not None:
                self.authenticator.load(value)  # type: ignore[arg-type]
            for tenant in before - self.registered_tenants():  # revoked elsewhere: freed here too
                self.free(tenant)
        elif part == "rate_limits":
            self._rate_limits = self._initial_rate_limits if value is None else bool(value)
