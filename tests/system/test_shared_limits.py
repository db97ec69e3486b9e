"""Issue 11's limits hold through issue 14's shared state: two servers sharing one Redis on loopback.

A cap is for the shared state, not per process: a fault, key, tenant or record accepted by one server
counts on the other, also when both are asked at once; the shared journal keeps issue 11's compact,
cut entries within its byte budget; revoking a tenant's last key frees it on every server.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
import redis as redis_py

from tests.system.test_shared_state import NUMBERS, REDIS, Redis, serving

BUTTER = {"X-API-Key": "bk_test_butter", "X-Organization-Id": "org_test"}
T1 = {"X-API-Key": "bk_tenant_one", "X-Organization-Id": "org_one"}
T2 = {"X-API-Key": "bk_tenant_two", "X-Organization-Id": "org_two"}

pytestmark = [
    pytest.mark.skipif(REDIS is None, reason="redis-server not found (make test installs it)"),
    pytest.mark.xdist_group("shared-state"),
]


def numbers(base: str, headers: dict[str, str]) -> list[str]:
    response = httpx.get(f"{base}{NUMBERS}", headers=headers, params={"page_size": 100})
    assert response.status_code == 200, response.text
    return [record["phone_number"] for record in response.json()["data"]]


def test_the_fault_cap_holds_across_servers_also_when_both_are_asked_at_once(redis: Redis) -> None:
    options = ("--state", redis.url, "--max-faults", "3")
    with serving(*options) as (one, _), serving(*options) as (two, _):
        faults = [f"{base}/__mock__/butter/faults" for base in (one, two, one)]
        assert [httpx.post(url, json={"delay": 0}).status_code for url in faults] == [201, 201, 201]
        for base in (two, one):
            refused = httpx.post(f"{base}/__mock__/butter/faults", json={"delay": 0})
            assert refused.status_code == 429, refused.text
            assert refused.json()["error"] == "too_many_faults"
        assert len(httpx.get(f"{two}/__mock__/butter/faults").json()["faults"]) == 3

        assert httpx.delete(f"{one}/__mock__/butter/faults").status_code == 200
        urls = [f"{(one, two)[n % 2]}/__mock__/butter/faults" for n in range(12)]
        with ThreadPoolExecutor(max_workers=12) as pool:
            answers = list(pool.map(lambda url: httpx.post(url, json={"delay": 0}), urls))
        statuses = sorted(answer.status_code for answer in answers)
        assert statuses == [201] * 3 + [429] * 9, "at most the cap in all, whichever server"
        accepted = {answer.json()["id"] for answer in answers if answer.status_code == 201}
        for base in (one, two):
            rules = httpx.get(f"{base}/__mock__/butter/faults").json()["faults"]
            assert {rule["id"] for rule in rules} == accepted, "every accepted rule, on every server"


def test_the_tenant_cap_counts_both_servers_and_revoking_frees_the_tenant_on_both(redis: Redis) -> None:
    options = ("--state", redis.url, "--max-tenants", "1")
    with serving(*options) as (one, _), serving(*options) as (two, _):
        keys = "/__mock__/butter/keys"
        assert (
            httpx.post(f"{one}{keys}", json={"key": T1["X-API-Key"], "tenant": "org_one"}).status_code == 201
        )
        refused = httpx.post(f"{two}{keys}", json={"key": T2["X-API-Key"], "tenant": "org_two"})
        assert refused.status_code == 429, refused.text
        assert refused.json()["error"] == "too_many_tenants"

        seeded = httpx.post(
            f"{two}/__mock__/butter/seed", headers=T1, json={"records": [{"phone_number": "+15550100011"}]}
        )
        assert seeded.status_code == 200, seeded.text
        assert numbers(one, T1) == ["+15550100011"]
        fixtures = numbers(one, BUTTER)

        revoked = httpx.post(f"{two}/__mock__/butter/revoke", headers=T1, json={"key": T1["X-API-Key"]})
        assert revoked.json() == {"revoked": True}
        assert httpx.get(f"{one}{NUMBERS}", headers=T1).status_code == 401
        # The tenant was freed everywhere: the cap has room again, through the other server.
        assert (
            httpx.post(f"{one}{keys}", json={"key": T2["X-API-Key"], "tenant": "org_two"}).status_code == 201
        )
        assert httpx.post(
            f"{two}/__mock__/butter/revoke", headers=T2, json={"key": T2["X-API-Key"]}
        ).json() == {"revoked": True}
        assert (
            httpx.post(f"{two}{keys}", json={"key": T1["X-API-Key"], "tenant": "org_one"}).status_code == 201
        )
        for base in (one, two):
            assert numbers(base, T1) == fixtures, "the freed tenant's seed is gone on every server"
        journal = httpx.get(f"{one}/__mock__/butter/journal", headers=T1).json()["entries"]
        assert len(journal) == 2, "the freed tenant's journal is gone: only the two requests since"


def test_the_record_cap_counts_the_records_seeded_through_the_other_server(redis: Redis) -> None:
    options = ("--state", redis.url, "--max-records-per-tenant", "3")
    with serving(*options) as (one, _), serving(*options) as (two, _):
        first = [{"phone_number": "+15550100021"}, {"phone_number": "+15550100022"}]
        more = [{"phone_number": "+15550100023"}, {"phone_number": "+15550100024"}]
        assert httpx.post(f"{one}/__mock__/butter/seed", json={"records": first}).status_code == 200
        refused = httpx.post(f"{two}/__mock__/butter/seed", json={"records": more, "mode": "extend"})
        assert refused.status_code == 413, refused.text
        assert refused.json()["error"] == "too_many_records"
        assert (
            sorted(numbers(one, BUTTER)) == sorted(numbers(two, BUTTER)) == ["+15550100021", "+15550100022"]
        )


def test_the_shared_journal_keeps_compact_cut_entries_within_its_byte_budget(redis: Redis) -> None:
    options = ("--state", redis.url, "--journal-bytes", "20000", "--journal-header-value-bytes", "64")
    with serving(*options) as (one, _), serving(*options) as (two, _):
        big = {**BUTTER, "X-Padding": "p" * 5000}
        for n in range(200):
            assert httpx.get(f"{(one, two)[n % 2]}{NUMBERS}", headers=big).status_code == 200
        for _ in range(5):
            assert httpx.get(f"{one}{NUMBERS}", headers={"X-Padding": "q" * 5000}).status_code == 401
        entries = httpx.get(f"{two}/__mock__/butter/journal", params={"tenant": "*"}).json()["entries"]
        mine = [entry for entry in entries if entry["tenant"] == "org_test"]
        assert 0 < len(mine) < 200, "the oldest entries fell off at the byte budget"
        assert all(len(entry["headers"]["x-padding"]) <= 64 + len("...[cut]") for entry in mine)
        assert all(entry["headers"]["x-api-key"] != BUTTER["X-API-Key"] for entry in mine)
        anonymous = [entry for entry in entries if entry["tenant"] is None]
        assert len(anonymous) == 5
        assert all(entry["headers"] == {} for entry in anonymous), "unauthenticated: no headers kept"
        client = redis_py.Redis(host="127.0.0.1", port=redis.port)
        held = {key: int(value) for key, value in client.hgetall("vendor-emulator:journal:bytes").items()}
        assert held, "the store counts the bytes it holds"
        assert all(size <= 20000 for size in held.values()), held
        assert int(client.get("vendor-emulator:journal:total") or 0) == sum(held.values())
        client.close()
