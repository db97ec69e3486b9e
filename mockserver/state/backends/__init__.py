"""Where the state that callers change lives: in this process (the default) or in a shared store.

The emulator always answers vendor requests from its own memory. A backend decides who else sees a
change: :class:`~mockserver.state.backends.memory.InMemory` (nobody: one process, no extra service) or
:class:`~mockserver.state.backends.redis_state.RedisState` (every process using the same Redis: ``serve
--workers N --state redis://...``). The interface is :class:`~mockserver.state.backends.base.SharedState`.
"""

from __future__ import annotations

from mockserver.errors import ConfigurationError
from mockserver.state.backends.base import SharedState, StateUnavailable, redacted_url
from mockserver.state.backends.memory import InMemory


def open_state(url: str | None) -> SharedState:
    """The backend a ``--state`` value names: None or ``memory`` -> in this process; ``redis://...``,
    ``rediss://...``, ``unix://...`` or ``redis+sentinel://...`` (see redis_url) -> shared through Redis."""
    if url is None or url == "memory":
        return InMemory()
    if url.startswith(("redis://", "rediss://", "unix://", "redis+sentinel://")):
        from mockserver.state.backends.redis_state import RedisState  # noqa: PLC0415 - needs the redis extra

        return RedisState(url)
    others = "rediss://, unix://, redis+sentinel://"
    raise ConfigurationError(f"--state is 'memory' or a redis:// URL ({others}), got {redacted_url(url)!r}")


__all__ = ["InMemory", "SharedState", "StateUnavailable", "open_state", "redacted_url"]
