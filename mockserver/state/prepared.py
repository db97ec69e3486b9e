"""Prepared fixtures: a large fixture file's dataset kept on disk in its packed form, keyed by a digest.

Loading a fixture parses every record, checks it against its schema, serialises it and builds the
endpoints' default orders: about half a second of CPU at 100,000 records. What comes out (the packed
bytes, the keys, the orderings the endpoints list in by default) depends only on the file's bytes, the
schemas, the key field and the sort keys, so it is written once to a cache file named by the SHA-256
digest of all of them, and the next start reads it back instead (a few tens of milliseconds).

- Only fixture files of at least ``min_bytes`` (1 MiB) are prepared: the shipped fixtures load in
  milliseconds anyway, and a test suite does not fill the cache.
- Where: ``VENDOR_EMULATOR_CACHE_DIR``, else ``$XDG_CACHE_HOME/vendor-emulator``, else
  ``~/.cache/vendor-emulator`` (never inside the installed package). ``VENDOR_EMULATOR_CACHE_DIR=off``
  turns it off.
- The cache is only ever a shortcut: a missing, stale, corrupt (its CRC-32 and its shape are checked)
  or unreadable file means the normal load, and a directory that cannot be written is left alone.
  A changed fixture or schema has another digest, so a stale entry is never read.
- Budget: at most ``budget_bytes`` (256 MiB) in all; the least recently used files go first.
- ``check`` never uses it: it validates every record of every fixture, every time.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import struct
import sys
import tempfile
import zlib
from array import array
from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any, BinaryIO

import orjson

from mockserver.data.dataset import Blobs, Dataset, SortKey
from mockserver.documents.schemas import SchemaStore

ENVIRONMENT = "VENDOR_EMULATOR_CACHE_DIR"
OFF = ("off", "none", "0", "false", "no")
FORMAT = b"vendor-emulator prepared dataset 1\n"
HEADER = struct.Struct("<QQQI")  # records, buffer bytes, trailer bytes, CRC-32 of everything after
SUFFIX = ".prepared"
MIN_BYTES = 1 << 20
BUDGET_BYTES = 256 << 20


def default_cache_dir() -> Path | None:
    """Where prepared fixtures are kept (``VENDOR_EMULATOR_CACHE_DIR``, XDG's cache dir), or None: off."""
    configured = os.environ.get(ENVIRONMENT)
    if configured is not None:
        return None if configured.strip().lower() in OFF or not configured.strip() else Path(configured)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "vendor-emulator"


def _relative(path: Path, root: Path) -> str:
    """``path`` below ``root`` (so that a moved schemas folder keeps its digest), or as it is."""
    try:
        return str(path.resolve().relative_to(root))
    except ValueError:
        return str(path)


def _package_version() -> str:
    try:
        return version("vendor-emulator")
    except PackageNotFoundError:
        return "0+unknown"


class PreparedCache:
    """Prepared datasets in one directory (best effort: every failure means a normal load)."""

    def __init__(
        self, directory: Path, *, min_bytes: int = MIN_BYTES, budget_bytes: int = BUDGET_BYTES
    ) -> None:
        self.directory = directory
        self.min_bytes = min_bytes
        self.budget_bytes = budget_bytes
        self._schema_digests: dict[int, tuple[SchemaStore, bytes]] = {}

    @classmethod
    def from_environment(cls) -> PreparedCache | None:
        """The cache at :func:`default_cache_dir`, or None when it is turned off."""
        directory = default_cache_dir()
        return None if directory is None else cls(directory)

    def wanted(self, raw: bytes) -> bool:
        """Whether a fixture file this large is worth preparing."""
        return len(raw) >= self.min_bytes

    def digest(
        self, raw: bytes, store: SchemaStore, schema: Path, key: str, orderings: Sequence[tuple[SortKey, ...]]
    ) -> str:
        """What the prepared form depends on, as one hex digest (the name of its file)."""
        digest = hashlib.sha256(FORMAT)
        described = [_package_version(), sys.byteorder, _relative(schema, store.root), key, orderings]
        digest.update(orjson.dumps(described))
        digest.update(self._schemas(store))
        digest.update(raw)
        return digest.hexdigest()

    def _schemas(self, store: SchemaStore) -> bytes:
        """A digest of every schema of the store (a record is checked against its references too)."""
        known = self._schema_digests.get(id(store))
        if known is None or known[0] is not store:
            contents = [[_relative(path, store.root), store.contents(path)] for path in store.paths()]
            known = (store, hashlib.sha256(orjson.dumps(contents, option=orjson.OPT_SORT_KEYS)).digest())
            self._schema_digests[id(store)] = known
        return known[1]

    def load(self, name: str, key: str, orderings: Sequence[tuple[SortKey, ...]]) -> Dataset | None:
        """The dataset prepared under ``name``, or None (absent, unreadable or not what it should be)."""
        path = self.directory / (name + SUFFIX)
        try:
            with path.open("rb") as file:
                dataset = _read(file, key, orderings)
        except (OSError, ValueError, struct.error, orjson.JSONDecodeError, TypeError, KeyError):
            return None
        with contextlib.suppress(OSError):
            os.utime(path)  # recently used: the budget removes it last
        return dataset

    def save(self, name: str, dataset: Dataset, orderings: Sequence[tuple[SortKey, ...]]) -> None:
        """Keep ``dataset`` under ``name`` (written whole, then renamed; silently skipped on any failure)."""
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            descriptor, temporary_name = tempfile.mkstemp(dir=self.directory, prefix=".", suffix=".partial")
            temporary = Path(temporary_name)
            try:
                with os.fdopen(descriptor, "wb") as file:
                    for chunk in _written(dataset, orderings):
                        file.write(chunk)
                temporary.replace(self.directory / (name + SUFFIX))  # whole or not at all
            except BaseException:
                temporary.unlink(missing_ok=True)
                raise
            self._trim()
        except OSError:
            return

    def _trim(self) -> None:
        """Remove the least recently used files until the directory is within its budget."""
        entries = []
        for path in self.directory.glob("*" + SUFFIX):
            with contextlib.suppress(OSError):
                status = path.stat()
                entries.append((status.st_mtime, status.st_size, path))
        total = sum(size for _, size, _ in entries)
        for _, size, path in sorted(entries):
            if total <= self.budget_bytes:
                break
            with contextlib.suppress(OSError):
                path.unlink()
                total -= size


def _written(dataset: Dataset, orderings: Sequence[tuple[SortKey, ...]]) -> list[bytes]:
    """The file: format line, header, end offsets, packed records, then keys and orders as JSON."""
    blobs = dataset.blobs
    ends = blobs.ends
    if sys.byteorder != "little":  # pragma: no cover - the digest names the byte order too
        ends.byteswap()
    built = [(keys, dataset.built_ordering(keys)) for keys in orderings]
    orders = [[keys, list(ordering.order)] for keys, ordering in built if ordering is not None]
    trailer = orjson.dumps({"keys": list(dataset.positions), "orders": orders})
    body = [ends.tobytes(), blobs.buffer, trailer]
    crc = 0
    for part in body:
        crc = zlib.crc32(part, crc)
    return [FORMAT, HEADER.pack(len(blobs), len(blobs.buffer), len(trailer), crc), *body]


def _read(file: BinaryIO, key: str, orderings: Sequence[tuple[SortKey, ...]]) -> Dataset:
    """A dataset from a prepared file; ValueError when it is not a sound prepared file.

    Read part by part (no copy of the records' bytes), the CRC-32 computed as the parts arrive."""
    if file.read(len(FORMAT)) != FORMAT:
        raise ValueError("not a prepared dataset")
    count, size, trailer_size, crc = HEADER.unpack(file.read(HEADER.size))
    if len(FORMAT) + HEADER.size + 8 * count + size + trailer_size != os.fstat(file.fileno()).st_size:
        raise ValueError("truncated or padded")  # checked before anything is read or allocated
    parts = [file.read(8 * count), file.read(size), file.read(trailer_size)]
    if [len(part) for part in parts] != [8 * count, size, trailer_size] or file.read(1):
        raise ValueError("truncated or padded")
    found = 0
    for part in parts:
        found = zlib.crc32(part, found)
    if found != crc:
        raise ValueError("the checksum does not match")
    ends = array("Q")
    ends.frombytes(parts[0])
    if sys.byteorder != "little":  # pragma: no cover
        ends.byteswap()
    trailer: dict[str, Any] = orjson.loads(parts[2])
    stored = {tuple(tuple(pair) for pair in keys): order for keys, order in trailer["orders"]}
    kept = {keys: stored[keys] for keys in orderings if keys in stored}
    return Dataset.packed(Blobs.packed(parts[1], ends), key, trailer["keys"], kept)
