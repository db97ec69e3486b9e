"""``contracts calibrate``: observe every assumption on a target and write an options file.

The check's observations (see :mod:`contracts.checks.observe`) are turned into ``VENDOR.OPTION=VALUE`` lines,
each preceded by a comment that says where and when the value was observed and how. Values that no
choice of the option can emulate, and options that could not be observed, are listed as comments, so
the file says what it does not settle. ``serve --options-file``, ``mock_vendors(options_file=...)``,
the pytest plugin and ``contracts check --options-file`` read it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from contracts.checks.observe import Observation
from contracts.checks.runner import Report
from mockserver.engine.options_file import option_line


def chosen(observations: Iterable[Observation]) -> dict[tuple[str, str], tuple[Any, list[Observation]]]:
    """Per (vendor, option): the value observed most often among valid observations, and its evidence."""
    grouped: dict[tuple[str, str], list[Observation]] = {}
    for seen in observations:
        grouped.setdefault((seen.vendor, seen.option), []).append(seen)
    out: dict[tuple[str, str], tuple[Any, list[Observation]]] = {}
    for key, evidence in grouped.items():
        valid = [item for item in evidence if item.valid]
        if not valid:
            out[key] = (None, evidence)
            continue
        counts = Counter(repr(item.observed) for item in valid)
        best = max(valid, key=lambda item: counts[repr(item.observed)])
        out[key] = (best.observed, evidence)
    return out


def options_text(report: Report, options: Iterable[tuple[str, str]]) -> str:
    """The options file for ``report``; ``options`` are every (vendor, option) that could be observed."""
    now = datetime.now(UTC).isoformat(timespec="seconds")
    lines = [
        f"# vendor-emulator options calibrated against the {report.target} target on {now}",
        "# (contracts calibrate). One VENDOR.OPTION=VALUE per line, as --option takes it; serve with",
        "# `vendor-emulator serve --options-file FILE`. Above each value: where and when it was seen.",
        "",
    ]
    decided = chosen(report.observations)
    for vendor, option in options:
        value, evidence = decided.get((vendor, option), (None, []))
        name = f"{vendor}.{option}"
        if not evidence:
            lines += [f"# {name}: not observed on this target (kept at the emulator's assumption)", ""]
            continue
        for seen in evidence[:3]:
            lines.append(f"# {name}: observed {seen.observed!r} at {seen.at} on GET {seen.url}: {seen.how}")
        if value is None:
            lines += [f"# {name}: not written: no value of the option emulates what was observed", ""]
            continue
        others = sorted({repr(s.observed) for s in evidence if s.observed != value})
        if others:
            lines.append(
                f"# {name}: other endpoints showed {', '.join(others)}; the most frequent value wins"
            )
        lines += [option_line(vendor, option, value), ""]
    return "\n".join(lines).rstrip() + "\n"
