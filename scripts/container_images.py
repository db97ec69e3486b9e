"""Base images made offline from Debian's packages, for hosts that reach no container registry.

    python3 scripts/container_images.py            # build what is missing; print the timings as JSON

The project's images start ``FROM python:3.11-slim-bookworm`` (Dockerfile) and ``FROM debian:bookworm-slim``
(docker/haproxy, docker/redis). Where Docker Hub is reachable, those are the official images and this
script is not needed. Where it is not (CI here: only PyPI and Debian's mirrors), this script makes both
names locally:

1. ``debian:bookworm-slim``: ``debootstrap --variant=minbase bookworm`` from the Debian mirror the host's
   apt uses, with the host's apt sources (so later ``apt-get install`` gets security updates) and the
   host's extra CA certificates (``/usr/local/share/ca-certificates``, so pip inside a build trusts the
   same roots as the host), documentation and locales dropped, then ``docker import``;
2. ``python:3.11-slim-bookworm``: that image plus Debian's python3 (3.11), python3-venv and
   python-is-python3 (docker/python-base/Dockerfile).

An image whose tag already exists is kept (labelled ``offline-base`` so it is told apart from Docker Hub's),
so a second run takes well under a second. Needs root (debootstrap) and a running Docker daemon.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEBIAN = "debian:bookworm-slim"
PYTHON = "python:3.11-slim-bookworm"
SUITE = "bookworm"
LABEL = "org.vendor-emulator.offline-base"
# What the slim images leave out too: documentation, manual pages and translations.
DPKG_EXCLUDES = """\
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-exclude /usr/share/lintian/*
"""


def apt_sources(root: Path = Path("/etc/apt")) -> list[tuple[str, str]]:
    """(URI, suite) of every enabled deb source of the host, in file order (one-line and deb822 format)."""
    found: list[tuple[str, str]] = []
    files = [root / "sources.list", *sorted((root / "sources.list.d").glob("*"))]
    for path in files:
        if not path.is_file():
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        if path.suffix == ".sources":
            for stanza in re.split(r"\n\s*\n", text):
                fields: dict[str, str] = {}
                for line in stanza.splitlines():
                    key, _, value = line.partition(":")
                    if not line.startswith(("#", " ", "\t")) and value.strip():
                        fields[key.strip().lower()] = value.strip()
                if "deb" in fields.get("types", "").split() and fields.get("enabled", "yes") != "no":
                    uris, suites = fields.get("uris", "").split(), fields.get("suites", "").split()
                    found += [(uri, suite) for uri in uris for suite in suites]
        elif path.suffix == ".list" or path.name == "sources.list":
            for line in text.splitlines():
                words = re.sub(r"\[[^]]*\]", "", line).split()
                if len(words) >= 3 and words[0] == "deb":
                    found.append((words[1], words[2]))
    return found


def mirror(sources: list[tuple[str, str]]) -> str:
    """The mirror the host's apt installs the ``bookworm`` suite from."""
    for uri, suite in sources:
        if suite == SUITE:
            return uri
    raise SystemExit(f"no apt source for Debian {SUITE} in /etc/apt/sources.list*: add one, then run again")


def _run(command: list[str], **options: object) -> None:
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, **options)  # type: ignore[call-overload]


def exists(tag: str) -> bool:
    found = subprocess.run(["docker", "image", "inspect", tag], capture_output=True, check=False)
    return found.returncode == 0


def build_debian(tag: str = DEBIAN) -> None:
    """debootstrap minbase, the host's sources and CA certificates, then ``docker import`` as ``tag``."""
    sources = apt_sources()
    with tempfile.TemporaryDirectory(prefix="debian-base-") as scratch:
        root = Path(scratch) / "root"
        (root / "etc/dpkg/dpkg.cfg.d").mkdir(parents=True)
        (root / "etc/dpkg/dpkg.cfg.d/slim").write_text(DPKG_EXCLUDES, encoding="utf-8")
        _run(
            [
                "debootstrap",
                "--variant=minbase",
                "--include=ca-certificates",
                SUITE,
                str(root),
                mirror(sources),
            ]
        )
        lines = [f"deb {uri} {suite} main" for uri, suite in sources if suite.startswith(SUITE)]
        (root / "etc/apt/sources.list").write_text("\n".join(lines) + "\n", encoding="utf-8")
        (root / "etc/apt/apt.conf.d/slim").write_text(
            'APT::Install-Recommends "0";\nAPT::Install-Suggests "0";\n', encoding="utf-8"
        )
        for certificate in sorted(Path("/usr/local/share/ca-certificates").glob("**/*.crt")):
            shutil.copy(certificate, root / "usr/local/share/ca-certificates" / certificate.name)
        _run(["chroot", str(root), "update-ca-certificates"])
        leftovers = ["var/cache/apt/*.bin", "var/cache/apt/archives/*.deb", "var/lib/apt/lists/*",
                     "var/log/*", "usr/share/doc/*", "usr/share/man/*", "usr/share/locale/*",
                     "usr/share/info/*"]  # fmt: skip
        for pattern in leftovers:
            for child in root.glob(pattern):
                if child.is_dir() and not child.is_symlink():
                    shutil.rmtree(child)
                elif child.name != "lock":
                    child.unlink()
        tar = subprocess.Popen(["tar", "-C", str(root), "--numeric-owner", "-c", "."], stdout=subprocess.PIPE)
        changes = ["--change", 'CMD ["bash"]', "--change", f"LABEL {LABEL}=debootstrap"]
        _run(["docker", "import", *changes, "-", tag], stdin=tar.stdout)
        if tar.wait() != 0:
            raise SystemExit("tar of the debootstrap tree failed")


def build_python(tag: str = PYTHON) -> None:
    """Debian's python3 on top of the Debian base (docker/python-base/Dockerfile)."""
    _run(["docker", "build", "--quiet", "-t", tag, str(ROOT / "docker" / "python-base")])


def ensure() -> dict[str, float]:
    """Build each base image that is missing; seconds per image built (0 where it was cached)."""
    timings: dict[str, float] = {}
    for tag, build in ((DEBIAN, build_debian), (PYTHON, build_python)):
        started = time.monotonic()
        if not exists(tag):
            build(tag)
        timings[tag] = round(time.monotonic() - started, 1)
    return timings


if __name__ == "__main__":
    if shutil.which("docker") is None:
        sys.exit("docker not found: run scripts/setup-services.sh as root (installs docker.io, debootstrap)")
    print(json.dumps(ensure()))
