"""State shared by several server processes through a real Redis on loopback (``--state redis://``).

Each test starts its own ``redis-server`` on a free 127.0.0.1 port (``make test`` installs it) and real
``serve`` processes; nothing leaves the machine. Two single-worker servers on two ports make "seed via
one, read via the other" deterministic; a ``--workers 2`` server checks that one port's workers agree.
"""

from __future__ import annotations

import subprocess
import sys

import httpx
import pytest

from tests.conftest import ROOT
from tests.system.redis_harness import REDIS, Redis, eventually, free_port, serving

# Other system tests import the Redis helpers from here (they now live in redis_harness).
__all__ = ["REDIS", "Redis", "eventually", "free_port", "serving"]

BUTTER = {"X-API-Key": "bk_test_butter", "X-Organization-Id": "org_test"}
FAMULOR = {"Authorization": "Bearer famulor-test-key"}
NUMBERS = "/butter/api/phone-numbers"

pytestmark = [
    pytest.mark.skipif(REDIS is None, reason="redis-server not found (make test installs it)"),
    pytest.mark.xdist_group("shared-state"),
]


def phone_numbers(base: str) -> list[str]:
    """The phone numbers a server lists for Butter's test organization (fresh connection each time)."""
    response = httpx.get(f"{base}{NUMBERS}", headers=BUTTER, params={"page_size": 100})
    assert response.status_code == 200, response.text
    return [record["phone_number"] for record in response.json()["data"]]


def test_two_servers_share_seeds_faults_keys_rate_limits_and_the_journal(redis: Redis) -> None:
    with serving("--state", redis.url) as (one, _), serving("--state", redis.url) as (two, _):
        fixtures = phone_numbers(two)
        seeded = httpx.post(
            f"{one}/__mock__/butter/seed", json={"records": [{"phone_number": "+15550100001"}]}
        )
        assert seeded.status_code == 200, seeded.text
        assert phone_numbers(two) == ["+15550100001"], "a seed through one server is served by the other"

        fault = httpx.post(f"{two}/__mock__/butter/faults", json={"status": 503, "times": 2})
        assert fault.status_code == 201, fault.text
        statuses = [
            httpx.get(f"{base}{NUMBERS}", headers=BUTTER).status_code for base in (one, two, one, two)
        ]
        assert statuses == [503, 503, 200, 200], "a counted fault counts the requests of both servers"

        key = {"X-API-Key": "bk_shared_key", "X-Organization-Id": "org_test"}
        assert httpx.get(f"{two}{NUMBERS}", headers=key).status_code == 401
        assert (
            httpx.post(
                f"{one}/__mock__/butter/keys", json={"key": "bk_shared_key", "tenant": "org_test"}
            ).status_code
            == 201
        )
        assert httpx.get(f"{two}{NUMBERS}", headers=key).status_code == 200
        assert httpx.post(f"{two}/__mock__/butter/revoke", json={"key": "bk_shared_key"}).json() == {
            "revoked": True
        }
        assert httpx.get(f"{one}{NUMBERS}", headers=key).status_code == 401

        # Every tenant's entries (issue 11: a read defaults to the caller's tenant; the 401s have none).
        journal = httpx.get(f"{two}/__mock__/butter/journal", params={"tenant": "*"}).json()["entries"]
        answered = sorted(journal, key=lambda entry: entry["at"])  # sequences follow batch arrival
        assert [entry["status"] for entry in answered][-7:] == [503, 503, 200, 200, 401, 200, 401]
        sequences = [entry["sequence"] for entry in journal]
        assert sequences == sorted(set(sequences)), "one numbering for both servers' requests"
        assert "bk_shared_key" not in str(journal)
        assert "bk_test_butter" not in str(journal)

        # Famulor: 20 requests per 10 s; the window is one for both servers.
        assert httpx.post(f"{two}/__mock__/famulor/rate-limits", json={"enabled": True}).status_code == 200
        url = "/famulor/api/user/phone-numbers"
        answers = [httpx.get(f"{(one, two)[n % 2]}{url}", headers=FAMULOR) for n in range(21)]
        assert [a.status_code for a in answers] == [200] * 20 + [429]
        assert [a.headers["x-ratelimit-remaining"] for a in answers[:3]] == ["19", "18", "17"]

        assert httpx.post(f"{one}/__mock__/reset").status_code == 200
        assert httpx.get(f"{two}/__mock__/butter/journal").json()["entries"] == []
        assert phone_numbers(two) == fixtures, "a reset through one server resets the other"
        assert httpx.get(f"{two}{url}", headers=FAMULOR).status_code == 200, "rate limits off again"


def test_a_server_started_later_loads_the_stored_state(redis: Redis) -> None:
    with serving("--state", redis.url) as (one, _):
        httpx.post(f"{one}/__mock__/butter/seed", json={"records": [{"phone_number": "+15550100002"}]})
        httpx.post(f"{one}/__mock__/butter/faults", json={"status": 429})
        with serving("--state", redis.url) as (two, _):
            assert httpx.get(f"{two}{NUMBERS}", headers=BUTTER).status_code == 429
            httpx.delete(f"{two}/__mock__/butter/faults")
            assert phone_numbers(two) == ["+15550100002"]
            assert phone_numbers(one) == ["+15550100002"]


