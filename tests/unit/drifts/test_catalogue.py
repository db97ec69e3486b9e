"""The drift catalogue is data derived from the declarations: what applies where, with which defaults,
and the finding kind each drift promises."""

from __future__ import annotations

from typing import Any

import pytest

from contracts.checks.findings import KINDS
from mockserver.authoring import drift_reference
from mockserver.declarations.loading import discover_vendors, load_vendor
from mockserver.documents.schemas import SchemaStore
from mockserver.drifts import (
    Drift,
    DriftError,
    VendorDrifts,
    looping,
    parse_spec,
    preferred_drifts,
    vendor_view,
)
from mockserver.engine.config import DEFAULT_SCHEMAS_DIR

STORE = SchemaStore(DEFAULT_SCHEMAS_DIR)
VENDORS = discover_vendors(DEFAULT_SCHEMAS_DIR)


def drifts_of(vendor_id: str) -> VendorDrifts:
    return VendorDrifts(vendor_view(load_vendor(DEFAULT_SCHEMAS_DIR / vendor_id, STORE), STORE))


@pytest.fixture(scope="module")
def catalogues() -> dict[str, VendorDrifts]:
    return {vendor_id: drifts_of(vendor_id) for vendor_id in VENDORS}


def test_every_drift_promises_a_monitor_kind_or_says_why_it_cannot() -> None:
    for drift_id, drift in Drift.kinds().items():
        assert drift.id.count(".") == 1, drift_id
        assert drift.summary, drift_id
        if drift.kind is None:
            assert len(drift.invisible) > 20, f"{drift_id}: say why the monitor cannot see it"
        else:
            assert drift.kind in KINDS, drift_id


def test_a_per_endpoint_kind_is_a_monitor_kind_too(catalogues: dict[str, VendorDrifts]) -> None:
    for drifts in catalogues.values():
        for entry in drifts.describe():
            for applies in entry["applies"]:
                assert applies["kind"] is None or applies["kind"] in KINDS, entry["id"]


def test_the_issue_s_families_are_covered() -> None:
    wanted = {
        "field.removed", "field.removed-optional", "field.renamed", "field.null", "field.number-as-string",
        "field.integer-as-float", "format.timestamp-offset-dropped", "format.timestamp-precision",
        "format.e164-without-plus", "enum.new-value", "field.undocumented", "envelope.wrapped",
        "envelope.unwrapped", "paging.total-is-page-length", "paging.end-flag-never-false",
        "paging.end-flag-always-false", "paging.next-on-last-page", "paging.cursor-ignored",
        "paging.size-clamped", "semantics.filter-ignored", "semantics.default-order-changed",
        "semantics.default-page-size-changed", "semantics.default-filter-changed", "transport.burst",
        "transport.login-redirect", "transport.html-body", "transport.media-type", "transport.latency",
        "transport.body-cut-short", "auth.unauthorized-is-forbidden", "auth.header-renamed",
        "errors.other-shape",
    }  # fmt: skip
    assert wanted <= set(Drift.kinds())


def test_paging_drifts_apply_only_where_the_envelope_carries_the_signal(
    catalogues: dict[str, VendorDrifts],
) -> None:
    for vendor_id, drifts in catalogues.items():
        for endpoint in drifts.view.endpoints:
            for drift_id, role in (
                ("paging.end-flag-never-false", "more"),
                ("paging.total-is-page-length", "total"),
                ("paging.next-on-last-page", "next"),
            ):
                listing = drifts.listings.get(drift_id)
                paths = {target.path for target in listing.targets} if listing else set()
                assert (endpoint.path in paths) == (role in endpoint.signals), (vendor_id, drift_id)


def test_famulor_lists_no_paging_drift_because_it_does_not_page(catalogues: dict[str, VendorDrifts]) -> None:
    assert not [drift_id for drift_id in catalogues["famulor"].listings if drift_id.startswith("paging.")]
    # ... and only its senders have a filter whose default can change (status: online)
    (target,) = catalogues["famulor"].listings["semantics.default-filter-changed"].targets
    assert target.path == "/api/user/whatsapp/senders"
    assert target.defaults == {"filter": "status", "value": "all"}


def test_field_drifts_default_to_a_field_of_the_right_kind(catalogues: dict[str, VendorDrifts]) -> None:
    for drifts in catalogues.values():
        for target in drifts.listings["field.removed"].targets:
            endpoint = drifts.view.endpoint(target.path)
            assert endpoint is not None
            field = endpoint.field(target.defaults["field"])
            assert field is not None
            assert field.required
            assert field.path != endpoint.key
        for target in drifts.listings["enum.new-value"].targets:
            endpoint = drifts.view.endpoint(target.path)
            assert endpoint is not None
            field = endpoint.field(target.defaults["field"])
            assert field is not None
            assert field.enum


def test_checking_a_request_names_what_is_allowed(catalogues: dict[str, VendorDrifts]) -> None:
    butter = catalogues["butter"]
    with pytest.raises(DriftError, match=r"no drift 'field\.gone'.*field\.renamed"):
        butter.check("field.gone")
    with pytest.raises(DriftError, match="its parameters: field, to"):
        butter.check("field.renamed", {"colour": "red"})
    with pytest.raises(DriftError, match="field is one of"):
        butter.check("field.renamed", {"field": "not_a_field"})
    with pytest.raises(DriftError, match="'status' is one of"):
        butter.check("transport.burst", {"status": 418})
    with pytest.raises(DriftError, match="applies to"):
        butter.check("field.removed", endpoint="/nowhere")
    with pytest.raises(DriftError, match="so that the journal redacts the key"):
        butter.check("auth.header-renamed", {"header": "X-Client"})
    assert butter.check("transport.burst", {"status": "429", "retry_after": "0"}) == {
        "status": 429,
        "retry_after": 0,
    }


def test_parameter_defaults_are_filled_where_the_drift_runs(catalogues: dict[str, VendorDrifts]) -> None:
    bound = catalogues["butter"].bound(("field.renamed", (("to", "number"),)), "/api/phone-numbers")
    assert bound is not None
    assert bound.params == {"field": "phone_number", "to": "number"}
    assert catalogues["butter"].bound(("field.renamed", ()), "/nowhere") is None


def test_the_drifts_that_can_make_a_client_loop_are_marked() -> None:
    assert {"paging.end-flag-never-false", "paging.cursor-ignored"} <= looping()
    assert "field.renamed" not in looping()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("butter:field.renamed", ("butter", "field.renamed", {})),
        (
            "butter:field.renamed:field=status,to=state",
            ("butter", "field.renamed", {"field": "status", "to": "state"}),
        ),
    ],
)
def test_the_command_line_form(text: str, expected: tuple[str, str, dict[str, Any]]) -> None:
    assert parse_spec(text) == expected


@pytest.mark.parametrize("text", ["butter", ":field.renamed", "butter:field.renamed:oops"])
def test_a_malformed_command_line_form_is_refused(text: str) -> None:
    with pytest.raises(DriftError):
        parse_spec(text)


def test_the_prefer_form() -> None:
    assert preferred_drifts(
        "code=503, drift=field.renamed;field=status;to=state, drift=paging.cursor-ignored"
    ) == [
        ("field.renamed", (("field", "status"), ("to", "state"))),
        ("paging.cursor-ignored", ()),
    ]
    assert preferred_drifts("code=503") == []


def test_docs_drifts_md_shows_the_catalogue_as_it_is() -> None:
    assert drift_reference.main(["--check"]) == 0, "python -m mockserver.authoring.drift_reference"
