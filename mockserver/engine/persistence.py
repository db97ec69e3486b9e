"""``serve --state-dir DIR``: what tests set up over the admin API survives a restart.

Saved after every admin write and every write a vendor request made (a purchase, an update, a release),
restored at start: each tenant's records, the accepted keys (as SHA-256 digests: a key itself is never
written), persistent faults, whether rate limits are on, and each tenant's write state (clock offset,
switches, scheduled releases).

The file is replaced atomically: the new state is written to a temporary file in the same directory,
flushed and fsync'ed, renamed over ``state.json`` (``os.replace`` is atomic on POSIX and Windows), and
the directory is fsync'ed. A ``kill -9`` at any moment leaves either the previous state or the new one,
never a mix; a temporary file left by a killed save is removed at the next start.
"""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
import threading
from pathlib import Path
from typing import Any

import orjson

from mockserver.engine.emulator import Emulator
from mockserver.engine.vendor_app import VendorApp
from mockserver.errors import ConfigurationError
from mockserver.state.faults import rule_from_item

logger = logging.getLogger("mockserver")
STATE_FILE = "state.json"
TEMP_PREFIX = ".state-"
FORMAT = 1


def _vendor_state(app: VendorApp) -> dict[str, Any]:
    datasets = [
        {"tenant": tenant, "dataset": name, "records": orjson.Fragment(data.json_array(range(len(data))))}
        for (tenant, name), data in app.datasets.own_datasets().items()
    ]
    return {
        "keys": [list(item) for item in app.tenancy.authenticator.snapshot()],
        "datasets": datasets,
        "faults": [rule.as_dict() for rule in app.faults.rules()],
        "rate_limits": app.tenancy.rate_limits,
        "writes": app.writes.exported(),
    }


def snapshot(emulator: Emulator) -> bytes:
    """The saved form of an emulator's state (JSON)."""
    vendors = {vendor_id: _vendor_state(app) for vendor_id, app in emulator.apps.items()}
    return orjson.dumps({"format": FORMAT, "vendors": vendors})


def write_atomically(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data``: all of it or, after a crash at any point, the previous file."""
    descriptor, temporary = tempfile.mkstemp(prefix=TEMP_PREFIX, dir=path.parent)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        Path(temporary).replace(path)
    except BaseException:
        with contextlib.suppress(OSError):
            Path(temporary).unlink()
        raise
    with contextlib.suppress(OSError):  # not every platform can open a directory
        directory = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)


def _restore_vendor(app: VendorApp, saved: dict[str, Any]) -> None:
    app.tenancy.authenticator.restore((str(digest), tenant) for digest, tenant in saved.get("keys", []))
    for item in saved.get("datasets", []):
        app.datasets.replace(str(item["tenant"]), str(item["dataset"]), item["records"])
    app.tenancy.rate_limits = bool(saved.get("rate_limits", app.tenancy.rate_limits))
    app.writes.restore(saved.get("writes", {}))


def _restore_faults(emulator: Emulator, vendors: dict[str, Any]) -> None:
    """Every vendor's fault rules, with the ids they had: in increasing id order, since the vendors share
    one sequence of ids (:class:`mockserver.state.faults.FaultIds`); new rules count on from the highest."""
    rules = [
        (rule.get("id", 0), vendor_id, rule)
        for vendor_id, state in vendors.items()
        if vendor_id in emulator.apps
        for rule in state.get("faults", [])
    ]
    for _, vendor_id, rule in sorted(rules, key=lambda item: (int(item[0] or 0), item[1])):
        restored = rule_from_item({"id": 0, **rule})  # a drift rule keeps its drift, params and probability
        emulator.apps[vendor_id].faults.add(restored, keep_id=True)


class StateDir:
    """The saved state of one server, in ``directory``."""

    def __init__(self, directory: Path, emulator: Emulator) -> None:
        self.directory = directory
        self.path = directory / STATE_FILE
        self.emulator = emulator
        self._lock = threading.Lock()

    def restore(self) -> bool:
        """Load the saved state, if there is one (True); leftovers of a killed save are removed."""
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise ConfigurationError(f"cannot use --state-dir {self.directory}: {error.strerror}") from None
        for leftover in self.directory.glob(TEMP_PREFIX + "*"):
            with contextlib.suppress(OSError):
                leftover.unlink()
        if not self.path.is_file():
            return False
        try:
            saved = orjson.loads(self.path.read_bytes())
            for vendor_id, state in saved["vendors"].items():
                if vendor_id in self.emulator.apps:
                    _restore_vendor(self.emulator.apps[vendor_id], state)
            _restore_faults(self.emulator, saved["vendors"])
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise ConfigurationError(f"{self.path}: cannot restore the saved state: {error}") from None
        return True

    def save(self) -> None:
        """Write the current state (one save at a time; a failure is logged, the server goes on)."""
        with self._lock:
            try:
                write_atomically(self.path, snapshot(self.emulator))
            except OSError as error:
                message = error.strerror or str(error)
                logger.error("could not save the state to %s: %s", self.path, message)  # noqa: TRY400 - no traceback
