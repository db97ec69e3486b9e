#!/bin/sh
# The services `make test` needs beyond Python, installed and started here (`make test` runs this first;
# .ci/run runs only `make test`). With everything present it only checks: well under a second.
#
#   required: redis-server (shared-state tests), openssl (their TLS certificates), chromium (inspector
#             browser tests); without them those tests skip and coverage falls under its floor, so their
#             absence stops `make test` here.
#   optional: docker.io, debootstrap, docker-compose and a running dockerd (the container tests); without
#             them those tests skip, each with its reason.
#
# Debian packages, installed with apt-get when run as root; otherwise one line names what is missing and
# how to install it (the apt-get command where apt-get exists, else the system's own package manager).
set -eu
export DEBIAN_FRONTEND=noninteractive  # apt-get never stops to ask (tzdata, service restarts)

missing() {  # the packages of "command:package" pairs whose command is not found
    for pair in "$@"; do
        command -v "${pair%%:*}" >/dev/null 2>&1 || printf ' %s' "${pair#*:}"
    done
}

install() {  # install Debian packages; false when this user or machine cannot
    [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 || return 1
    echo "installing$* (Debian packages)"
    # shellcheck disable=SC2068
    apt-get install -y -qq $@ >/dev/null 2>&1 \
        || { apt-get update -qq >/dev/null && apt-get install -y -qq $@ >/dev/null; }
}

how_to_install() {  # how this user installs the Debian packages "$@" on this machine
    if command -v apt-get >/dev/null 2>&1; then
        printf 'sudo apt-get install -y%s' "$*"
    else
        printf "install them with this system's package manager (Debian's names:%s)" "$*"
    fi
}

required=$(missing redis-server:redis-server chromium:chromium openssl:openssl)
if [ -n "$required" ] && ! install "$required"; then
    echo "make test needs$required (not found): $(how_to_install "$required"), then make test again" >&2
    exit 2
fi

optional=$(missing dockerd:docker.io debootstrap:debootstrap)
if ! command -v docker-compose >/dev/null 2>&1 && ! docker compose version >/dev/null 2>&1; then
    optional="$optional docker-compose"
fi
if [ -n "$optional" ] && ! install "$optional"; then
    echo "note: the container tests will skip (${optional# } not found); to run them: $(how_to_install "$optional")" >&2
    exit 0
fi

if ! docker info >/dev/null 2>&1; then
    if [ "$(id -u)" != 0 ]; then
        echo "note: the container tests will skip; to run them, start Docker:  sudo dockerd &  (or systemctl start docker)" >&2
        exit 0
    fi
    echo "starting dockerd (log: /var/log/dockerd.log)"
    nohup dockerd >/var/log/dockerd.log 2>&1 &
    tries=0
    until docker info >/dev/null 2>&1; do
        tries=$((tries + 1))
        if [ "$tries" -gt 100 ]; then
            echo "note: dockerd did not start (see /var/log/dockerd.log); the container tests will skip" >&2
            exit 0
        fi
        sleep 0.2
    done
fi