def test_workers_on_one_port_agree(redis: Redis) -> None:
    with serving("--workers", "2", "--state", redis.url) as (base, _):
        seeded = httpx.post(
            f"{base}/__mock__/butter/seed", json={"records": [{"phone_number": "+15550100003"}]}
        )
        assert seeded.status_code == 200
        # A fresh connection each time: the kernel hands them to either worker.
        assert all(phone_numbers(base) == ["+15550100003"] for _ in range(30))
        entries = httpx.get(f"{base}/__mock__/butter/journal").json()["entries"]
        assert len(entries) == 30, "the journal read through one worker shows both workers' requests"


def test_redis_going_away_and_coming_back(redis: Redis) -> None:
    with serving("--state", redis.url) as (one, first), serving("--state", redis.url) as (two, second):
        httpx.post(f"{one}/__mock__/butter/seed", json={"records": [{"phone_number": "+15550100004"}]})
        redis.stop()

        assert phone_numbers(one) == phone_numbers(two) == ["+15550100004"], "reads go on from memory"
        refused = [
            httpx.post(f"{two}/__mock__/butter/seed", json={"records": [{"phone_number": "+15550100005"}]}),
            httpx.post(f"{one}/__mock__/butter/faults", json={"status": 500}),
            httpx.post(f"{one}/__mock__/butter/keys", json={"key": "bk_other", "tenant": "org_test"}),
            httpx.get(f"{two}/__mock__/butter/journal"),
            httpx.post(f"{one}/__mock__/reset"),
        ]
        for answer in refused:
            assert answer.status_code == 503, answer.text
            assert answer.json()["error"] == "state_unavailable"
            assert "nothing was changed" in answer.json()["message"]
        assert phone_numbers(two) == ["+15550100004"], "a refused write changed nothing"
        assert httpx.get(f"{one}{NUMBERS}", headers=BUTTER).status_code == 200, "no fault was installed"

        redis.start()
        eventually(lambda: httpx.post(f"{two}/__mock__/butter/faults", json={"delay": 0}).status_code == 201)
        seeded = httpx.post(
            f"{two}/__mock__/butter/seed", json={"records": [{"phone_number": "+15550100006"}]}
        )
        assert seeded.status_code == 200, seeded.text
        assert phone_numbers(one) == phone_numbers(two) == ["+15550100006"], "consistent afterwards"
        journal = httpx.get(f"{one}/__mock__/butter/journal").json()["entries"]
        assert journal
        assert all(entry["status"] == 200 for entry in journal)
        assert first.poll() is None, "no server crashed"
        assert second.poll() is None, "no server crashed"


def test_workers_without_shared_state() -> None:
    refused = subprocess.run(
        [sys.executable, "-m", "mockserver", "serve", "--port", "0", "--workers", "2"],
        cwd=ROOT, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert refused.returncode == 2
    assert "--workers 2 needs --state" in refused.stderr
    assert "Traceback" not in refused.stderr
    with serving("--workers", "2", "--state", "memory") as (base, _):
        assert phone_numbers(base), "the fixtures are served"
        answer = httpx.post(f"{base}/__mock__/butter/seed", json={"records": []})
        assert answer.status_code == 409
        assert answer.json()["error"] == "state_not_shared"
        assert httpx.get(f"{base}/__mock__/health").status_code == 200
        assert httpx.get(f"{base}/__mock__/live").status_code == 200


def test_an_unreachable_store_is_a_one_line_error() -> None:
    port = free_port()  # nothing listens there
    result = subprocess.run(
        [sys.executable, "-m", "mockserver", "serve", "--port", "0", "--state", f"redis://:pw@127.0.0.1:{port}/0"],
        cwd=ROOT, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 2
    assert "cannot reach the state store" in result.stderr
    assert "pw" not in result.stderr.replace("[redacted]", "")
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--state", "mongodb://u:secret@127.0.0.1/x"], "--state is 'memory' or a redis:// URL"),
        (["--workers", "0"], "--workers is at least 1"),
    ],
)
def test_a_bad_state_or_workers_option_is_a_one_line_error(options: list[str], message: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "mockserver", "serve", "--port", "0", *options],
        cwd=ROOT, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 2
    assert message in result.stderr
    assert "secret" not in result.stderr
    assert "Traceback" not in result.stderr


