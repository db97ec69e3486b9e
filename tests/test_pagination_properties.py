"""Property tests: for any page size and filters, walking every page returns each matching record once,
in order. The expected list is computed here from the fixtures, independently of the engine."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import VendorClient

BUTTER_STATUS = st.sampled_from([None, "free", "assigned"])
CONTACTSHIP_TYPE = st.sampled_from([None, "inbound", "outbound"])
MINDHUNTERS_FILTERS = st.fixed_dictionaries(
    {},
    optional={
        "status": st.sampled_from(["active", "pending", "inactive"]),
        "type": st.sampled_from(["local", "toll_free", "mobile", "national"]),
        "country_code": st.sampled_from(["US", "de", "GB", "FR", "XX"]),
        "compliance": st.sampled_from(["completed", "requirement_pending"]),
        "include_external": st.sampled_from(["0", "1", "true", "false"]),
        "search": st.sampled_from(["1", "44", "us", "9", "+3"]),
        "sort": st.sampled_from(["created_at", "monthly_fee", "number"]),
    },
)


def _query(**params: Any) -> dict[str, Any]:
    return {key: value for key, value in params.items() if value is not None}


@given(page_size=st.integers(1, 100), status=BUTTER_STATUS)
def test_butter_cursor_walk_is_complete_ordered_and_duplicate_free(
    butter: VendorClient, page_size: int, status: str | None
) -> None:
    expected = sorted(
        (r for r in butter.records("phone-numbers") if status in (None, r["status"])),
        key=lambda r: r["created_at"],
        reverse=True,
    )
    walked: list[dict[str, Any]] = []
    cursor = None
    for _ in range(len(expected) + 2):
        body = butter.get(
            "/api/phone-numbers", params=_query(page_size=page_size, status=status, cursor=cursor)
        ).json()
        walked += body["data"]
        assert body["pagination"]["total_count"] == len(expected)
        cursor = body["pagination"]["next_cursor"]
        if cursor is None:
            break
    assert walked == expected


@given(limit=st.integers(1, 30), kind=CONTACTSHIP_TYPE, order=st.sampled_from(["asc", "desc"]))
def test_contactship_offset_walk_is_complete_ordered_and_duplicate_free(
    contactship: VendorClient, limit: int, kind: str | None, order: str
) -> None:
    expected = sorted(
        (r for r in contactship.records("phone-numbers") if kind in (None, r["type"])),
        key=lambda r: r["created_at"],
        reverse=order == "desc",
    )
    walked: list[dict[str, Any]] = []
    for offset in range(0, len(expected) + limit, limit):
        body = contactship.get(
            "/v1/phone-numbers", params=_query(limit=limit, offset=offset, type=kind, order=order)
        ).json()
        assert body["count"] == len(contactship.records("phone-numbers")), "count is the organization total"
        walked += body["data"]
    assert walked == expected


def _mindhunters_expected(records: list[dict[str, Any]], filters: dict[str, str]) -> list[dict[str, Any]]:
    def keep(r: dict[str, Any]) -> bool:
        search = filters.get("search", "").casefold()
        return all(
            [
                filters.get("include_external") in ("1", "true") or not r["is_external"],
                filters.get("status", r["status"]) == r["status"],
                filters.get("type", r["type"]) == r["type"],
                filters.get("country_code", r["country_code"]).upper() == r["country_code"],
                filters.get("compliance", r["compliance"]["status"]) == r["compliance"]["status"],
                search in r["number"].casefold() or search in r["country_code"].casefold(),
            ]
        )

    field = {"created_at": "purchased_at", "monthly_fee": "monthly_fee", "number": "number"}[
        filters.get("sort", "created_at")
    ]

    def key(r: dict[str, Any]) -> tuple[Any, str]:
        value = r["billing"]["monthly_fee"] if field == "monthly_fee" else r[field]
        return (value, r["phone_number_uuid"])

    return sorted(filter(keep, records), key=key)


@given(per_page=st.integers(1, 100), filters=MINDHUNTERS_FILTERS)
def test_mindhunters_page_walk_is_complete_ordered_and_duplicate_free(
    mindhunters: VendorClient, per_page: int, filters: dict[str, str]
) -> None:
    expected = _mindhunters_expected(mindhunters.records("phone-numbers"), filters)
    walked: list[dict[str, Any]] = []
    page, last_page = 1, 1
    while page <= last_page:
        body = mindhunters.get(
            "/api/v1/phone-numbers", params={**filters, "per_page": per_page, "page": page}
        ).json()
        pagination = body["data"]["pagination"]
        assert pagination["total"] == len(expected)
        last_page = pagination["last_page"]
        walked += body["data"]["items"]
        page += 1
    assert [r["phone_number_uuid"] for r in walked] == [r["phone_number_uuid"] for r in expected]
