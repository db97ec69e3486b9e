"""The application around the engine: index, mounts, root mode, served OpenAPI documents."""

from __future__ import annotations

import json
from unittest.mock import ANY

import httpx
import pytest

from mockserver import EmulatorConfig, create_app
from mockserver.engine.emulator import Emulator, credential_headers
from mockserver.intercept.transport import EmulatorTransport
from mockserver.kinds.paging_styles.cursor import CursorPaging
from mockserver.state.backends import InMemory
from tests.conftest import VENDORS

# The documented keys of the vendors used as examples below (each promise file pins its own vendor's).
DOCUMENTED_TEST_CREDENTIALS = {
    "famulor": {"Authorization": "Bearer famulor-test-key"},
    "butter": {"X-API-Key": "bk_test_butter", "X-Organization-Id": "org_test"},
    "contactship": {"x-api-key": "contactship-test-key"},
    "mindhunters": {"Authorization": "Bearer mindhunters-test-token"},
}


def test_the_index_lists_each_vendor_with_mount_endpoints_and_test_credentials(
    http: httpx.Client, emulator: Emulator
) -> None:
    index = http.get("/__mock__").json()
    vendors = {vendor["id"]: vendor for vendor in index["vendors"]}
    assert set(vendors) == set(emulator.vendors)
    for vendor_id, spec in emulator.vendors.items():
        assert vendors[vendor_id]["mount"] == f"/{vendor_id}"
        assert vendors[vendor_id]["test_credentials"] == credential_headers(spec)
        assert len(vendors[vendor_id]["endpoints"]) == len(spec.endpoints)
        assert all(e["url"].startswith(f"/{vendor_id}/") for e in vendors[vendor_id]["endpoints"])
        assert all("assumption" in option for option in vendors[vendor_id]["options"].values())


@pytest.mark.parametrize("vendor_id", VENDORS)
def test_the_served_openapi_document_is_self_contained_and_points_at_the_emulator(
    http: httpx.Client, vendor_id: str
) -> None:
    response = http.get(f"/{vendor_id}/openapi.json")
    document = response.json()
    text = json.dumps(document)
    assert response.headers["content-type"] == "application/json"
    assert document["openapi"] == "3.1.0"
    assert document["servers"][0]["url"] == f"http://emulator.test/{vendor_id}"
    assert "x-emulator" not in text
    assert '"$ref": "#/' in text
    assert '.json"' not in text.replace('openapi.json"', ""), "no external $ref is left"


def test_head_answers_headers_without_a_body(http: httpx.Client) -> None:
    response = http.head("/contactship/v1/phone-numbers", headers=DOCUMENTED_TEST_CREDENTIALS["contactship"])
    assert response.status_code == 200
    assert response.content == b""
    assert int(response.headers["content-length"]) > 0


def test_an_unknown_top_level_path_is_a_json_404_pointing_at_the_index(http: httpx.Client) -> None:
    response = http.get("/twilio/2010-04-01/Accounts")
    assert response.status_code == 404
    assert "/__mock__" in response.json()["message"]


def test_root_mode_serves_one_vendor_at_its_real_paths_and_still_under_its_mount() -> None:
    app = create_app(EmulatorConfig(root_vendor="contactship"))
    with httpx.Client(transport=EmulatorTransport(app), base_url="http://e") as client:
        headers = DOCUMENTED_TEST_CREDENTIALS["contactship"]
        assert client.get("/v1/phone-numbers", headers=headers).status_code == 200
        assert client.get("/contactship/v1/phone-numbers", headers=headers).status_code == 200
        assert client.get("/__mock__").json()["vendors"][1]["served_at_root"] is True
        assert client.get("/v1/other", headers=headers).json()["error"] == "Not Found"


@pytest.mark.anyio
async def test_the_transport_serves_async_clients_too(app: object) -> None:
    async with httpx.AsyncClient(transport=EmulatorTransport(app), base_url="http://e") as client:  # type: ignore[arg-type]
        response = await client.get(
            "/famulor/api/user/phone-numbers/all", headers=DOCUMENTED_TEST_CREDENTIALS["famulor"]
        )
        index = await client.get("/__mock__")
    assert response.status_code == 200
    assert index.status_code == 200


def test_the_asgi_app_and_the_in_process_transport_answer_the_same_bytes(
    app: object, emulator: Emulator
) -> None:
    """The transport's shortcut must not change behaviour: compare with a full ASGI round trip."""
    queries = ["", "?page_size=3", "?status=free&page_size=2", "?page_size=0"]
    headers = DOCUMENTED_TEST_CREDENTIALS["butter"]
    direct = httpx.Client(transport=EmulatorTransport(app), base_url="http://e")  # type: ignore[arg-type]
    import asyncio

    async def through_asgi() -> list[httpx.Response]:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://e") as client:  # type: ignore[arg-type]
            return [await client.get(f"/butter/api/phone-numbers{q}", headers=headers) for q in queries]

    for via_asgi, query in zip(asyncio.run(through_asgi()), queries, strict=True):
        via_transport = direct.get(f"/butter/api/phone-numbers{query}", headers=headers)
        assert (via_transport.status_code, via_transport.content) == (via_asgi.status_code, via_asgi.content)
        assert via_transport.headers["content-type"] == via_asgi.headers["content-type"]


