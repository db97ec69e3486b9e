"""Is the ``mockserver`` / ``contracts`` on the import path ours? The names are shared with others.

``mockserver`` is also the import name of the MockServer project's Python client (``mockserver-client``)
and ``contracts`` that of PyContracts. pip lets two distributions write the same package folder, each
overwriting the other's files, so a clash shows up later as a strange ImportError or wrong behaviour.
The console script and the pytest plugin check first, and stop with a message that names both
distributions and the fix.
"""

from __future__ import annotations

import base64
import hashlib
import sys
from importlib import metadata
from pathlib import Path

DISTRIBUTION = "vendor-emulator"
TOP_LEVEL_PACKAGES = ("mockserver", "contracts")


def _canonical(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")


def other_owners(package: str, owners: dict[str, list[str]] | None = None) -> list[str]:
    """The distributions other than ours that install the top-level package ``package``."""
    mapping = owners if owners is not None else metadata.packages_distributions()
    return sorted({name for name in mapping.get(package, []) if _canonical(name) != DISTRIBUTION})


def _our_files() -> dict[str, metadata.PackagePath]:
    """Our distribution's installed files by POSIX path (empty for a checkout or an editable install)."""
    try:
        files = metadata.distribution(DISTRIBUTION).files or []
    except metadata.PackageNotFoundError:
        return {}
    return {file.as_posix(): file for file in files}


def _looks_shared(package: str, ours: dict[str, metadata.PackagePath]) -> bool:
    """A cheap first look: a file in our package folder that we did not install, or one overwritten."""
    init = ours.get(f"{package}/__init__.py")
    if init is None:
        return False  # not installed from a wheel: nothing to compare with
    folder = Path(str(init.locate())).parent
    root = folder.parent
    for path in folder.rglob("*.py"):
        if path.relative_to(root).as_posix() not in ours:
            return True
    recorded = init.hash
    if recorded is None:
        return False
    digest = base64.urlsafe_b64encode(hashlib.new(recorded.mode, init.read_binary()).digest()).rstrip(b"=")
    return digest.decode() != recorded.value


def _shadowing(package: str, ours: dict[str, metadata.PackagePath]) -> str | None:
    """A message if ``import package`` finds another folder than the one we installed."""
    init = ours.get(f"{package}/__init__.py")
    module = sys.modules.get(package)
    location = getattr(module, "__file__", None)
    if init is None or not location:
        return None
    installed, imported = Path(str(init.locate())).resolve(), Path(location).resolve()
    if installed == imported:
        return None
    return (
        f"'{package}' is imported from {imported.parent}, not from {DISTRIBUTION} ({installed.parent}): "
        f"a local folder or another package of that name shadows it. Fix: rename the local '{package}', "
        "or run from another directory."
    )


def _shared_message(package: str, others: list[str]) -> str:
    names = ", ".join(others)
    return (
        f"the package '{package}' is installed by both {DISTRIBUTION} and {names}, which overwrite each "
        f"other's files. Fix: `pip uninstall -y {' '.join(others)} {DISTRIBUTION}` then "
        f"`pip install {DISTRIBUTION}`, or keep {names} in a separate virtual environment."
    )


def clash_messages() -> list[str]:
    """One message per clash found; empty when ``mockserver`` and ``contracts`` are ours."""
    ours = _our_files()
    messages = []
    for package in TOP_LEVEL_PACKAGES:
        others = other_owners(package) if _looks_shared(package, ours) else []
        if others:
            messages.append(_shared_message(package, others))
            continue
        shadowed = _shadowing(package, ours)
        if shadowed:
            messages.append(shadowed)
    return messages


def check_installation() -> None:
    """Stop with a one-paragraph message (exit status 2) if another distribution owns our packages."""
    messages = clash_messages()
    if messages:
        for message in messages:
            print(f"error: vendor-emulator: {message}", file=sys.stderr)
        raise SystemExit(2)


def program_name(module: str, script: str = DISTRIBUTION) -> str:
    """How the user started us: the console script, or ``python -m <module>``."""
    return script if Path(sys.argv[0]).name.startswith(script) else f"python -m {module}"
