"""One way to switch a drift on, everywhere: the admin API, Prefer, the plugin and serve --drift share
one rule store and one catalogue; drifts stay in their tenant, are capped, and cost nothing while off."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from mockserver import EmulatorConfig, create_app
from mockserver.engine.config import DriftSetting
from mockserver.engine.emulator import build_emulator
from mockserver.errors import ConfigurationError
from mockserver.intercept.transport import EmulatorTransport
from mockserver.limits import Limits
from mockserver.testing import mock_vendors

LIST = "/butter/api/phone-numbers"
KEY = {"X-API-Key": "bk_test_butter", "X-Organization-Id": "org_test"}
DRIFTS = "/__mock__/butter/drifts"


def client(config: EmulatorConfig | None = None) -> httpx.Client:
    return httpx.Client(
        transport=EmulatorTransport(create_app(config or EmulatorConfig())), base_url="http://e"
    )


@pytest.fixture
def admin() -> Iterator[httpx.Client]:
    with client() as opened:
        yield opened


def first_item(admin: httpx.Client, headers: dict[str, str] | None = None) -> dict[str, object]:
    item: dict[str, object] = admin.get(LIST, headers=headers or KEY).json()["data"][0]
    return item


def test_switched_on_listed_and_off_over_the_admin_api(admin: httpx.Client) -> None:
    created = admin.post(DRIFTS, json={"drift": "field.renamed", "params": {"to": "msisdn"}})
    assert created.status_code == 201
    rule = created.json()
    assert (rule["drift"], rule["params"]) == ("field.renamed", {"to": "msisdn"})
    assert "msisdn" in first_item(admin)
    assert [found["id"] for found in admin.get(DRIFTS).json()["drifts"]] == [rule["id"]]
    assert admin.get("/__mock__/butter/faults").json()["faults"] == []  # a drift is not listed as a fault
    admin.delete("/__mock__/butter/faults")  # ... nor cleared with them
    assert "msisdn" in first_item(admin)
    assert admin.delete(f"{DRIFTS}?id={rule['id']}").json()["drifts"] == []
    assert "phone_number" in first_item(admin)


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ({"drift": "field.gone"}, "no drift 'field.gone'"),
        ({}, "no drift None"),
        ({"drift": "field.renamed", "params": {"colour": "red"}}, "its parameters: field, to"),
        ({"drift": "field.renamed", "params": ["to"]}, "params is an object"),
        ({"drift": "transport.burst", "params": {"status": "teapot"}}, "'status' is a integer"),
        ({"drift": "field.removed", "endpoint": "/api/elsewhere"}, "applies to /api/phone-numbers"),
        ({"drift": "field.removed", "times": 0}, "times is a whole number"),
        ({"drift": "field.removed", "probability": 1.5}, "probability is a number above 0"),
        ({"drift": "field.removed", "colour": "red"}, "unknown keys ['colour']"),
    ],
)
def test_bad_drifts_are_a_400_in_the_admin_shape_naming_what_is_allowed(
    admin: httpx.Client, body: dict[str, object], says: str
) -> None:
    response = admin.post(DRIFTS, json=body)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_drift"
    assert says in response.json()["message"]
    assert admin.get(DRIFTS).json()["drifts"] == []


def test_an_unknown_drift_answer_lists_the_vendor_s_drifts(admin: httpx.Client) -> None:
    answer = admin.post(DRIFTS, json={"drift": "nope"}).json()
    assert "field.renamed" in answer["drifts"]
    assert "semantics.default-filter-changed" not in answer["drifts"]  # Butter's filters have no default


def test_drifts_are_capped_with_the_faults() -> None:
    with client(EmulatorConfig(limits=Limits(max_faults=2))) as admin:
        assert admin.post("/__mock__/butter/faults", json={"status": 503, "path": "/x"}).status_code == 201
        assert admin.post(DRIFTS, json={"drift": "field.null"}).status_code == 201
        refused = admin.post(DRIFTS, json={"drift": "field.null"})
        assert (refused.status_code, refused.json()["error"]) == (429, "too_many_faults")


def test_a_tenant_s_drift_never_reaches_another_tenant(admin: httpx.Client) -> None:
    assert admin.post("/__mock__/butter/keys", json={"key": "job-7", "tenant": "org_job7"}).status_code == 201
    job = {"X-API-Key": "job-7", "X-Organization-Id": "org_job7"}
    assert admin.post(DRIFTS, json={"drift": "field.null"}, headers=job).json()["tenant"] == "org_job7"
    assert first_item(admin, job)["phone_number"] is None
    assert first_item(admin)["phone_number"] is not None
    assert admin.get(DRIFTS, headers=job).json()["drifts"][0]["tenant"] == "org_job7"


def test_times_and_probability(admin: httpx.Client) -> None:
    admin.post(DRIFTS, json={"drift": "field.null", "times": 2})
    assert [first_item(admin)["phone_number"] is None for _ in range(3)] == [True, True, False]
    admin.post(DRIFTS, json={"drift": "field.null", "probability": 0.5})
    drifted = sum(first_item(admin)["phone_number"] is None for _ in range(200))
    assert 40 < drifted < 160


def test_prefer_drifts_one_request_and_the_journal_names_it(admin: httpx.Client) -> None:
    asked = admin.get(LIST, headers={**KEY, "Prefer": "drift=field.renamed;to=msisdn"}).json()["data"][0]
    assert "msisdn" in asked
    assert "msisdn" not in first_item(admin)
    entries = admin.get("/__mock__/butter/journal").json()["entries"]
    assert [entry["drifts"] for entry in entries] == [["field.renamed"], []]
    assert admin.get(LIST, headers={**KEY, "Prefer": "drift=no.such-drift"}).status_code == 200
    for bad in ("drift=paging.size-clamped;max=many", "drift=field.null;field=nope", "drift=field.null;x=1"):
        answer = admin.get(LIST, headers={**KEY, "Prefer": bad})
        assert answer.status_code == 200, bad  # ignored, as RFC 7240 asks: never a 500
        assert answer.json()["data"][0]["phone_number"] is not None
    clamped = admin.get(LIST + "?page_size=9", headers={**KEY, "Prefer": "drift=paging.size-clamped;max=4"})
    assert len(clamped.json()["data"]) == 4  # text parameters are converted


def test_a_drifted_answer_never_enters_nor_comes_from_the_answer_cache(admin: httpx.Client) -> None:
    plain = admin.get(LIST, headers=KEY).content  # now cached
    admin.post(DRIFTS, json={"drift": "field.null", "times": 1})
    drifted = admin.get(LIST, headers=KEY).content
    assert drifted != plain
    assert admin.get(LIST, headers=KEY).content == plain


def test_nothing_of_the_drifts_is_built_or_looked_up_while_none_is_on() -> None:
    app = create_app()
    with httpx.Client(transport=EmulatorTransport(app), base_url="http://e") as http:
        assert http.get(LIST, headers=KEY).status_code == 200
        assert http.get(LIST).status_code == 401
    assert "drifts" not in vars(app.state.emulator.apps["butter"])  # the catalogue was never built


def test_a_reset_ends_the_admin_s_drifts_but_not_the_server_s() -> None:
    config = EmulatorConfig(drifts=(DriftSetting("butter", "field.renamed", {"to": "msisdn"}),))
    with client(config) as admin:
        admin.post(DRIFTS, json={"drift": "field.null"})
        listed = admin.get(DRIFTS).json()["drifts"]
        assert [(found["drift"], found.get("standing", False)) for found in listed] == [
            ("field.renamed", True),
            ("field.null", False),
        ]
        admin.post("/__mock__/reset")
        item = first_item(admin)
        assert "msisdn" in item
        assert item["msisdn"] is not None


def test_a_bad_standing_drift_stops_the_start_naming_what_is_allowed() -> None:
    with pytest.raises(ConfigurationError, match="its parameters: field, to"):
        build_emulator(EmulatorConfig(drifts=(DriftSetting("butter", "field.renamed", {"size": 3}),)))
    with pytest.raises(ConfigurationError, match="no vendor 'acme'"):
        build_emulator(EmulatorConfig(drifts=(DriftSetting("acme", "field.renamed"),)))


def test_the_plugin_s_drift_is_a_context_manager() -> None:
    with mock_vendors("butter") as vendors:
        butter = vendors.butter
        with butter.drift("field.null", field="status") as drift:
            assert drift.id == "field.null"
            assert [rule.drift for rule in butter.drifts()] == ["field.null"]
            response = httpx.get("https://api.getbutter.ai/api/phone-numbers", headers=butter.headers)
            assert response.json()["data"][0]["status"] is None
        assert butter.drifts() == []
        with pytest.raises(ValueError, match="field is one of"):
            butter.drift("field.null", field="nope")


def test_a_key_in_the_renamed_header_is_redacted_in_the_journal(admin: httpx.Client) -> None:
    drift = {"drift": "auth.header-renamed", "params": {"header": "X-Butter-Token"}, "tenant": "*"}
    assert admin.post(DRIFTS, json=drift).status_code == 201
    moved = {"X-Butter-Token": "bk_test_butter", "X-Organization-Id": "org_test"}
    assert admin.get(LIST, headers=moved).status_code == 200
    assert admin.get(LIST, headers=KEY).status_code == 401  # the documented header is refused now
    journal = admin.get("/__mock__/butter/journal").json()["entries"]
    assert "bk_test_butter" not in str(journal)


def test_auth_drifts_act_before_authentication_only_for_every_tenant(admin: httpx.Client) -> None:
    own = admin.post(DRIFTS, json={"drift": "auth.unauthorized-is-forbidden"})  # the caller's tenant
    assert own.json()["tenant"] == "org_test"
    assert admin.get(LIST).status_code == 401  # a refused request belongs to no tenant
    admin.post(DRIFTS, json={"drift": "auth.unauthorized-is-forbidden", "tenant": "*"})
    assert admin.get(LIST).status_code == 403
