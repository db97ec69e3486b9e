"""Every budget the emulator keeps to, in one place: request heads, bodies, journal, caches, tenants, data.

Each limit has a ``serve`` flag (``--max-header-bytes`` for ``max_header_bytes``) and a row in
docs/hardening.md saying what happens when it is reached. The limits apply per process; a shared state
backend applies the data limits (tenants, records) to the shared store as well.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, fields, replace
from typing import Any

KIB = 1024
MIB = 1024 * KIB


@dataclass(frozen=True)
class Limits:
    """The budgets of one emulator process (defaults sized for CI use on a small machine)."""

    max_request_line: int = 64 * KIB + 1 * KIB  # a 64 KB query (httpx's own ceiling) still fits
    max_headers: int = 100
    max_header_bytes: int = 128 * KIB  # a 64 KB key still gets the vendor's 401
    max_body_bytes: int = 16 * MIB
    journal_entries: int = 1000
    journal_bytes: int = 1 * MIB  # per vendor and tenant
    journal_total_bytes: int = 64 * MIB  # all tenants together
    journal_header_value_bytes: int = 256  # longer stored header values are cut
    journal_query_bytes: int = 2 * KIB  # longer stored queries are cut
    journal_body_bytes: int = 256 * KIB  # of one response body the journal keeps while an inspector looks
    journal_bodies_bytes: int = 32 * MIB  # of all those response bodies together
    answer_cache_bytes: int = 64 * MIB  # all endpoints together
    max_tenants: int = 1000  # registered tenants per vendor
    max_keys: int = 10_000  # accepted keys per vendor, all tenants
    max_faults: int = 1000  # persistent fault rules per vendor
    max_records_per_seed: int = 10_000
    max_records_per_tenant: int = 20_000  # of one dataset
    max_records_total: int = 100_000  # seeded records per vendor, all tenants
    head_timeout: float = 10.0  # seconds to receive a request line and headers
    body_timeout: float = 30.0  # seconds to receive a request body, once the head is in
    max_connections: int = 1000
    max_event_streams: int = 1024  # inspector event streams open at a time (GET /__mock__/journal/events)
    event_stream_bytes: int = 256 * KIB  # of events one stream holds, not yet written to its socket
    event_streams_bytes: int = 16 * MIB  # of those events, all streams together
    log_max_bytes: int = 10 * MIB  # per access-log file, when logging to a file
    log_backups: int = 3

    def check(self) -> Limits:
        """Itself, if every limit is positive (raises ValueError naming the first that is not)."""
        for item in fields(self):
            value = getattr(self, item.name)
            if value <= 0 and item.name != "log_backups":
                raise ValueError(f"--{flag(item.name)} must be positive, got {value}")
        return self


DEFAULT_LIMITS = Limits()


def flag(name: str) -> str:
    """The command-line flag of a limit (without the leading dashes)."""
    return name.replace("_", "-")


HELP = {
    "max_request_line": "bytes of a request line (method, target, version); longer: 414",
    "max_headers": "headers per request; more: 431",
    "max_header_bytes": "bytes of all header names and values of a request; more: 431",
    "max_body_bytes": "bytes of an admin request body, chunked or not; more: 413, reading stops there",
    "journal_entries": "journal entries kept per vendor and tenant; the oldest fall off",
    "journal_bytes": "journal bytes per vendor and tenant; the oldest entries fall off",
    "journal_total_bytes": "journal bytes of all tenants; the largest tenant's oldest entries fall off",
    "journal_header_value_bytes": "bytes of a header value as the journal stores it (cut beyond)",
    "journal_query_bytes": "bytes of a query string as the journal stores it (cut beyond)",
    "journal_body_bytes": "bytes of one response body the journal keeps while the inspector page looks"
    " (cut beyond)",
    "journal_bodies_bytes": "bytes of all response bodies the journal keeps (a budget of their own, apart"
    " from --journal-total-bytes); the oldest bodies are let go",
    "answer_cache_bytes": "bytes of cached answers, all endpoints; least recently used fall off",
    "max_tenants": "registered tenants per vendor; one more: 429 from POST /__mock__/{vendor}/keys",
    "max_keys": "accepted keys per vendor, all tenants; one more: 429 from POST /__mock__/{vendor}/keys",
    "max_faults": "persistent fault rules per vendor; one more: 429 from POST /__mock__/{vendor}/faults",
    "max_records_per_seed": "records in one seed request; more: 413",
    "max_records_per_tenant": "records of one dataset of one tenant; more: 413",
    "max_records_total": "seeded records per vendor, all tenants together; more: 413",
    "head_timeout": "seconds a client has to send its request line and headers; then it is cut off",
    "body_timeout": "seconds a client has to send a request body after its head; then it is cut off",
    "max_connections": "open connections; at the cap a new one closes the one that has waited longest for its"
    " request head, or gets 503 if every connection is busy (lowered to fit the descriptor limit)",
    "max_event_streams": "inspector event streams (GET /__mock__/journal/events) open at a time; one more:"
    " 503, and the page polls instead",
    "event_stream_bytes": "bytes of events one event stream holds, not yet written to its socket; a reader"
    " further behind is dropped (its stream ends, the page catches up by polling)",
    "event_streams_bytes": "bytes of events all event streams hold together; beyond it the reader furthest"
    " behind is dropped",
    "log_max_bytes": "bytes per access-log file (--log-file); then it is rotated",
    "log_backups": "rotated access-log files kept (--log-file)",
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """One ``--flag`` per limit, defaulting to :data:`DEFAULT_LIMITS`."""
    group = parser.add_argument_group("limits (docs/hardening.md)")
    for item in fields(Limits):
        default = getattr(DEFAULT_LIMITS, item.name)
        group.add_argument(
            f"--{flag(item.name)}",
            type=type(default),
            default=default,
            dest=f"limit_{item.name}",
            metavar="N" if isinstance(default, int) else "SECONDS",
            help=f"{HELP[item.name]} (default: %(default)s)",
        )


def from_arguments(arguments: argparse.Namespace) -> Limits:
    """The limits a parsed command line gives (unset ones keep their defaults)."""
    changes: dict[str, Any] = {
        item.name: getattr(arguments, f"limit_{item.name}")
        for item in fields(Limits)
        if hasattr(arguments, f"limit_{item.name}")
    }
    return replace(DEFAULT_LIMITS, **changes).check()
