#!/bin/sh
# The container image's install steps. The Dockerfile runs this file, and so does the test suite
# (offline, with the dependencies it already has), so the two cannot drift apart.
#
#   docker/install.sh SOURCE_DIR VENV_DIR [BUILD_DIR]
#
# 1. a throw-away build environment builds the wheel from the source tree (schemas and fixtures go
#    inside the package);
# 2. a fresh virtualenv installs that wheel with the pinned dependency tree (constraints.txt);
# 3. pip is removed from it (no build or install tools in the final image), and the installed package
#    proves it finds its shipped data.
set -eu
src=${1:?source directory}
venv=${2:?virtualenv directory}
build=${3:-$(mktemp -d)}
pip_options="--quiet --no-cache-dir --disable-pip-version-check --constraint $src/constraints.txt"

python -m venv "$build"
# shellcheck disable=SC2086
"$build/bin/python" -m pip install $pip_options hatchling
# shellcheck disable=SC2086
"$build/bin/python" -m pip wheel $pip_options --no-deps --no-build-isolation --wheel-dir "$build/wheels" "$src"

python -m venv "$venv"
# shellcheck disable=SC2086
"$venv/bin/python" -m pip install $pip_options "$build"/wheels/vendor_emulator-*.whl
"$venv/bin/python" -m pip uninstall --quiet --yes pip
"$venv/bin/vendor-emulator" check
