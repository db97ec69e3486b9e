"""Famulor: the promises of docs.famulor.io for phone numbers and WhatsApp senders."""

from __future__ import annotations

from mockserver.documents.schemas import SchemaStore
from tests.conftest import VendorClient, strictly_valid
from tests.documented import FAMULOR_ASSISTANT_NUMBERS, FAMULOR_PHONE_NUMBERS, FAMULOR_SENDERS

ALL = "/api/user/phone-numbers/all"
LEGACY = "/api/user/phone-numbers"
SENDERS = "/api/user/whatsapp/senders"
ASSISTANT_NUMBERS = "/api/user/assistants/phone-numbers"


def test_all_lists_every_number_in_a_data_envelope_without_paging(
    famulor: VendorClient, store: SchemaStore
) -> None:
    """docs.famulor.io phone-numbers/list: {"data": [...]}, every number, no pagination keys."""
    body = strictly_valid(store, famulor, ALL, famulor.get(ALL).json())
    assert list(body) == ["data"]
    assert body["data"] == famulor.records("phone-numbers")


def test_all_includes_the_documented_example_numbers_verbatim(famulor: VendorClient) -> None:
    data = famulor.get(ALL).json()["data"]
    for example in FAMULOR_PHONE_NUMBERS:
        assert example in data


def test_all_lists_numbers_by_ascending_id(famulor: VendorClient) -> None:
    """Ordering is undocumented; the documented example is in id order, which the emulator keeps."""
    ids = [item["id"] for item in famulor.get(ALL).json()["data"]]
    assert ids == sorted(ids)


def test_legacy_lists_only_sms_capable_numbers_with_an_active_subscription(famulor: VendorClient) -> None:
    """phone-numbers/list note: the legacy endpoint returns only SMS-capable, subscribed numbers."""
    legacy = famulor.get(LEGACY).json()["data"]
    everything = famulor.get(ALL).json()["data"]
    expected = [n for n in everything if n["sms_capable"] and n["has_active_subscription"]]
    assert legacy == expected
    assert 0 < len(legacy) < len(everything)


def test_legacy_includes_the_first_documented_number_but_not_the_second(famulor: VendorClient) -> None:
    """Example 1 is SMS-capable and subscribed; example 2 is not SMS-capable."""
    legacy = famulor.get(LEGACY).json()["data"]
    assert FAMULOR_PHONE_NUMBERS[0] in legacy
    assert FAMULOR_PHONE_NUMBERS[1] not in legacy


def test_nickname_is_optional_and_nullable(famulor: VendorClient) -> None:
    """nickname was added to the docs in 2026-06; items carry it as a string, as null, or not at all."""
    data = famulor.get(ALL).json()["data"]
    kinds = {type(item["nickname"]).__name__ if "nickname" in item else "absent" for item in data}
    assert kinds == {"str", "NoneType", "absent"}


def test_senders_default_to_online_only(famulor: VendorClient, store: SchemaStore) -> None:
    """get-senders: 'Only senders with status online are returned by default.'"""
    body = strictly_valid(store, famulor, SENDERS, famulor.get(SENDERS).json())
    assert body["data"]
    assert {sender["status"] for sender in body["data"]} == {"online"}


def test_senders_status_all_returns_every_sender(famulor: VendorClient) -> None:
    every = famulor.get(SENDERS, params={"status": "all"}).json()["data"]
    online = famulor.get(SENDERS).json()["data"]
    offline = famulor.get(SENDERS, params={"status": "offline"}).json()["data"]
    assert {s["status"] for s in every} == {"online", "offline"}
    assert sorted(s["id"] for s in every) == sorted(s["id"] for s in online + offline)


def test_senders_status_offline_returns_only_offline_senders(famulor: VendorClient) -> None:
    offline = famulor.get(SENDERS, params={"status": "offline"}).json()["data"]
    assert offline
    assert {s["status"] for s in offline} == {"offline"}


def test_senders_include_the_documented_examples(famulor: VendorClient) -> None:
    online = famulor.get(SENDERS).json()["data"]
    for example in FAMULOR_SENDERS:
        assert example in online


def test_senders_unknown_status_is_a_laravel_422(famulor: VendorClient) -> None:
    """Invalid values are undocumented; Laravel's validation body is the documented 422 shape."""
    response = famulor.get(SENDERS, params={"status": "connecting"})
    assert response.status_code == 422
    assert response.json() == {
        "message": "The selected status is invalid.",
        "errors": {"status": ["The selected status is invalid."]},
    }


def test_missing_authorization_header_gets_the_documented_401(famulor: VendorClient) -> None:
    """authentication-guide: the body for a missing header."""
    response = famulor.get(ALL, auth=False)
    assert response.status_code == 401
    assert response.json() == {
        "error": "Missing Authorization header",
        "message": "Authorization header is required",
    }


