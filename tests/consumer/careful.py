"""A CAREFUL client of each vendor's phone-number list: the naive client (:mod:`tests.consumer.naive`)
written defensively.

It validates what it reads (a missing number is an error naming the field, not a KeyError), bounds
pagination (a page limit, a page that brings nothing new ends the walk, a next cursor is followed whatever
the end flag says), re-applies its filter on its side, retries 429 and 5xx a bounded number of times
honouring ``Retry-After`` (capped), tolerates unknown fields and enum values, and reads timestamps and
E.164 numbers leniently (a missing offset is UTC, a missing ``+`` is added).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import httpx

from tests.consumer.inventory import BUTTER, CONTACTSHIP, FAMULOR
from tests.consumer.model import MINDHUNTERS, Number

RETRIES = 4
MAX_WAIT = 5.0  # seconds: a longer Retry-After is not honoured in full
MAX_PAGES = 200
Sleep = Callable[[float], None]


class VendorDataError(Exception):
    """The vendor answered something this client cannot use (it says what and where)."""


def get(client: httpx.Client, url: str, sleep: Sleep = time.sleep, **kwargs: Any) -> Any:
    """GET with bounded retries on 429 and 5xx (Retry-After honoured up to MAX_WAIT); the JSON body."""
    for attempt in range(RETRIES):
        response = client.get(url, **kwargs)
        if response.is_success:
            try:
                return response.json()
            except ValueError:
                raise VendorDataError(f"{url}: a {response.status_code} answer that is not JSON") from None
        if (response.status_code != 429 and response.status_code < 500) or attempt == RETRIES - 1:
            response.raise_for_status()
        sleep(_wait(response.headers.get("retry-after"), attempt))
    raise AssertionError("unreachable")


def _wait(header: str | None, attempt: int) -> float:
    try:
        seconds = float(header) if header is not None else 2.0**attempt
    except ValueError:
        seconds = 2.0**attempt
    return max(0.0, min(seconds, MAX_WAIT))


def _field(item: Any, name: str) -> Any:
    if not isinstance(item, dict) or item.get(name) is None:
        raise VendorDataError(
            f"an item without {name!r}: {sorted(item) if isinstance(item, dict) else item!r}"
        )
    return item[name]


def _number(text: Any) -> str:
    digits = str(text).strip()
    return digits if digits.startswith("+") else f"+{digits}"


def _when(text: Any) -> datetime:
    try:
        parsed = datetime.fromisoformat(str(text))
    except ValueError:
        raise VendorDataError(f"not a timestamp: {text!r}") from None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def _items(body: Any, *path: str) -> list[Any]:
    for key in path:
        if not isinstance(body, dict) or key not in body:
            raise VendorDataError(f"no {key!r} in the answer")
        body = body[key]
    if not isinstance(body, list):
        raise VendorDataError(f"{'.'.join(path)} is not a list")
    return body


def _collect(pages: Iterator[list[Any]], key: str) -> Iterator[Any]:
    """The items of ``pages``, each once (by ``key``), ending when a page brings nothing new."""
    seen: set[Any] = set()
    for count, page in enumerate(pages):
        if count >= MAX_PAGES:
            raise VendorDataError(f"more than {MAX_PAGES} pages: the vendor's paging does not end")
        fresh = [item for item in page if _field(item, key) not in seen]
        if not fresh:
            return
        for item in fresh:
            seen.add(item[key])
            yield item


def famulor_numbers(client: httpx.Client, api_key: str, sleep: Sleep = time.sleep) -> list[Number]:
    """The account's numbers (one answer, no paging)."""
    body = get(
        client, f"{FAMULOR}/api/user/phone-numbers", sleep, headers={"Authorization": f"Bearer {api_key}"}
    )
    return [
        Number(
            _number(_field(item, "phone_number")), str(item.get("type")), _when(_field(item, "created_at"))
        )
        for item in _items(body, "data")
    ]


def butter_numbers(
    client: httpx.Client, headers: dict[str, str], status: str, sleep: Sleep = time.sleep
) -> list[Number]:
    """Every number of one status: next_cursor is followed while there is one (whatever has_more says)."""

    def pages() -> Iterator[list[Any]]:
        params: dict[str, Any] = {"page_size": 3, "status": status}
        while True:
            body = get(client, f"{BUTTER}/api/phone-numbers", sleep, headers=headers, params=params)
            yield _items(body, "data")
            cursor = (body.get("pagination") or {}).get("next_cursor")
            if not cursor or cursor == params.get("cursor"):
                return
            params["cursor"] = cursor

    return [
        Number(
            _number(_field(item, "phone_number")),
            str(item.get("provider")),
            _when(_field(item, "created_at")),
        )
        for item in _collect(pages(), "phone_number_id")
        if item.get("status") == status
    ]


def contactship_numbers(client: httpx.Client, api_key: str, sleep: Sleep = time.sleep) -> list[Number]:
    """Every number: offset pages until a short or empty one (``count`` is not trusted)."""
    limit = 3

    def pages() -> Iterator[list[Any]]:
        offset = 0
        while True:
            params = {"limit": limit, "offset": offset}
            body = get(
                client,
                f"{CONTACTSHIP}/v1/phone-numbers",
                sleep,
                headers={"x-api-key": api_key},
                params=params,
            )
            page = _items(body, "data")
            yield page
            if len(page) < limit:
                return
            offset += len(page)

    return [
        Number(
            _number(_field(item, "phone_number")), str(item.get("type")), _when(_field(item, "created_at"))
        )
        for item in _collect(pages(), "id")
    ]


def mindhunters_numbers(
    client: httpx.Client, token: str, status: str, sleep: Sleep = time.sleep
) -> list[Number]:
    """Every number of one status: pages while they come full or has_more says so (bounded, deduplicated)."""
    per_page = 3

    def pages() -> Iterator[list[Any]]:
        page = 1
        while True:
            params: dict[str, Any] = {"page": page, "per_page": per_page, "status": status}
            headers = {"Authorization": f"Bearer {token}"}
            body = get(client, f"{MINDHUNTERS}/api/v1/phone-numbers", sleep, headers=headers, params=params)
            items = _items(body, "data", "items")
            yield items
            more = ((body.get("data") or {}).get("pagination") or {}).get("has_more")
            if not items or (len(items) < per_page and not more):
                return
            page += 1

    return [
        Number(_number(_field(item, "number")), str(item.get("type")), _when(_field(item, "purchased_at")))
        for item in _collect(pages(), "phone_number_uuid")
        if item.get("status") == status
    ]
