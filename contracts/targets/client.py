"""A client that is safe to point at a real vendor: GET only unless writes are allowed, budgeted, paced, no
redirects, no leaks."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx

from mockserver.engine.routing import canonical, is_loopback

MAX_RETRY_AFTER_SECONDS = 60.0
TRANSIENT_STATUSES = frozenset({429, 502, 503, 504})
RETRIES = 3  # after the first attempt: a transient answer is a finding only past these
BACKOFF_SECONDS = 0.5  # doubled per retry when the answer names no Retry-After
MAX_BACKOFF_SECONDS = 8.0
# What one run may spend waiting before retries, in all: a target answering 502 with Retry-After: 30 to
# every request must end the run in minutes, not hours. Past it, a transient answer is not retried.
MAX_TOTAL_WAIT_SECONDS = 180.0
MAX_NOTES = 200
REDACTED = "[redacted]"


class RetryWaits:
    """What one run may still wait before retries, shared by the clients of every vendor it checks."""

    def __init__(self, seconds: float = MAX_TOTAL_WAIT_SECONDS) -> None:
        self.total = self.left = seconds

    def take(self, wait: float) -> bool:
        """Whether ``wait`` seconds may still be waited (then counted as spent)."""
        if wait > self.left:
            return False
        self.left -= wait
        return True

    def spent(self) -> str:
        return f"the run's {self.total:g} s of waits before retries are spent"


class BudgetExhausted(Exception):  # noqa: N818 - a state, not a failure of the code
    """The request budget of an endpoint or of the run is spent."""


class WritesRefused(Exception):  # noqa: N818 - a refusal by design, not a failure of the code
    """A request that would change the target, on a client whose writes are not allowed."""


class Unreachable(Exception):  # noqa: N818 - it names what the target is
    """The target did not answer (connection refused, DNS, timeout)."""


def cleartext_to_remote(url: str) -> bool:
    """True when credentials sent to ``url`` would cross a network unencrypted."""
    parts = urlsplit(url)
    return parts.scheme == "http" and not is_loopback(canonical(parts.hostname or ""))


@dataclass
class Redactor:
    """Removes every secret from any text that leaves the suite (messages, reports, exceptions)."""

    secrets: set[str] = field(default_factory=set)

    def add(self, *values: str | None) -> None:
        """Treat these values as secrets (short or empty values are ignored: they would redact everything)."""
        self.secrets.update(value for value in values if value and len(value) >= 4)

    def text(self, text: str) -> str:
        """``text`` with every secret replaced."""
        for secret in sorted(self.secrets, key=len, reverse=True):
            text = text.replace(secret, REDACTED)
        return text

    def value(self, value: Any) -> Any:
        """A JSON-like value with every secret replaced, recursively."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, list):
            return [self.value(item) for item in value]
        if isinstance(value, dict):
            return {self.text(str(key)): self.value(item) for key, item in value.items()}
        return value


@dataclass
class Budget:
    """At most ``per_run`` requests in all, ``per_endpoint`` to each endpoint."""

    per_run: int
    per_endpoint: int
    spent: int = 0
    by_endpoint: dict[str, int] = field(default_factory=dict)

    def take(self, endpoint: str) -> None:
        """Count one request, or raise BudgetExhausted."""
        if self.spent >= self.per_run or self.by_endpoint.get(endpoint, 0) >= self.per_endpoint:
            raise BudgetExhausted(f"request budget spent ({endpoint})")
        self.spent += 1
        self.by_endpoint[endpoint] = self.by_endpoint.get(endpoint, 0) + 1