def test_invalid_key_gets_the_documented_401(famulor: VendorClient) -> None:
    """authentication-guide: the body for an invalid or expired key."""
    for header in ("Bearer wrong-key", "Basic ZmFtdWxvcjp4", "Bearer", "famulor-test-key"):
        response = famulor.get(ALL, auth=False, headers={"Authorization": header})
        assert response.status_code == 401, header
        assert response.json() == {
            "error": "Invalid API key",
            "message": "The provided API key is invalid or expired",
        }


def test_bearer_scheme_is_case_insensitive(famulor: VendorClient) -> None:
    response = famulor.get(ALL, auth=False, headers={"Authorization": "bearer famulor-test-key"})
    assert response.status_code == 200


def test_unknown_path_is_laravels_404_and_wrong_method_its_405(famulor: VendorClient) -> None:
    missing = famulor.get("/api/user/phone-numbers/none")
    assert missing.status_code == 404
    assert missing.json() == {"message": "The route api/user/phone-numbers/none could not be found."}
    wrong = famulor.request("DELETE", ALL)
    assert wrong.status_code == 405
    assert wrong.headers["allow"] == "GET, HEAD, OPTIONS"
    assert "DELETE method is not supported" in wrong.json()["message"]
    # `/phone-numbers/{id}` (numeric ids) is a route of update and release, with no GET: 405, not 404;
    # `search` is not an id, so PUT on it is a 405 of the search route.
    one = famulor.get("/api/user/phone-numbers/1")
    assert one.status_code == 405
    assert one.headers["allow"] == "PUT, DELETE, OPTIONS"
    assert "GET method is not supported" in one.json()["message"]
    assert famulor.request("PUT", "/api/user/phone-numbers/search").status_code == 405


def test_the_documented_numbers_open_the_list_in_documented_order(famulor: VendorClient) -> None:
    assert famulor.get(ALL).json()["data"][:2] == FAMULOR_PHONE_NUMBERS


def test_a_trailing_slash_reaches_the_same_route_as_laravel_does(famulor: VendorClient) -> None:
    assert famulor.get(ALL + "/").json() == famulor.get(ALL).json()


def test_options_answers_204_with_the_allowed_methods(famulor: VendorClient) -> None:
    response = famulor.request("OPTIONS", ALL)
    assert (response.status_code, response.headers["allow"], response.content) == (
        204,
        "GET, HEAD, OPTIONS",
        b"",
    )
    assert "content-length" not in response.headers


def test_the_index_shows_the_documented_test_credential(famulor: VendorClient) -> None:
    index = {vendor["id"]: vendor for vendor in famulor.client.get("/__mock__").json()["vendors"]}
    assert index["famulor"]["test_credentials"] == [{"Authorization": "Bearer famulor-test-key"}]


def test_assistant_numbers_are_a_bare_array_opening_with_the_documented_example(
    famulor: VendorClient, store: SchemaStore
) -> None:
    """assistants/phone-numbers: "The API returns a direct array" of {id, phone_number, country_code,
    type_label, is_available}; no envelope, no paging."""
    body = strictly_valid(store, famulor, ASSISTANT_NUMBERS, famulor.get(ASSISTANT_NUMBERS).json())
    assert isinstance(body, list)
    assert body[: len(FAMULOR_ASSISTANT_NUMBERS)] == FAMULOR_ASSISTANT_NUMBERS
    assert body == famulor.records("assistant-phone-numbers")
    assert [item["id"] for item in body] == sorted(item["id"] for item in body)
    assert {item["is_available"] for item in body} == {True, False}, "the fixture's, both kinds"


def test_assistant_numbers_list_the_same_numbers_for_inbound_and_outbound(famulor: VendorClient) -> None:
    """Assumption: assignments are not modelled, so both types list every number (the documented
    inbound example lists the same caller-ID numbers as the unfiltered one)."""
    everything = famulor.get(ASSISTANT_NUMBERS).json()
    for kind in ("inbound", "outbound"):
        response = famulor.get(ASSISTANT_NUMBERS, params={"type": kind})
        assert (response.status_code, response.json()) == (200, everything), kind


def test_assistant_numbers_unknown_type_is_a_laravel_422(famulor: VendorClient) -> None:
    """Only inbound and outbound are documented; another value gets Laravel's validation body."""
    for value in ("both", "INBOUND", "assistant"):
        response = famulor.get(ASSISTANT_NUMBERS, params={"type": value})
        assert response.status_code == 422, value
        assert response.json() == {
            "message": "The selected type is invalid.",
            "errors": {"type": ["The selected type is invalid."]},
        }


def test_assistant_numbers_need_the_key(famulor: VendorClient) -> None:
    response = famulor.get(ASSISTANT_NUMBERS, auth=False)
    assert response.status_code == 401
    assert response.json()["error"] == "Missing Authorization header"
