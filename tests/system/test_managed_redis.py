"""The emulator pointed at a managed Redis: TLS (``rediss://`` + a CA file), an ACL user, and Sentinel.

Each test starts real ``redis-server`` processes (Debian's is built with TLS; ``--sentinel`` runs the
same binary as a sentinel) on free 127.0.0.1 ports, and a real ``serve --state URL`` process. It seeds
through the admin API and reads the seed back through Butter's endpoint, so a connection that only
pinged would not pass. A wrong CA, a wrong password and a missing CA file end ``serve`` with one line
on stderr, the password nowhere in the output. Certificates are made with the ``openssl`` CLI.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
import redis

from mockserver.state.backends import redacted_url
from tests.conftest import ROOT, wait_until_serving

BUTTER = {"X-API-Key": "bk_test_butter", "X-Organization-Id": "org_test"}
NUMBERS = "/butter/api/phone-numbers"
REDIS = shutil.which("redis-server")
OPENSSL = shutil.which("openssl")
PASSWORD = "p@ss:w/rd#%&?1"  # every character a URL gives a meaning to
SEEN = "+15550100777"

pytestmark = [
    pytest.mark.skipif(REDIS is None, reason="redis-server not found (make test installs it)"),
    pytest.mark.xdist_group("shared-state"),
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 10
    while True:
        assert process.poll() is None, f"the process for port {port} ended ({process.returncode})"
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            assert time.monotonic() < deadline, f"nothing listens on {port}"
            time.sleep(0.02)


@pytest.fixture
def start_redis(tmp_path: Path) -> Iterator[Callable[..., int]]:
    """Start ``redis-server ARGUMENTS`` listening on a free port (passed as ``{port}``); its port."""
    started: list[subprocess.Popen[bytes]] = []

    def start(*arguments: str, config: str | None = None) -> int:
        assert REDIS is not None
        port = free_port()
        folder = tmp_path / f"redis{len(started)}"
        folder.mkdir()
        command = [REDIS]
        if config is not None:  # a sentinel: it rewrites its configuration file, so a file of its own
            (folder / "sentinel.conf").write_text(config.format(port=port, dir=folder))
            command += [str(folder / "sentinel.conf"), "--sentinel"]
        command += ["--bind", "127.0.0.1", "--dir", str(folder), "--save", "", "--appendonly", "no"]
        command += [argument.format(port=port) for argument in arguments]
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        started.append(process)
        wait_for_port(port, process)
        return port

    try:
        yield start
    finally:
        for process in started:
            process.kill()
            process.wait(timeout=10)


@contextmanager
def serving(state: str) -> Iterator[str]:
    """``python -m mockserver serve --state STATE`` of this tree (request log and debug messages on); its
    base URL. At the end, checks that the banner names the store and that no password appears in
    anything it printed."""
    with tempfile.TemporaryDirectory() as folder:
        printed = Path(folder) / "printed"
        with printed.open("w") as sink:
            process = subprocess.Popen(
                [sys.executable, "-m", "mockserver", "serve", "--port", "0", "--log-level", "debug",
                 "--state", state],
                cwd=ROOT, stdout=sink, stderr=subprocess.STDOUT, text=True,
                env={**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONPATH": str(ROOT)},
            )  # fmt: skip
        try:
            deadline = time.monotonic() + 30
            while not (found := re.search(r" on (http://127\.0\.0\.1:\d+)", printed.read_text())):
                assert process.poll() is None, printed.read_text()
                assert time.monotonic() < deadline, printed.read_text()
                time.sleep(0.05)
            wait_until_serving(found.group(1))
            yield found.group(1)
        finally:
            process.terminate()
            process.wait(timeout=15)
        output = printed.read_text()
    assert "Traceback" not in output, output
    assert f"state: {redacted_url(state)}" in output, "the banner names the store, password redacted"
    for secret in (PASSWORD, quote(PASSWORD, safe=""), "sentinel-secret"):
        assert secret not in output


def refused(state: str) -> str:
    """What ``serve --state STATE`` prints when it cannot start (it must end, with exit status 2)."""
    finished = subprocess.run(
        [sys.executable, "-m", "mockserver", "serve", "--port", "0", "--state", state],
        cwd=ROOT, capture_output=True, text=True, timeout=60, check=False,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    assert finished.returncode != 0
    assert "Traceback" not in finished.stderr, finished.stderr
    lines = finished.stderr.strip().splitlines()
    assert len(lines) == 1, finished.stderr
    for secret in (PASSWORD, quote(PASSWORD, safe="")):
        assert secret not in finished.stdout + finished.stderr
    return lines[0]


def seed_and_read(base: str) -> None:
    """A seed through the admin API comes back through the vendor endpoint; nothing shows a password."""
    seeded = httpx.post(f"{base}/__mock__/butter/seed", json={"records": [{"phone_number": SEEN}]})
    assert seeded.status_code == 200, seeded.text
    listed = httpx.get(f"{base}{NUMBERS}", headers=BUTTER)
    assert [record["phone_number"] for record in listed.json()["data"]] == [SEEN]
    for path in ("/__mock__/health", "/__mock__/butter/journal", "/__mock__"):
        shown = httpx.get(f"{base}{path}").text
        assert PASSWORD not in shown
        assert quote(PASSWORD, safe="") not in shown


def openssl(*arguments: str | Path) -> None:
    assert OPENSSL is not None
    subprocess.run([OPENSSL, *map(str, arguments)], check=True, capture_output=True, timeout=60)


def certificate_authority(folder: Path, name: str) -> tuple[Path, Path]:
    key, certificate = folder / f"{name}.key", folder / f"{name}.crt"
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", f"/CN={name}",
            "-keyout", key, "-out", certificate)  # fmt: skip
    return key, certificate


@pytest.fixture
def tls_files(tmp_path: Path) -> dict[str, Path]:
    """A CA, a server certificate for 127.0.0.1 and a client certificate signed by it, and another CA
    that signed nothing."""
    if OPENSSL is None:
        pytest.skip("openssl not found (make test installs it)")
    ca_key, ca = certificate_authority(tmp_path, "test-ca")
    _, other_ca = certificate_authority(tmp_path, "other-ca")
    key, request, certificate = tmp_path / "server.key", tmp_path / "server.csr", tmp_path / "server.crt"
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1", "-keyout", key, "-out", request)
    (tmp_path / "san.ext").write_text("subjectAltName=IP:127.0.0.1\n")
    openssl("x509", "-req", "-in", request, "-CA", ca, "-CAkey", ca_key, "-CAcreateserial", "-days", "2",
            "-extfile", tmp_path / "san.ext", "-out", certificate)  # fmt: skip
    client_key, client_request = tmp_path / "client.key", tmp_path / "client.csr"
    client = tmp_path / "client.crt"
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=emulator", "-keyout", client_key,
            "-out", client_request)  # fmt: skip
    openssl("x509", "-req", "-in", client_request, "-CA", ca, "-CAkey", ca_key, "-CAcreateserial",
            "-days", "2", "-out", client)  # fmt: skip
    return {
        "ca": ca, "other_ca": other_ca, "key": key, "certificate": certificate,
        "client_key": client_key, "client": client,
    }  # fmt: skip


def test_tls_with_a_ca_file(start_redis: Callable[..., int], tls_files: dict[str, Path]) -> None:
    port = start_redis(
        "--port", "0", "--tls-port", "{port}", "--tls-auth-clients", "no",
        "--tls-cert-file", str(tls_files["certificate"]), "--tls-key-file", str(tls_files["key"]),
        "--tls-ca-cert-file", str(tls_files["ca"]),
    )  # fmt: skip
    with serving(f"rediss://127.0.0.1:{port}/0?ca_file={tls_files['ca']}") as base:
        seed_and_read(base)

    wrong_ca = refused(f"rediss://127.0.0.1:{port}/0?ca_file={tls_files['other_ca']}")
    assert wrong_ca.startswith(f"error: cannot reach the state store rediss://127.0.0.1:{port}/0")
    assert "CERTIFICATE_VERIFY_FAILED" in wrong_ca, "verification is on by default"
    missing = refused(f"rediss://127.0.0.1:{port}/0?ca_file={tls_files['ca']}.missing")
    assert "ca_file=" in missing
    assert "is not a readable file" in missing
    not_a_ca = refused(f"rediss://127.0.0.1:{port}/0?ca_file={tls_files['key'].parent / 'san.ext'}")
    assert "ca_file cannot be loaded" in not_a_ca
    plain = refused(f"redis://127.0.0.1:{port}/0")  # TLS port, plain client
    assert plain.startswith(f"error: cannot reach the state store redis://127.0.0.1:{port}/0")


def test_mutual_tls_with_a_client_certificate(
    start_redis: Callable[..., int], tls_files: dict[str, Path]
) -> None:
    port = start_redis(
        "--port", "0", "--tls-port", "{port}", "--tls-auth-clients", "yes",
        "--tls-cert-file", str(tls_files["certificate"]), "--tls-key-file", str(tls_files["key"]),
        "--tls-ca-cert-file", str(tls_files["ca"]),
    )  # fmt: skip
    url = f"rediss://127.0.0.1:{port}/0?ca_file={tls_files['ca']}"
    with serving(f"{url}&cert_file={tls_files['client']}&key_file={tls_files['client_key']}") as base:
        seed_and_read(base)
    assert refused(url).startswith(f"error: cannot reach the state store {url}: ")  # no certificate
    mismatched = refused(f"{url}&cert_file={tls_files['client']}&key_file={tls_files['key']}")
    assert "cert_file/key_file cannot be loaded (KEY_VALUES_MISMATCH)" in mismatched


def test_an_acl_user_with_a_password(start_redis: Callable[..., int]) -> None:
    port = start_redis(
        "--port", "{port}", "--user", "emulator", "on", f">{PASSWORD}", "~*", "&*", "+@all",
        "--user", "default", "off",
    )  # fmt: skip
    encoded = quote(PASSWORD, safe="")
    with serving(f"redis://emulator:{encoded}@127.0.0.1:{port}/0") as base:
        seed_and_read(base)

    wrong = refused(f"redis://emulator:{quote('not-' + PASSWORD, safe='')}@127.0.0.1:{port}/0")
    assert f"redis://emulator:[redacted]@127.0.0.1:{port}/0" in wrong
    assert "invalid username-password pair" in wrong
    anonymous = refused(f"redis://127.0.0.1:{port}/0")  # the default user is off: the ACL user was used
    assert anonymous.startswith("error: cannot reach the state store")


def test_sentinel_finds_the_master(start_redis: Callable[..., int]) -> None:
    master = start_redis("--port", "{port}", "--requirepass", PASSWORD, "--masterauth", PASSWORD)
    config = (
        "port {port}\nbind 127.0.0.1\ndir {dir}\nrequirepass sentinel-secret\n"
        f"sentinel monitor primary 127.0.0.1 {master} 1\n"
        f"sentinel auth-pass primary {PASSWORD}\n"
    )
    sentinel = start_redis(config=config)
    unused = free_port()  # the first sentinel named does not answer: the next one is asked
    encoded = quote(PASSWORD, safe="")
    url = (
        f"redis+sentinel://:{encoded}@127.0.0.1:{unused},127.0.0.1:{sentinel}/primary"
        "?db=2&sentinel_password=sentinel-secret&prefix=managed:"
    )
    with serving(url) as base:
        seed_and_read(base)
    with redis.Redis(port=master, password=PASSWORD, db=2) as direct:
        stored = direct.keys("managed:*")
    assert stored, "the state is in the master's database 2, under the prefix"

    no_such = refused(url.replace("/primary", "/nonesuch"))
    assert "nonesuch" in no_such
    assert "sentinel_password=[redacted]" in no_such
    wrong = refused(url.replace(encoded, "wrong"))
    assert ":[redacted]@127.0.0.1" in wrong


def eventually(check: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, f"{what}: not within {seconds} s"
        time.sleep(0.1)


def replicates_from(port: int, master: int) -> bool:
    with redis.Redis(host="127.0.0.1", port=port, password=PASSWORD) as server:
        info: dict[str, Any] = server.info("replication")
    return (info.get("role"), info.get("master_port"), info.get("master_link_status")) == (
        "slave",
        master,
        "up",
    )


def stored_values(port: int) -> bytes:
    """Every hash value a Redis holds, run together (to find a seeded number in)."""
    with redis.Redis(host="127.0.0.1", port=port, password=PASSWORD) as server:
        keys = [key for key in server.keys("*") if server.type(key) == b"hash"]
        return b"".join(value for key in keys for value in server.hvals(key))


def test_after_a_sentinel_failover_the_emulator_follows_the_new_master(
    start_redis: Callable[..., int],
) -> None:
    """``SENTINEL FAILOVER``: the replica becomes the master, the old master its replica. Once the
    switch is over, an admin write reaches the new master and the other server applies it: both follow
    without a restart. (A write that reaches the demoted master answers 503 and is retried; Sentinel
    closes the clients' connections when it reconfigures a server, so usually none does.)"""
    auth = ("--requirepass", PASSWORD, "--masterauth", PASSWORD, "--repl-diskless-sync-delay", "0")
    old = start_redis("--port", "{port}", *auth)
    new = start_redis("--port", "{port}", *auth, "--replicaof", "127.0.0.1", str(old))
    sentinel_port = start_redis(
        config="port {port}\nbind 127.0.0.1\ndir {dir}\n"
        f"sentinel monitor primary 127.0.0.1 {old} 1\nsentinel auth-pass primary {PASSWORD}\n"
    )
    with redis.Redis(host="127.0.0.1", port=sentinel_port) as sentinel:
        eventually(lambda: replicates_from(new, old), 20, "the replica is in sync")
        eventually(
            lambda: len(sentinel.sentinel_slaves("primary")) == 1, 30, "the sentinel knows the replica"
        )
        url = f"redis+sentinel://:{quote(PASSWORD, safe='')}@127.0.0.1:{sentinel_port}/primary"
        with serving(url) as one, serving(url) as two:
            seed_and_read(one)
            assert sentinel.execute_command("SENTINEL", "FAILOVER", "primary")
            eventually(lambda: sentinel.sentinel_get_master_addr_by_name("primary")[1] == new, 30, "failover")
            eventually(lambda: replicates_from(old, new), 30, "the old master is the new one's replica")

            refused = 0

            def seeded() -> bool:
                nonlocal refused
                answer = httpx.post(
                    f"{one}/__mock__/butter/seed", json={"records": [{"phone_number": "+15550100888"}]}
                )
                assert answer.status_code in (200, 503), answer.text
                refused += answer.status_code == 503
                return answer.status_code == 200

            eventually(seeded, 20, "an admin write after the failover")
            assert refused <= 2, "one 503 per connection to the demoted master at most"
            eventually(lambda: b"+15550100888" in stored_values(new), 5, "the new master holds the seed")
            eventually(
                lambda: (
                    [r["phone_number"] for r in httpx.get(f"{two}{NUMBERS}", headers=BUTTER).json()["data"]]
                    == ["+15550100888"]
                ),
                10,
                "the other server applies it",
            )
