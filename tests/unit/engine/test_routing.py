"""The one routing owner: which vendor a path or a host name belongs to, and which Host a server accepts.

Every place that routes (the app, the refusals, the host guard, the in-process transport, the
interception kits, the socket guard) asks :mod:`mockserver.engine.routing`, so these rules hold for all.
"""

from __future__ import annotations

import pytest

from mockserver.engine.routing import (
    HostPolicy,
    HostTable,
    Routes,
    host_name,
    host_pattern,
    resolves_to_loopback,
    url_pattern,
)

HOSTS = {"butter": ["api.getbutter.ai"], "mindhunters": ["*.mindhunters.ai", "*.mihu.ai"]}


@pytest.fixture
def routes() -> Routes[str]:
    return Routes({"butter": "butter-app", "mindhunters": "mindhunters-app"}, hosts=HOSTS)


@pytest.mark.parametrize(
    ("name", "owner"),
    [
        ("api.getbutter.ai", "butter"),  # exact
        ("API.GetButter.AI", "butter"),  # any case
        ("api.getbutter.ai.", "butter"),  # a fully qualified name's trailing dot
        ("acme.mindhunters.ai", "mindhunters"),  # a wildcard: any one label
        ("Acme.MIHU.ai.", "mindhunters"),
        ("mindhunters.ai", None),  # the wildcard's own parent is not declared
        ("a.b.mindhunters.ai", None),  # nor two labels below it
        ("api.getbutter.ai.evil.test", None),
        ("evilmindhunters.ai", None),
        ("::1", None),  # an IPv6 literal is nobody's vendor host
        ("[2001:db8::1]", None),
        ("", None),
    ],
)
def test_a_host_name_belongs_to_the_vendor_that_declares_it(
    routes: Routes[str], name: str, owner: str | None
) -> None:
    assert routes.vendor_for_host(name) == owner


@pytest.mark.parametrize(
    ("header", "name"),
    [
        ("acme.mindhunters.ai:8080", "acme.mindhunters.ai"),  # the port stripped
        ("ACME.mindhunters.ai.:443", "acme.mindhunters.ai"),  # case and trailing dot
        ("[::1]:8080", "::1"),  # an IPv6 literal without its brackets
        ("[2001:DB8::1]", "2001:db8::1"),
        ("acme.mindhunters.ai..", None),  # malformed: refused, never matched
        ("*.mindhunters.ai", None),
    ],
)
def test_a_host_header_is_reduced_to_the_name_that_is_compared(header: str, name: str | None) -> None:
    assert host_name(header) == name


def test_the_in_process_patterns_follow_the_same_rules() -> None:
    wildcard = host_pattern("*.mindhunters.ai")
    assert wildcard.match("ACME.mindhunters.ai")
    assert wildcard.match("acme.mindhunters.ai.")
    assert not wildcard.match("mindhunters.ai")
    assert not wildcard.match("a.b.mindhunters.ai")
    assert url_pattern("*.mindhunters.ai").match("https://acme.mindhunters.ai.:8443/api/v1")
    assert not url_pattern("api.getbutter.ai").match("https://api.getbutter.ai.evil.test/")


def test_a_path_belongs_to_the_vendor_of_its_first_segment(routes: Routes[str]) -> None:
    mounted = routes.for_path("/butter/api/phone-numbers")
    assert mounted is not None
    assert (mounted.owner, mounted.prefix) == ("butter-app", "/butter")
    assert routes.for_path("/butter") is not None
    assert routes.for_path("/butterfly/api") is None
    assert routes.for_path("/api/phone-numbers") is None
    assert routes.for_path("/__mock__/journal") is None
    assert routes.for_path("http://absolute/butter") is None


def test_a_root_vendor_owns_every_other_path_but_the_emulators_own() -> None:
    routes = Routes({"butter": "butter-app", "famulor": "famulor-app"}, root="famulor")
    root = routes.for_path("/api/user/phone-numbers/all")
    assert root is not None
    assert (root.owner, root.prefix) == ("famulor-app", "")
    prefixed = routes.for_path("/butter/api/phone-numbers")
    assert prefixed is not None
    assert (prefixed.owner, prefixed.prefix) == ("butter-app", "/butter"), "a vendor's prefix still wins"
    assert routes.for_path("/__mock__") is None
    assert routes.for_path("/__mock__/health") is None


def test_a_host_table_keeps_the_first_owner_of_an_exact_name() -> None:
    table: HostTable[str] = HostTable([("API.example.com", "first"), ("api.example.com", "second")])
    assert table.owner("api.example.com.") == "first"
    assert "api.example.com" in table
    assert "other.example.com" not in table


def test_a_server_accepts_its_vendors_hosts_wildcards_included_and_refuses_foreign_ones() -> None:
    policy = HostPolicy.for_server("127.0.0.1", [], ["api.getbutter.ai", "*.mindhunters.ai"])
    accepted = ["acme.mindhunters.ai", "ACME.mindhunters.ai:8080", "acme.mindhunters.ai.", "api.getbutter.ai"]
    assert all(policy.allows(host) for host in accepted)
    refused = ["mindhunters.ai", "a.b.mindhunters.ai", "evil.example", "acme.mindhunters.ai.evil.example"]
    assert not any(policy.allows(host) for host in refused)
    assert not policy.allows("[2001:db8::1]:80"), "an IPv6 literal that is not loopback nor the bound one"
    assert policy.allows("[::1]:80")
    assert policy.allows_origin("https://acme.mindhunters.ai")
    assert not policy.allows_origin("https://acme.mindhunters.ai.evil.example")


def test_allowed_hosts_compare_without_case_brackets_or_trailing_dot() -> None:
    policy = HostPolicy.for_server("[::1]", ["Emulator.Internal."], [])
    assert policy.allows("emulator.internal:9")
    assert policy.allows("EMULATOR.internal.")
    assert not policy.allows("other.internal")


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("::1", True),
        ("localhost", True),  # every address it resolves to is a loopback one
        ("0.0.0.0", False),  # every interface
        ("::", False),
        ("192.0.2.1", False),
        ("no-such-host.invalid", False),  # resolves to nothing: not known to be loopback
    ],
)
def test_a_bind_address_is_loopback_only_when_everything_it_resolves_to_is(host: str, loopback: bool) -> None:
    assert resolves_to_loopback(host) is loopback