class GuardedClient:
    """GETs for one vendor, with its pacing (from its documented rate limits) and the run's budget.

    Requests that change the target (POST, PUT, DELETE: :meth:`send`) are refused unless ``allow_writes``
    (the mock and a URL of the emulator always; live only with ``--allow-writes``).
    """

    def __init__(
        self,
        http: httpx.Client,
        base_url: str,
        budget: Budget,
        redactor: Redactor,
        *,
        min_interval: float = 0.0,
        sleep: Callable[[float], None] = time.sleep,
        allow_writes: bool = False,
        waits: RetryWaits | None = None,
    ) -> None:
        self.http = http
        self.base_url = base_url.rstrip("/")
        self.budget = budget
        self.redactor = redactor
        self.min_interval = min_interval
        self.sleep = sleep
        self.allow_writes = allow_writes
        self._last = 0.0
        self.retries = RETRIES
        self.waits = waits if waits is not None else RetryWaits()  # shared by the run's clients
        # endpoints whose transient answer persisted past the retries: not retried again in this run
        self._persisting: set[str] = set()
        # What was retried, per endpoint label, for the run's notes (bounded).
        self.transients: dict[str, list[str]] = {}

    def get(
        self,
        endpoint: str,
        path: str,
        params: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        """GET ``path``; transient answers (429, 502, 503, 504, timeouts) are retried with bounded backoff.

        ``Retry-After`` is honoured (capped); each retry is noted in ``transients``. Past the retries the
        last answer is returned (and becomes a finding), a timeout becomes Unreachable. Redirects are
        never followed.
        """
        for attempt in range(self.retries + 1):
            self._pace()
            self.budget.take(endpoint)
            try:
                response = self.http.get(
                    f"{self.base_url}{path}", params=params, headers=headers, follow_redirects=False
                )
            except httpx.TimeoutException as error:
                if attempt == self.retries:
                    raise Unreachable(
                        self.redactor.text(f"{type(error).__name__} after {attempt + 1} attempts: {error}")
                    ) from None
                wait = _backoff(attempt)
                if not self.waits.take(wait):
                    why = f"{type(error).__name__} (not retried: {self.waits.spent()}): {error}"
                    raise Unreachable(self.redactor.text(why)) from None
                self._note(endpoint, f"{path}: timeout, retried after {wait:g} s")
                self.sleep(wait)
                continue
            except httpx.HTTPError as error:
                raise Unreachable(self.redactor.text(f"{type(error).__name__}: {error}")) from None
            if response.status_code not in TRANSIENT_STATUSES:
                return response
            if attempt == self.retries:
                self._persisting.add(endpoint)
                self._note(endpoint, f"{path}: {response.status_code} persisted after {attempt} retries")
                return response
            if endpoint in self._persisting:
                self._note(endpoint, f"{path}: {response.status_code} not retried (it persisted before)")
                return response
            wait, why = _wait(response, attempt)
            if not self.waits.take(wait):
                self._note(endpoint, f"{path}: {response.status_code} not retried ({self.waits.spent()})")
                return response
            self._note(
                endpoint, f"{path}: transient {response.status_code}, retried after {wait:g} s ({why})"
            )
            self.sleep(wait)
        raise AssertionError("unreachable")  # pragma: no cover

    def send(
        self,
        endpoint: str,
        method: str,
        path: str,
        *,
        body: Any = None,
        headers: Mapping[str, str] | None = None,
        spend: bool = True,
    ) -> httpx.Response:
        """One request that may change the target (``body``: JSON), only when writes are allowed.

        Never retried (a purchase retried after a timeout could buy twice), except a 429, which the
        target refused before doing anything, after its ``Retry-After``. ``spend=False``: outside the
        budget (the cleanup of what a check created must run even when the budget is spent).
        """
        if not self.allow_writes and method.upper() not in {"GET", "HEAD"}:
            raise WritesRefused(f"{method.upper()} {path}: writes are not allowed on this target")
        for attempt in range(self.retries + 1):
            self._pace()
            if spend:
                self.budget.take(endpoint)
            try:
                response = self.http.request(
                    method.upper(),
                    f"{self.base_url}{path}",
                    json=body,
                    headers=headers,
                    follow_redirects=False,
                )
            except httpx.HTTPError as error:
                raise Unreachable(self.redactor.text(f"{type(error).__name__}: {error}")) from None
            if response.status_code != 429 or attempt == self.retries:
                return response
            wait, why = _wait(response, attempt)
            if not self.waits.take(wait):
                self._note(endpoint, f"{path}: 429 not retried ({self.waits.spent()})")
                return response
            self._note(endpoint, f"{path}: 429, retried after {wait:g} s ({why})")
            self.sleep(wait)
        raise AssertionError("unreachable")  # pragma: no cover

    def _note(self, endpoint: str, text: str) -> None:
        notes = self.transients.setdefault(endpoint, [])
        if len(notes) < MAX_NOTES:
            notes.append(self.redactor.text(text))

    def _pace(self) -> None:
        wait = self._last + self.min_interval - time.monotonic()
        if wait > 0:
            self.sleep(wait)
        self._last = time.monotonic()


def _backoff(attempt: int) -> float:
    return float(min(BACKOFF_SECONDS * 2**attempt, MAX_BACKOFF_SECONDS))


def _wait(response: httpx.Response, attempt: int) -> tuple[float, str]:
    """How long to wait before retrying ``response``, and why: its Retry-After (capped) or the backoff."""
    header = response.headers.get("retry-after")
    if header is not None:
        try:
            seconds = float(header)
        except ValueError:
            seconds = -1.0
        if 0 <= seconds < float("inf"):  # not NaN, not infinite
            capped = min(seconds, MAX_RETRY_AFTER_SECONDS)
            return capped, f"Retry-After {header.strip()[:20]}" + (" capped" if capped < seconds else "")
    return _backoff(attempt), "backoff"