def test_a_fault_id_names_one_rule_on_every_server(redis: Redis) -> None:
    """Issue 15's fault ids with issue 14's shared state: one id sequence for every vendor and process;
    a rule added through one server is listed by its id and removed through the other, for both."""
    with serving("--state", redis.url) as (one, _), serving("--state", redis.url) as (two, _):
        butter = httpx.post(f"{one}/__mock__/butter/faults", json={"status": 503})
        famulor = httpx.post(f"{two}/__mock__/famulor/faults", json={"status": 502})
        assert butter.status_code == famulor.status_code == 201, (butter.text, famulor.text)
        first, second = butter.json()["id"], famulor.json()["id"]
        assert first != second, "two rules, added through two servers for two vendors, have two ids"

        def listed(base: str) -> dict[int, str]:
            faults = httpx.get(f"{base}/__mock__/state").json()["faults"]
            return {fault["id"]: fault["vendor"] for fault in faults}

        assert listed(one) == listed(two) == {first: "butter", second: "famulor"}
        assert httpx.get(f"{two}{NUMBERS}", headers=BUTTER).status_code == 503

        removed = httpx.delete(f"{two}/__mock__/faults/{first}")
        assert removed.status_code == 200, removed.text
        assert removed.json() == {"removed": first, "vendor": "butter"}
        assert listed(one) == listed(two) == {second: "famulor"}, "removed on both servers"
        assert httpx.get(f"{one}{NUMBERS}", headers=BUTTER).status_code == 200
        again = httpx.delete(f"{one}/__mock__/faults/{first}")
        assert again.status_code == 404, again.text

        third = httpx.post(f"{one}/__mock__/butter/faults", json={"delay": 0.01}).json()["id"]
        assert third not in (first, second), "an id is never given twice, whichever server gives it"


def test_a_drift_switched_on_through_one_server_is_listed_and_switched_off_through_the_other(
    redis: Redis,
) -> None:
    """Issue 24 part 5: the inspector's drifts read every process's rules, and switch them off for all."""
    with serving("--state", redis.url) as (one, _), serving("--state", redis.url) as (two, _):
        on = httpx.post(f"{one}/__mock__/butter/drifts", json={"drift": "field.null"})
        assert on.status_code == 201, on.text

        def listed(base: str) -> list[int]:
            return [drift["id"] for drift in httpx.get(f"{base}/__mock__/state").json()["drifts"]]

        assert listed(one) == listed(two) == [on.json()["id"]]
        assert httpx.get(f"{two}{NUMBERS}", headers=BUTTER).json()["data"][0]["phone_number"] is None
        off = httpx.delete(f"{two}/__mock__/drifts")
        assert off.json() == {"removed": [on.json()["id"]], "kept": []}, off.text
        assert listed(one) == listed(two) == []
        assert httpx.get(f"{one}{NUMBERS}", headers=BUTTER).json()["data"][0]["phone_number"] is not None


def test_the_inspector_shows_every_servers_requests(redis: Redis) -> None:
    """The inspector's journal reads go through the shared journal: one server's page shows the other's
    requests; while a page looks, the other server keeps latency, fault and the response body too (cut
    to --journal-body-bytes, credentials redacted), written to Redis in its batches."""
    options = ("--state", redis.url, "--journal-body-bytes", "64")
    with serving(*options) as (one, _), serving(*options) as (two, _):
        assert httpx.get(f"{two}{NUMBERS}", headers=BUTTER).status_code == 200
        entries = httpx.get(f"{one}/__mock__/journal").json()["entries"]
        assert [(entry["vendor"], entry["path"]) for entry in entries] == [("butter", "/api/phone-numbers")]
        first = entries[0]["sequence"]
        assert entries[0]["latency_ms"] is None, "nobody looked at two yet: the plain journal there"
        detail = httpx.get(f"{one}/__mock__/journal/{first}")
        assert detail.status_code == 200, detail.text
        assert detail.json()["response"]["captured"] is False

        # one's page polls; two is told (pub/sub) and keeps the details of its next requests
        assert httpx.post(f"{two}/__mock__/butter/faults", json={"delay": 0.02}).status_code == 201

        def captured() -> bool:
            latest = httpx.get(f"{one}/__mock__/journal").json()["latest"]
            assert httpx.get(f"{two}{NUMBERS}", headers=BUTTER).status_code == 200
            newer = httpx.get(f"{one}/__mock__/journal", params={"since": latest}).json()["entries"]
            return bool(newer) and newer[0]["latency_ms"] is not None

        eventually(captured)
        newest = httpx.get(f"{one}/__mock__/journal", params={"vendor": "butter"}).json()["entries"][0]
        assert newest["latency_ms"] >= 20, "the injected delay is in the latency"
        assert newest["fault"] is not None
        assert "20 ms" in newest["fault"], newest["fault"]
        full = httpx.get(f"{one}/__mock__/journal/{newest['sequence']}").json()
        assert full["response"]["captured"] is True
        assert 0 < full["response"]["bytes"] <= 64, "the body is cut to --journal-body-bytes"
        assert full["response"]["text"] or full["response"]["body"] is not None
        assert "bk_test_butter" not in str(full), "the key is redacted in what Redis keeps"

        cleared = httpx.delete(f"{one}/__mock__/journal")
        assert cleared.status_code == 200, cleared.text
        assert httpx.get(f"{two}/__mock__/journal").json()["entries"] == []
        assert httpx.get(f"{two}/__mock__/journal/{newest['sequence']}").status_code == 404
