"""Replay what the monitor found (issue 24 part 3): the findings of a ``contracts check`` JSON report, as
the drifts that reproduce them, and those no drift can express, each with the reason.

The report is read as JSON (its format is owned by ``contracts.reporting``; mockserver never imports
contracts): a top-level object whose ``findings`` list holds objects with ``vendor``, ``endpoint``
(``GET /path``), ``kind``, ``path`` (a JSON pointer), ``message``, ``expected``, ``observed`` and, for an
``assumption-differs`` finding, ``option`` and ``fix``. Every drift of the finding's vendor that applies
at its endpoint is asked, in id order (:meth:`~mockserver.drifts.base.Drift.from_finding`: each family
reads its own findings); the first that answers serves it, with the parameters it read. No vendor is named.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from mockserver.declarations.loading import discover_vendors, load_vendor
from mockserver.documents.schemas import SchemaStore
from mockserver.drifts.base import EVERY_PATH, DriftError, Reported
from mockserver.drifts.catalogue import VendorDrifts
from mockserver.drifts.view import vendor_view

MAX_REPORT_BYTES = 64 * 1024 * 1024  # a report larger than this is refused, not read
MAX_FINDINGS = 20_000
ASSUMPTION = "assumption-differs"


@dataclass
class Replayed:
    """One drift that reproduces findings: vendor, drift id, parameters, endpoint (None: every request),
    and the findings it stands for (``kind at pointer``)."""

    vendor: str
    drift: str
    params: dict[str, Any]
    endpoint: str | None
    findings: list[str] = field(default_factory=list)

    @property
    def spec(self) -> str:
        """The drift as ``serve --drift`` takes it: ``VENDOR:ID[:name=value,...]``."""
        given = ",".join(f"{name}={value}" for name, value in sorted(self.params.items()))
        return f"{self.vendor}:{self.drift}" + (f":{given}" if given else "")


@dataclass
class Unexpressed:
    """Findings no drift can express (grouped by vendor, endpoint, kind and pointer), and why."""

    finding: Reported
    reason: str
    count: int = 1


@dataclass
class Replay:
    """A report's findings: the drifts that reproduce them, and the rest."""

    source: str
    read: int = 0
    served: list[Replayed] = field(default_factory=list)
    unexpressed: list[Unexpressed] = field(default_factory=list)

    def lines(self) -> list[str]:
        """What ``serve --drift-from`` prints before the banner: one line per drift and per finding left."""
        lines = [
            f"replaying {self.source}: {self.read} finding(s), {len(self.served)} drift(s) served, "
            f"{sum(item.count for item in self.unexpressed)} finding(s) not expressible"
        ]
        for item in self.served:
            where = f" at {item.endpoint}" if item.endpoint else ""
            lines.append(f"  serve   {item.spec}{where}  ({', '.join(item.findings[:3])})")
        for left in self.unexpressed:
            found = left.finding
            counted = f" (x{left.count})" if left.count > 1 else ""
            where = f" at {found.generic}" if found.generic else ""
            lines.append(
                f"  cannot  {found.vendor} {found.endpoint}: {found.kind}{where}{counted}: {left.reason}"
            )
        return lines

    def as_dict(self) -> dict[str, Any]:
        """The JSON form ``drifts --from REPORT --json`` prints (the served part is a ``--drift-file``)."""
        return {
            "served": [
                {
                    "vendor": item.vendor,
                    "drift": item.drift,
                    "params": item.params,
                    **({"endpoint": item.endpoint} if item.endpoint else {}),
                }
                for item in self.served
            ],
            "cannot": [
                {
                    "vendor": left.finding.vendor,
                    "endpoint": left.finding.endpoint,
                    "kind": left.finding.kind,
                    "path": left.finding.generic,
                    "count": left.count,
                    "reason": left.reason,
                }
                for left in self.unexpressed
            ],
        }


def read_report(path: Path) -> list[Reported]:
    """The findings of the JSON report at ``path``; DriftError (one line) when it is not one."""
    try:
        size = path.stat().st_size
        if size > MAX_REPORT_BYTES:
            raise DriftError(f"{path}: {size} bytes, more than a report's {MAX_REPORT_BYTES}")
        data = orjson.loads(path.read_bytes())
    except OSError as error:
        raise DriftError(f"{path}: {error.strerror or error}") from None
    except orjson.JSONDecodeError as error:
        raise DriftError(f"{path}: not JSON ({error})") from None
    return findings_of(data, str(path))


def findings_of(data: Any, source: str = "the report") -> list[Reported]:
    """The findings of a parsed report; DriftError when it is not the JSON of ``contracts check``."""
    if not isinstance(data, dict) or not isinstance(data.get("findings"), list):
        raise DriftError(
            f'{source}: not a report of `contracts check --format json` (an object with a "findings" list)'
        )
    items = data["findings"]
    if len(items) > MAX_FINDINGS:
        raise DriftError(f"{source}: {len(items)} findings, more than the {MAX_FINDINGS} replayed at once")
    found = []
    for number, item in enumerate(items, 1):
        text = {
            name: item.get(name) if isinstance(item, dict) else None
            for name in ("vendor", "endpoint", "kind")
        }
        if not all(isinstance(value, str) and value for value in text.values()):
            raise DriftError(
                f'{source}: finding {number} is not an object with "vendor", "endpoint" and "kind"'
            )
        pointer, message = item.get("path"), item.get("message")
        fix, option = item.get("fix"), item.get("option")
        found.append(
            Reported(
                vendor=str(text["vendor"]),
                endpoint=str(text["endpoint"]),
                kind=str(text["kind"]),
                pointer=pointer if isinstance(pointer, str) else "",
                message=message if isinstance(message, str) else "",
                expected=item.get("expected"),
                observed=item.get("observed"),
                fix=fix if isinstance(fix, str) else None,
                option=option if isinstance(option, str) else None,
            )
        )
    return found


