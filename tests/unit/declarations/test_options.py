"""Options: each assumption can be changed, and the served OpenAPI document follows."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from mockserver import DeclarationError, EmulatorConfig, create_app
from mockserver.engine.emulator import credential_headers
from mockserver.intercept.transport import EmulatorTransport


def client(vendor: str, **options: Any) -> tuple[httpx.Client, dict[str, str]]:
    app = create_app(EmulatorConfig(options={vendor: options}))
    http = httpx.Client(transport=EmulatorTransport(app), base_url="http://e")
    return http, credential_headers(app.state.emulator.vendors[vendor])[0]


def test_mindhunters_over_max_clamp_serves_100_instead_of_rejecting() -> None:
    http, auth = client("mindhunters", over_max="clamp")
    pagination = http.get("/mindhunters/api/v1/phone-numbers", params={"per_page": 500}, headers=auth).json()
    assert pagination["data"]["pagination"]["per_page"] == 100


def test_mindhunters_sort_direction_desc() -> None:
    http, auth = client("mindhunters", sort_direction="desc")
    items = http.get("/mindhunters/api/v1/phone-numbers", params={"sort": "number"}, headers=auth).json()[
        "data"
    ]["items"]
    numbers = [item["number"] for item in items]
    assert numbers == sorted(numbers, reverse=True)


def test_contactship_zero_limit_all_and_filtered_count() -> None:
    http, auth = client("contactship", zero_limit="all", count_scope="filtered")
    everything = http.get("/contactship/v1/phone-numbers", params={"limit": 0}, headers=auth).json()
    inbound = http.get(
        "/contactship/v1/phone-numbers", params={"type": "inbound", "limit": 0}, headers=auth
    ).json()
    assert len(everything["data"]) == everything["count"]
    assert inbound["count"] == len(inbound["data"]) < everything["count"]


def test_butter_default_page_size_changes_behaviour_and_the_served_document() -> None:
    http, auth = client("butter", default_page_size=50, page_size_reports="requested")
    body = http.get("/butter/api/phone-numbers", headers=auth).json()
    assert len(body["data"]) == 50
    document = http.get("/butter/openapi.json").json()
    parameters = {p["name"]: p for p in document["paths"]["/api/phone-numbers"]["get"]["parameters"]}
    assert parameters["page_size"]["schema"]["default"] == 50
    last = http.get(
        "/butter/api/phone-numbers",
        params={"page_size": 40, "cursor": body["pagination"]["next_cursor"]},
        headers=auth,
    )
    assert last.json()["pagination"]["page_size"] == 40


def test_famulor_repeated_parameters_last_wins_like_php() -> None:
    http, auth = client("famulor", repeated_params="last")
    response = http.get(
        "/famulor/api/user/whatsapp/senders",
        params=[("status", "online"), ("status", "offline")],
        headers=auth,
    )
    assert {s["status"] for s in response.json()["data"]} == {"offline"}


@pytest.mark.parametrize(
    ("options", "problem"),
    [
        ({"default_page_size": 0}, "default 0 is outside [1, 100]"),
        ({"default_page_size": 1000}, "default 1000 is outside [1, 100]"),
        ({"max_page_size": 0}, "minimum 1 is above maximum 0"),
    ],
)
def test_an_option_that_breaks_a_parameter_bound_is_refused_at_start_up(
    options: dict[str, int], problem: str
) -> None:
    with pytest.raises(DeclarationError, match=re.escape(problem)):
        create_app(EmulatorConfig(options={"butter": options}))


def test_unknown_params_reject_answers_in_the_vendors_own_shape() -> None:
    http, auth = client("contactship", unknown_params="reject")
    assert http.get("/contactship/v1/phone-numbers", headers=auth).status_code == 200  # now cached
    refused = http.get("/contactship/v1/phone-numbers", params={"colour": "red"}, headers=auth)
    assert refused.status_code == 400
    assert refused.json() == {
        "statusCode": 400,
        "message": ["property colour should not exist"],
        "error": "Bad Request",
    }
    default, auth = client("contactship")
    assert (
        default.get("/contactship/v1/phone-numbers", params={"colour": "red"}, headers=auth).status_code
        == 200
    )


def test_mindhunters_case_insensitive_filters_false_compares_exactly() -> None:
    for insensitive, expected in ((True, True), (False, False)):
        http, auth = client("mindhunters", case_insensitive_filters=insensitive)
        exact = http.get("/mindhunters/api/v1/phone-numbers", params={"country_code": "US"}, headers=auth)
        lower = http.get("/mindhunters/api/v1/phone-numbers", params={"country_code": "us"}, headers=auth)
        assert exact.json()["data"]["items"]
        assert bool(lower.json()["data"]["items"]) is expected
