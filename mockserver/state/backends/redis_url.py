"""A ``--state`` URL -> the Redis clients it names: plain, TLS (``rediss://``), ACL user, or Sentinel.

Accepted forms (the query parameters below are ours, checked here; anything else is refused):

- ``redis://[[user]:password@]host[:port][/db]`` and ``unix:///path/to.sock?db=N``;
- ``rediss://...`` : TLS, the server's certificate verified against ``ca_file`` (else the system's
  CAs), host name included (``verify=full``, the default; ``verify=ca`` skips the host name,
  ``verify=none`` checks nothing); ``cert_file`` and ``key_file`` for mutual TLS. redis-py's own
  ``ssl_ca_certs``, ``ssl_certfile`` and ``ssl_keyfile`` are accepted as their aliases;
- ``redis+sentinel://[[user]:password@]host[:port][,host[:port]...]/service[?db=N]``: the sentinels
  (port 26379 by default) are asked for the master of ``service``; the credentials are the master's,
  ``sentinel_username``/``sentinel_password`` those of the sentinels (none by default). A new
  connection asks the sentinels again, so after a failover the next command reaches the new master;
- every form: ``prefix`` (the start of every key and of the change channel).

User names and passwords are percent-decoded (``p%40ss`` is ``p@ss``). A problem with the URL or a
file it names is a :class:`ConfigurationError` of one line, with the password redacted.
"""

from __future__ import annotations

import os
import ssl
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit, urlunsplit

from mockserver.errors import ConfigurationError
from mockserver.state.backends.base import redacted_url

if TYPE_CHECKING:
    import redis

DEFAULT_PREFIX = "vendor-emulator:"
SENTINEL_PORT = 26379
SCHEMES = ("redis", "rediss", "unix", "redis+sentinel")
TLS_FILES = {"ca_file": "ssl_ca_certs", "cert_file": "ssl_certfile", "key_file": "ssl_keyfile"}
ALIASES = {alias: name for name, alias in TLS_FILES.items()}
VERIFY = ("full", "ca", "none")
COMMON = {"prefix", "db"}
KNOWN = {
    "redis": COMMON,
    "unix": COMMON,
    "rediss": COMMON | set(TLS_FILES) | set(ALIASES) | {"verify"},
    "redis+sentinel": COMMON | {"sentinel_username", "sentinel_password"},
}


@dataclass(frozen=True)
class StoreAddress:
    """Where the shared state lives, parsed from a ``--state`` URL (see the module docstring)."""

    scheme: str
    redacted: str  # the URL without its passwords: for messages and the banner
    prefix: str = DEFAULT_PREFIX
    address: str = ""  # redis://, rediss://, unix://: the URL redis-py parses (our parameters removed)
    tls: dict[str, Any] = field(default_factory=dict)  # rediss://: redis-py's ssl_* arguments
    sentinels: tuple[tuple[str, int], ...] = ()  # redis+sentinel://
    service: str = ""
    db: int = 0
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    sentinel_auth: dict[str, str] = field(default_factory=dict, repr=False)

    def client(self, **options: Any) -> redis.Redis:
        """A redis-py client of the (master) server; ``options`` are redis-py's (timeouts, retry)."""
        import redis  # noqa: PLC0415 - only a process with --state redis://... needs it
        from redis.backoff import NoBackoff  # noqa: PLC0415
        from redis.retry import Retry  # noqa: PLC0415
        from redis.sentinel import Sentinel  # noqa: PLC0415

        if not self.sentinels:
            return redis.Redis.from_url(self.address, **self.tls, **options)
        # One try per sentinel (redis-py retries with back-off by default): a sentinel that is down costs
        # a refused connection, not seconds, before the next one is asked.
        asking = {"socket_timeout": 1.0, "socket_connect_timeout": 1.0, "retry": Retry(NoBackoff(), 0)}
        asking.update(self.sentinel_auth)
        sentinel = Sentinel(list(self.sentinels), sentinel_kwargs=asking)  # type: ignore[no-untyped-call]
        credentials = {"username": self.username, "password": self.password, "db": self.db}
        master: redis.Redis = sentinel.master_for(self.service, **credentials, **options)  # type: ignore[no-untyped-call]
        return master

    def explain(self, error: Exception) -> str:
        """One line on why the store could not be reached (redis-py's message, or a shorter one)."""
        from redis.sentinel import MasterNotFoundError  # noqa: PLC0415

        if isinstance(error, MasterNotFoundError):  # its message holds the repr of a whole client
            hosts = ", ".join(f"{host}:{port}" for host, port in self.sentinels)
            return (
                f"no sentinel ({hosts}) named a master for {self.service!r} that answered: check the"
                " hosts, the service name, sentinel_password and the password"
            )
        return str(error)