def replay(findings: Iterable[Reported], vendors: Mapping[str, VendorDrifts], source: str = "") -> Replay:
    """The drifts that reproduce ``findings`` (``vendors``: each vendor's catalogue), and the rest."""
    result = Replay(source)
    served: dict[tuple[str, str, str, str | None], Replayed] = {}
    left: list[tuple[Reported, str | None]] = []
    for finding in findings:
        result.read += 1
        drifts = vendors.get(finding.vendor)
        if drifts is None:
            left.append((finding, f"no vendor {finding.vendor!r} is served here"))
            continue
        found = _first(finding, drifts)
        if isinstance(found, Replayed):
            key = (found.vendor, found.drift, repr(sorted(found.params.items())), found.endpoint)
            mine = served.setdefault(key, found)
            described = f"{finding.kind} at {finding.generic or '/'}"
            if described not in mine.findings:
                mine.findings.append(described)
        else:
            left.append((finding, found))
    result.served = list(served.values())
    groups: dict[tuple[str, str, str, str, str], Unexpressed] = {}
    for finding, reason in left:
        why = reason or _why(finding, vendors.get(finding.vendor), result.served)
        group = (finding.vendor, finding.endpoint, finding.kind, finding.generic, why)
        if group in groups:
            groups[group].count += 1
        else:
            groups[group] = Unexpressed(finding, why)
    result.unexpressed = list(groups.values())
    return result


def _first(finding: Reported, drifts: VendorDrifts) -> Replayed | str | None:
    """The first drift that reproduces ``finding``, or the reason the one that read it refused (or None)."""
    endpoint = drifts.view.endpoint(finding.path)
    refused: str | None = None
    for drift_id, listing in drifts.listings.items():
        for target in listing.targets:
            if target.path not in (finding.path, EVERY_PATH):
                continue
            params = listing.drift.from_finding(finding, target, endpoint)
            if params is None:
                continue
            where = None if target.path == EVERY_PATH else target.path
            try:
                checked = drifts.check(drift_id, dict(params), where)
            except DriftError as error:
                refused = f"{drift_id} read it, but: {error}"
                continue
            return Replayed(finding.vendor, drift_id, checked, where)
    return refused


def _why(finding: Reported, drifts: VendorDrifts | None, served: list[Replayed]) -> str:
    if finding.kind == ASSUMPTION:
        to_match = f": {finding.fix}" if finding.fix else f" ({finding.option})" if finding.option else ""
        return f"an assumption of ours the target does differently, not a vendor change{to_match}"
    covering = [
        item.drift
        for item in served
        if item.vendor == finding.vendor
        and item.endpoint in (finding.path, None)
        and drifts is not None
        and drifts.listings[item.drift].drift.kind == finding.kind
    ]
    if covering:
        return f"not replayed on its own: {', '.join(sorted(set(covering)))} shows the same kind here"
    producing = sorted(
        drift_id
        for drift_id, listing in (drifts.listings.items() if drifts else ())
        if listing.drift.kind == finding.kind
    )
    if producing:
        return (
            f"no drift reads this finding's detail ({', '.join(producing)} produce {finding.kind} otherwise)"
        )
    return f"no drift produces {finding.kind}"


def replay_reports(
    paths: Iterable[Path], schemas_dir: Path, options: Mapping[str, Mapping[str, Any]] | None = None
) -> Replay:
    """The drifts that replay the reports at ``paths`` for the vendors declared in ``schemas_dir``
    (``serve --drift-from``, ``drifts --from``); DriftError names an unreadable or invalid report."""
    paths = list(paths)
    findings = [finding for path in paths for finding in read_report(path)]
    wanted = {finding.vendor for finding in findings}
    return replay(findings, declared_drifts(schemas_dir, wanted, options), ", ".join(map(str, paths)))


def declared_drifts(
    schemas_dir: Path,
    vendors: Iterable[str] | None = None,
    options: Mapping[str, Mapping[str, Any]] | None = None,
) -> dict[str, VendorDrifts]:
    """The drifts of each vendor declared in ``schemas_dir`` (of those named in ``vendors`` only, if given;
    a name that is not declared is left out), with their ``--option`` values."""
    store = SchemaStore(schemas_dir)
    declared = discover_vendors(schemas_dir)
    chosen = declared if vendors is None else sorted(set(vendors) & set(declared))
    return {
        vendor: VendorDrifts(
            vendor_view(load_vendor(schemas_dir / vendor, store, (options or {}).get(vendor)), store)
        )
        for vendor in chosen
    }
