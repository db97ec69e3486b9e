"""Phone-number inventory across vendors: the sample consumer code the emulator's kit is tested with.

It talks to the vendors' real base URLs with httpx (sync and async), walks each vendor's pagination,
and retries 429 (honouring Retry-After) and 5xx responses a bounded number of times.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

FAMULOR = "https://app.famulor.de"
BUTTER = "https://api.getbutter.ai"
CONTACTSHIP = "https://api.contactship.ai"
RETRIES = 3


class VendorError(Exception):
    """A vendor refused a request for good (after retries, or a status that is not worth retrying)."""

    def __init__(self, response: httpx.Response) -> None:
        super().__init__(f"{response.request.method} {response.request.url.path} -> {response.status_code}")
        self.status = response.status_code
        self.body = response.json() if response.content else None


def _retry_after(response: httpx.Response) -> float:
    return float(response.headers.get("retry-after", "1"))


def _retryable(response: httpx.Response) -> bool:
    return response.status_code == 429 or response.status_code >= 500


def get(client: httpx.Client, url: str, sleep: Callable[[float], None] = time.sleep, **kwargs: Any) -> Any:
    """GET with bounded retries; the JSON body of the first success."""
    for attempt in range(RETRIES):
        response = client.get(url, **kwargs)
        if response.is_success:
            return response.json()
        if not _retryable(response) or attempt == RETRIES - 1:
            raise VendorError(response)
        sleep(_retry_after(response))
    raise AssertionError("unreachable")


async def aget(
    client: httpx.AsyncClient,
    url: str,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    **kwargs: Any,
) -> Any:
    """The async twin of :func:`get`."""
    for attempt in range(RETRIES):
        response = await client.get(url, **kwargs)
        if response.is_success:
            return response.json()
        if not _retryable(response) or attempt == RETRIES - 1:
            raise VendorError(response)
        await sleep(_retry_after(response))
    raise AssertionError("unreachable")


def famulor_sms_numbers(client: httpx.Client, api_key: str) -> list[str]:
    """The numbers that can send SMS (the legacy endpoint lists exactly those)."""
    body = get(client, f"{FAMULOR}/api/user/phone-numbers", headers={"Authorization": f"Bearer {api_key}"})
    return [item["phone_number"] for item in body["data"]]


def butter_numbers(
    client: httpx.Client, api_key: str, organization: str, status: str | None = None, **kwargs: Any
) -> list[dict[str, Any]]:
    """Every Butter number (of one status), following next_cursor to the end."""
    headers = {"X-API-Key": api_key, "X-Organization-Id": organization}
    params: dict[str, Any] = {"page_size": 20, **({"status": status} if status else {})}
    numbers: list[dict[str, Any]] = []
    while True:
        body = get(client, f"{BUTTER}/api/phone-numbers", headers=headers, params=params, **kwargs)
        numbers += body["data"]
        if body["pagination"]["next_cursor"] is None:
            return numbers
        params["cursor"] = body["pagination"]["next_cursor"]


async def butter_numbers_async(
    client: httpx.AsyncClient, api_key: str, organization: str, status: str | None = None
) -> list[dict[str, Any]]:
    """The async twin of :func:`butter_numbers`."""
    headers = {"X-API-Key": api_key, "X-Organization-Id": organization}
    params: dict[str, Any] = {"page_size": 20, **({"status": status} if status else {})}
    numbers: list[dict[str, Any]] = []
    while True:
        body = await aget(client, f"{BUTTER}/api/phone-numbers", headers=headers, params=params)
        numbers += body["data"]
        if body["pagination"]["next_cursor"] is None:
            return numbers
        params["cursor"] = body["pagination"]["next_cursor"]


def contactship_numbers(client: httpx.Client, api_key: str, kind: str | None = None) -> list[dict[str, Any]]:
    """Every Contactship number (of one type), by limit/offset until a short page."""
    numbers: list[dict[str, Any]] = []
    limit = 10
    while True:
        params: dict[str, Any] = {"limit": limit, "offset": len(numbers), **({"type": kind} if kind else {})}
        page = get(client, f"{CONTACTSHIP}/v1/phone-numbers", headers={"x-api-key": api_key}, params=params)[
            "data"
        ]
        numbers += page
        if len(page) < limit:
            return numbers


def mindhunters_numbers(
    client: httpx.Client, workspace: str, token: str, **filters: str
) -> list[dict[str, Any]]:
    """Every Mindhunters number matching ``filters``, page by page."""
    url = f"https://{workspace}.mindhunters.ai/api/v1/phone-numbers"
    numbers: list[dict[str, Any]] = []
    page = 1
    while True:
        params = {**filters, "page": page, "per_page": 50}
        body = get(client, url, headers={"Authorization": f"Bearer {token}"}, params=params)["data"]
        numbers += body["items"]
        if not body["pagination"]["has_more"]:
            return numbers
        page += 1