def _fail(url: str, problem: str) -> ConfigurationError:
    return ConfigurationError(f"--state {redacted_url(url)}: {problem}")


def _readable(url: str, name: str, path: str) -> str:
    if not Path(path).is_file() or not os.access(path, os.R_OK):
        raise _fail(url, f"{name}={path} is not a readable file")
    return path


def _tls(url: str, values: dict[str, str]) -> dict[str, Any]:
    """redis-py's TLS arguments for the ``rediss://`` parameters, each file checked and loaded once."""
    files = {name: _readable(url, name, values[name]) for name in TLS_FILES if name in values}
    verify = values.get("verify", "full")
    if verify not in VERIFY:
        raise _fail(url, f"verify={verify} is not one of {', '.join(VERIFY)}")
    if "key_file" in files and "cert_file" not in files:
        raise _fail(url, "key_file needs cert_file (the client certificate)")
    context, loading = ssl.create_default_context(), "ca_file"
    try:  # loaded here once so that a wrong file is named now, not as a failed connection later
        if "ca_file" in files:
            context.load_verify_locations(cafile=files["ca_file"])
        loading = "cert_file/key_file"
        if "cert_file" in files:
            context.load_cert_chain(files["cert_file"], files.get("key_file"))
    except (ssl.SSLError, OSError, ValueError) as error:
        reason = getattr(error, "reason", None) or type(error).__name__
        raise _fail(url, f"{loading} cannot be loaded ({reason})") from None
    arguments: dict[str, Any] = {TLS_FILES[name]: path for name, path in files.items()}
    arguments["ssl_cert_reqs"] = "none" if verify == "none" else "required"
    arguments["ssl_check_hostname"] = verify == "full"
    return arguments


def _host(url: str, text: str, default_port: int) -> tuple[str, int]:
    """``host``, ``host:port``, ``[v6]`` or ``[v6]:port``."""
    host, port = text, ""
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        port = rest.removeprefix(":")
    elif text.count(":") == 1:
        host, _, port = text.partition(":")
    if not host:
        raise _fail(url, f"{text!r} names no host")
    if port and not (port.isdigit() and 0 < int(port) < 65536):
        raise _fail(url, f"{text!r}: the port is not a number from 1 to 65535")
    return host, int(port) if port else default_port


def _db(url: str, value: str) -> int:
    if not value.isdigit():
        raise _fail(url, f"db={value} is not a database number")
    return int(value)


def parse_store_url(url: str) -> StoreAddress:
    """The address a ``--state`` URL names; raises ConfigurationError (one line) on any problem."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES:
        raise _fail(url, f"the scheme is one of {', '.join(s + '://' for s in SCHEMES)}")
    query = parse_qsl(parts.query, keep_blank_values=True)
    values: dict[str, str] = {}
    for name, value in query:
        name = ALIASES.get(name, name)  # noqa: PLW2901 - redis-py's spelling of ours
        if name not in KNOWN[scheme]:
            known = ", ".join(sorted(KNOWN[scheme]))
            raise _fail(url, f"unknown parameter {name!r} for {scheme}:// (known: {known})")
        if name in values:
            raise _fail(url, f"{name} is given twice")
        values[name] = value
    prefix = values.pop("prefix", DEFAULT_PREFIX)
    redacted = redacted_url(url)
    if scheme != "redis+sentinel":
        tls = _tls(url, values) if scheme == "rediss" else {}
        if "db" in values:
            _db(url, values["db"])
        rest = urlencode([(n, v) for n, v in query if n not in ("prefix", "verify", *TLS_FILES, *ALIASES)])
        address = urlunsplit((parts.scheme, parts.netloc, parts.path, rest, parts.fragment))
        return StoreAddress(scheme, redacted, prefix, address=address, tls=tls)

    userinfo, _, hosts = parts.netloc.rpartition("@")
    username, has_password, password = userinfo.partition(":")
    sentinels = tuple(_host(url, host, SENTINEL_PORT) for host in hosts.split(",") if host)
    if not sentinels:
        raise _fail(url, "no sentinel host (redis+sentinel://HOST:PORT[,HOST:PORT...]/SERVICE)")
    service = parts.path.removeprefix("/")
    if not service or "/" in service:
        raise _fail(url, "the path is the master's service name (redis+sentinel://HOST:PORT/SERVICE)")
    pairs = (("sentinel_username", "username"), ("sentinel_password", "password"))
    sentinel_auth = {key: values[name] for name, key in pairs if name in values}
    return StoreAddress(
        scheme,
        redacted,
        prefix,
        sentinels=sentinels,
        service=unquote(service),
        db=_db(url, values["db"]) if "db" in values else 0,
        username=unquote(username) or None,
        password=unquote(password) if has_password else None,
        sentinel_auth=sentinel_auth,
    )