def test_no_slash_redirects_and_a_json_405_on_the_index(http: httpx.Client) -> None:
    assert http.get("/butter").status_code == 404
    assert http.get("/__mock__/").headers["content-type"] == "application/json"
    wrong = http.post("/__mock__")
    assert (wrong.status_code, wrong.json()["error"]) == (405, "method_not_allowed")


def test_an_encoded_slash_never_reaches_a_route(http: httpx.Client) -> None:
    response = http.get("/butter/api%2Fphone-numbers", headers=DOCUMENTED_TEST_CREDENTIALS["butter"])
    assert response.status_code == 404


def test_a_sync_client_that_is_never_closed_does_not_keep_the_interpreter_alive() -> None:
    import subprocess
    import sys

    program = (
        "import httpx\n"
        "from mockserver import create_app\n"
        "from mockserver.intercept.transport import EmulatorTransport\n"
        "c = httpx.Client(transport=EmulatorTransport(create_app()), base_url='http://e')\n"
        "assert c.get('/__mock__').status_code == 200\n"
    )
    finished = subprocess.run([sys.executable, "-c", program], timeout=60, check=False, capture_output=True)
    assert finished.returncode == 0, finished.stderr


def test_the_index_ignores_one_trailing_slash_as_every_route_does(http: httpx.Client) -> None:
    assert http.get("/__mock__/").json() == http.get("/__mock__").json()


def test_health_answers_without_credentials(http: httpx.Client) -> None:
    response = http.get("/__mock__/health")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


def test_each_cursor_parameter_says_where_a_page_carries_the_next_cursor(
    http: httpx.Client, emulator: Emulator
) -> None:
    """``x-opaque-cursor`` on every cursor parameter of a served document, from the declarations."""
    annotated = 0
    for vendor_id, spec in emulator.vendors.items():
        document = http.get(f"/{vendor_id}/openapi.json").json()
        for endpoint in spec.endpoints:
            parameters = document["paths"][endpoint.path]["get"].get("parameters", [])
            marked = [p for p in parameters if "x-opaque-cursor" in p]
            if not isinstance(endpoint.paging, CursorPaging):
                assert marked == []
                continue
            (parameter,) = marked
            assert parameter["name"] == endpoint.paging.settings.cursor_param
            pointer = parameter["x-opaque-cursor"]["next"]
            page = http.get(
                f"/{vendor_id}{endpoint.path}",
                params={parameter["x-opaque-cursor"]["page_size"][0]: 1},
                headers=credential_headers(spec)[0],
            ).json()
            for token in pointer.split("/")[1:]:
                page = page[token]
            assert isinstance(page, str)
            annotated += 1
    assert annotated >= 1


def test_liveness_answers_without_credentials_and_health_says_ready_in_memory(http: httpx.Client) -> None:
    live = http.get("/__mock__/live")
    assert live.status_code == 200
    assert live.json()["status"] == "ok"
    health = http.get("/__mock__/health").json()
    assert health["ready"] is True, "one process's memory is always ready"


def test_a_process_that_is_not_ready_says_so_and_refuses_admin_writes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A shared backend's readiness (Redis: its heartbeat) decides: health 503 with the reason, admin
    writes 503 ``state_unavailable`` before they start, vendor requests and liveness unaffected."""
    reason = "the shared state store redis://:[redacted]@redis:6379/0 is unreachable; reconnecting"
    monkeypatch.setattr(InMemory, "readiness", lambda self: reason, raising=False)
    with httpx.Client(transport=EmulatorTransport(create_app()), base_url="http://e") as client:
        health = client.get("/__mock__/health")
        assert health.status_code == 503
        assert health.json() == {"status": "not_ready", "ready": False, "reason": reason, "version": ANY}
        assert client.get("/__mock__/live").status_code == 200
        seeded = client.post("/__mock__/butter/seed", json={"records": []})
        assert seeded.status_code == 503
        assert seeded.json()["error"] == "state_unavailable"
        assert reason in seeded.json()["message"]
        assert "nothing was changed" in seeded.json()["message"]
        assert client.get("/__mock__/state").status_code == 200, "reads are not refused"
        butter = {"X-API-Key": "bk_test_butter", "X-Organization-Id": "org_test"}
        assert client.get("/butter/api/phone-numbers", headers=butter).status_code == 200
