"""``--state`` URLs: what each form connects to, what is refused (one line), and what is redacted."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from mockserver.errors import ConfigurationError
from mockserver.state.backends import open_state, redacted_url
from mockserver.state.backends.redis_url import DEFAULT_PREFIX, parse_store_url

PASSWORD = "p@ss:w/rd#%&?1"
ENCODED = quote(PASSWORD, safe="")
# A self-signed CA certificate (loading checks it is one; nothing connects with it).
CA = """\
-----BEGIN CERTIFICATE-----
MIIBgjCCASmgAwIBAgIUUFbF9OIiY75nnlrVN1SlDht24zYwCgYIKoZIzj0EAwIw
FzEVMBMGA1UEAwwMdW5pdC10ZXN0LWNhMB4XDTI2MTIwNzE2MTEyMVoXDTM2MTIw
NDE2MTEyMVowFzEVMBMGA1UEAwwMdW5pdC10ZXN0LWNhMFkwEwYHKoZIzj0CAQYI
KoZIzj0DAQcDQgAEvOI9E3m5RuvE589OychvifgYsQScFXEEfE1WzE5402WfvExl
nCSlxZG5QllDTkb0kIrF4+QuVA1xbywqQcC5maNTMFEwHQYDVR0OBBYEFPczMwMZ
LZufuq3N3u8pv4pcCyXEMB8GA1UdIwQYMBaAFPczMwMZLZufuq3N3u8pv4pcCyXE
MA8GA1UdEwEB/wQFMAMBAf8wCgYIKoZIzj0EAwIDRwAwRAIgG1O7i9gHNI0ob8w4
gYFzl8kRO8C/jqU7jTPhif/tWkECIEMxv3zGAryBh7WmO3Rv5VVzQFg7qJathYEm
VVXdnqKZ
-----END CERTIFICATE-----
"""


def refusal(url: str) -> str:
    with pytest.raises(ConfigurationError) as raised:
        parse_store_url(url)
    message = str(raised.value)
    assert "\n" not in message
    assert PASSWORD not in message
    assert ENCODED not in message
    return message


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("redis://127.0.0.1:6379/0", "redis://127.0.0.1:6379/0"),
        (f"redis://user:{ENCODED}@h:1/0?prefix=x", "redis://user:[redacted]@h:1/0?prefix=x"),
        (f"redis://:{ENCODED}@h:1", "redis://:[redacted]@h:1"),
        (f"redis://user:{PASSWORD}@h:1/0", "redis://user:[redacted]@h:1/0"),  # not even encoded
        ("redis://user@h:1", "redis://user@h:1"),
        (
            f"redis+sentinel://u:{ENCODED}@a:1,[::1]:2/primary?sentinel_password={ENCODED}&db=3",
            "redis+sentinel://u:[redacted]@a:1,[::1]:2/primary?sentinel_password=[redacted]&db=3",
        ),
        ("unix:///run/redis.sock?db=1", "unix:///run/redis.sock?db=1"),
    ],
)
def test_passwords_are_redacted_wherever_they_are(url: str, shown: str) -> None:
    assert redacted_url(url) == shown


def test_a_plain_url_keeps_redis_py_parsing_without_our_parameters() -> None:
    address = parse_store_url(f"redis://emulator:{ENCODED}@127.0.0.1:6380/4?prefix=team:")
    assert address.prefix == "team:"
    assert address.address == f"redis://emulator:{ENCODED}@127.0.0.1:6380/4"
    client = address.client()
    kwargs = client.connection_pool.connection_kwargs
    assert (kwargs["username"], kwargs["password"], kwargs["db"], kwargs["port"]) == (
        "emulator", PASSWORD, 4, 6380,
    )  # fmt: skip
    assert parse_store_url("redis://h").prefix == DEFAULT_PREFIX


def test_tls_verifies_the_certificate_and_its_host_name_by_default(tmp_path: Path) -> None:
    ca = tmp_path / "ca.pem"
    ca.write_text(CA)
    address = parse_store_url(f"rediss://h:6380/0?ca_file={ca}")
    assert address.tls == {"ssl_ca_certs": str(ca), "ssl_cert_reqs": "required", "ssl_check_hostname": True}
    assert parse_store_url("rediss://h:6380").tls == {"ssl_cert_reqs": "required", "ssl_check_hostname": True}
    assert parse_store_url(f"rediss://h?ssl_ca_certs={ca}&verify=ca").tls["ssl_check_hostname"] is False
    assert parse_store_url("rediss://h?verify=none").tls["ssl_cert_reqs"] == "none"
    kwargs = parse_store_url(f"rediss://h?ca_file={ca}").client().connection_pool.connection_kwargs
    assert kwargs["ssl_ca_certs"] == str(ca)


def test_tls_files_are_checked_before_connecting(tmp_path: Path) -> None:
    assert "ca_file=/nonexistent.pem is not a readable file" in refusal("rediss://h?ca_file=/nonexistent.pem")
    junk = tmp_path / "junk.pem"
    junk.write_text("not a certificate")
    assert "ca_file cannot be loaded" in refusal(f"rediss://:{ENCODED}@h?ca_file={junk}")
    assert "cert_file/key_file cannot be loaded" in refusal(f"rediss://h?cert_file={junk}&key_file={junk}")
    assert "key_file needs cert_file" in refusal(f"rediss://h?key_file={junk}")
    assert "verify=maybe is not one of full, ca, none" in refusal("rediss://h?verify=maybe")


def test_unknown_or_misplaced_parameters_are_refused() -> None:
    assert "unknown parameter 'ca_file' for redis://" in refusal("redis://h?ca_file=/x")  # TLS needs rediss
    assert "unknown parameter 'socket_timeout'" in refusal("rediss://h?socket_timeout=1")
    assert "prefix is given twice" in refusal("redis://h?prefix=a&prefix=b")
    assert "db=x is not a database number" in refusal("redis://h?db=x")
    assert "the scheme is one of" in refusal(f"rediss+sentinel://:{ENCODED}@h/primary")
    with pytest.raises(ConfigurationError, match="redis\\+sentinel://"):
        open_state(f"http://u:{ENCODED}@h")


def test_sentinel_urls_name_every_sentinel_the_service_and_both_credentials() -> None:
    address = parse_store_url(
        f"redis+sentinel://emulator:{ENCODED}@10.0.0.1,10.0.0.2:26380,[fd00::3]:26381/pri%2Fmary"
        "?db=2&prefix=p:&sentinel_username=watcher&sentinel_password=s%26cret"
    )
    assert address.sentinels == (("10.0.0.1", 26379), ("10.0.0.2", 26380), ("fd00::3", 26381))
    assert (address.service, address.db, address.prefix) == ("pri/mary", 2, "p:")
    assert (address.username, address.password) == ("emulator", PASSWORD)
    assert address.sentinel_auth == {"username": "watcher", "password": "s&cret"}
    assert PASSWORD not in repr(address)
    bare = parse_store_url("redis+sentinel://h/primary")
    assert (bare.username, bare.password, bare.db, bare.sentinel_auth) == (None, None, 0, {})


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("redis+sentinel:///primary", "no sentinel host"),
        ("redis+sentinel://h:1", "the path is the master's service name"),
        ("redis+sentinel://h:1/a/b", "the path is the master's service name"),
        ("redis+sentinel://h:99999/primary", "the port is not a number from 1 to 65535"),
        ("redis+sentinel://h:x/primary", "the port is not a number"),
        ("redis+sentinel://h/primary?db=-1", "db=-1 is not a database number"),
        ("redis+sentinel://h/primary?ca_file=/x", "unknown parameter 'ca_file'"),
    ],
)
def test_bad_sentinel_urls_are_one_line(url: str, problem: str) -> None:
    assert problem in refusal(url)


def test_a_sentinel_client_asks_for_the_master_with_the_master_credentials() -> None:
    address = parse_store_url(f"redis+sentinel://u:{ENCODED}@a:1,b:2/primary?db=5&sentinel_password=x")
    client = address.client(socket_timeout=2.0)
    pool: Any = client.connection_pool  # a SentinelConnectionPool
    assert pool.service_name == "primary"
    assert (pool.connection_kwargs["username"], pool.connection_kwargs["password"]) == ("u", PASSWORD)
    assert pool.connection_kwargs["db"] == 5
    sentinels = pool.sentinel_manager.sentinels
    assert [s.connection_pool.connection_kwargs["port"] for s in sentinels] == [1, 2]
    assert {s.connection_pool.connection_kwargs["password"] for s in sentinels} == {"x"}
