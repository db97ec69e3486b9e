"""The HTML drift report: one self-contained file (``contracts check --html FILE``).

Per endpoint its state, as the drift history records it (``contracts.reporting.history.state``): ``clean`` (no
finding), ``drift`` (a finding about something the vendor documents), ``assumption differs`` (every
finding is an ``assumption-differs``: a value the emulator only assumes, one of the vendor's declared
options, differs) or ``unreachable``; skipped endpoints say why. Then the findings with their kind,
severity, JSON path, expected vs observed, the vendor's doc link, and for an assumption the option, its
text and the fix. With a history file, an inline SVG chart of the findings of each run, readable without
JavaScript (the file has none) and offline (it loads nothing: styles are inline, links are only links).
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from contracts.checks.findings import Finding, Severity
from contracts.checks.runner import EndpointStatus, Report
from contracts.reporting.formats import SEVERITY_ORDER
from contracts.reporting.history import HistoryRun, state
from mockserver.documents.reading import read_json
from mockserver.engine.config import DEFAULT_SCHEMAS_DIR
from mockserver.errors import DeclarationError

STATE_LABELS = {
    "clean": "clean",
    "drift": "drift",
    "assumption-differs": "assumption differs",
    "unreachable": "unreachable",
    "skipped": "skipped",
}
MAX_SHOWN = 2000  # characters of an expected or observed value shown
CHART_WIDTH, CHART_HEIGHT, CHART_PAD = 760, 240, 40


@dataclass(frozen=True)
class VendorOptions:
    """One vendor's declared options and the assumption each makes (its text in the declarations)."""

    texts: Mapping[str, str]


def vendor_options(schemas_dir: Path, vendor: str) -> VendorOptions:
    """The options of one vendor's declaration (none when it cannot be read)."""
    try:
        raw = read_json(schemas_dir / vendor / "openapi.json")
    except DeclarationError:
        return VendorOptions({})
    declared = raw.get("x-emulator", {}).get("options", {}) if isinstance(raw, dict) else {}
    return VendorOptions({name: str(option.get("assumption", "")) for name, option in declared.items()})


def assumptions_of(finding: Finding) -> list[str]:
    """The option a finding is about (empty: it concerns documented behaviour); the monitor names it."""
    if finding.provenance != "assumption" or not finding.option:
        return []
    return [finding.option.removeprefix(f"{finding.vendor}.")]  # the monitor names it vendor.option


def endpoint_states(report: Report) -> dict[tuple[str, str], str]:
    """The state of every endpoint that was checked or unreachable (skipped ones are left out)."""
    return {
        (status.vendor, status.endpoint): state(
            status.status,
            [f for f in report.findings if (f.vendor, f.endpoint) == (status.vendor, status.endpoint)],
        )
        for status in report.endpoints
        if status.status != "skipped"
    }


# ---------------------------------------------------------------------------------------------- HTML


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _shown(value: Any) -> str:
    text = json.dumps(value, indent=1, default=str, ensure_ascii=False)
    return text if len(text) <= MAX_SHOWN else text[:MAX_SHOWN] + " …"


def _anchor(vendor: str, endpoint: str) -> str:
    return "ep-" + re.sub(r"[^A-Za-z0-9]+", "-", f"{vendor} {endpoint}").strip("-").lower()


def chart(runs: Sequence[HistoryRun]) -> str:
    """Stacked bars of the findings of each run (error, warning, info), as inline SVG with labels."""
    if not runs:
        return "<p class='muted'>No history given: <code>--history FILE</code> charts the runs over time.</p>"
    top = max(1, *(run.total for run in runs))
    inner_w, inner_h = CHART_WIDTH - 2 * CHART_PAD, CHART_HEIGHT - 2 * CHART_PAD
    step = inner_w / len(runs)
    bar = max(min(step * 0.7, 40), 1)
    parts = [
        "<svg xmlns='http://www.w3.org/2000/svg' id='history-chart'"
        f" viewBox='0 0 {CHART_WIDTH} {CHART_HEIGHT}' role='img'"
        f" aria-labelledby='chart-title chart-desc' data-runs='{len(runs)}'>",
        "<title id='chart-title'>Findings per run</title>",
        f"<desc id='chart-desc'>{len(runs)} runs from {_e(runs[0].run_at)} to {_e(runs[-1].run_at)}; "
        f"latest: {runs[-1].total} findings.</desc>",
        f"<line x1='{CHART_PAD}' y1='{CHART_PAD + inner_h}' x2='{CHART_PAD + inner_w}' "
        f"y2='{CHART_PAD + inner_h}' class='axis'/>",
        f"<text x='{CHART_PAD - 6}' y='{CHART_PAD + 4}' class='tick' text-anchor='end'>{top}</text>",
        f"<text x='{CHART_PAD - 6}' y='{CHART_PAD + inner_h + 4}' class='tick' text-anchor='end'>0</text>",
    ]
    label_every = max(1, len(runs) // 6)
    for index, run in enumerate(runs):
        x = CHART_PAD + index * step + (step - bar) / 2
        y = float(CHART_PAD + inner_h)
        parts.append(
            f"<g class='run' data-total='{run.total}' data-run-at='{_e(run.run_at)}'>"
            f"<title>{_e(run.run_at)} ({_e(run.target)}): {run.counts['error']} error, "
            f"{run.counts['warning']} warning, {run.counts['info']} info</title>"
        )
        for severity in (Severity.ERROR, Severity.WARNING, Severity.INFO):
            height = run.counts[severity.value] / top * inner_h
            if height:
                y -= height
                parts.append(
                    f"<rect x='{x:.1f}' y='{y:.1f}' width='{bar:.1f}' height='{height:.1f}' "
                    f"class='{severity.value}'/>"
                )
        if len(runs) <= 40:
            parts.append(
                f"<text x='{x + bar / 2:.1f}' y='{y - 4:.1f}' class='count' text-anchor='middle'>"
                f"{run.total}</text>"
            )
        parts.append("</g>")
        if index % label_every == 0 or index == len(runs) - 1:
            parts.append(
                f"<text x='{x + bar / 2:.1f}' y='{CHART_PAD + inner_h + 16}' class='tick' "
                f"text-anchor='middle'>{_e(run.run_at[:16].replace('T', ' '))}</text>"
            )
    legend_x = CHART_PAD
    for severity in (Severity.ERROR, Severity.WARNING, Severity.INFO):
        parts.append(
            f"<rect x='{legend_x}' y='10' width='12' height='12' class='{severity.value}'/>"
            f"<text x='{legend_x + 16}' y='21' class='tick'>{severity.value}</text>"
        )
        legend_x += 90
    parts.append("</svg>")
    return "".join(parts)


def _history_table(runs: Sequence[HistoryRun]) -> str:
    if not runs:
        return ""
    rows = "".join(
        f"<tr><td>{_e(run.run_at)}</td><td>{_e(run.target)}</td><td>{run.counts['error']}</td>"
        f"<td>{run.counts['warning']}</td><td>{run.counts['info']}</td></tr>"
        for run in reversed(runs)
    )
    return (
        "<details><summary>The runs as a table</summary><table><thead><tr><th>Run</th><th>Target</th>"
        f"<th>error</th><th>warning</th><th>info</th></tr></thead><tbody>{rows}</tbody></table></details>"
    )


def _endpoint_row(status: EndpointStatus, state: str, findings: list[Finding]) -> str:
    detail = status.reason or "; ".join(status.notes)
    link = f"<a href='#{_anchor(status.vendor, status.endpoint)}'>{len(findings)}</a>" if findings else "0"
    return (
        f"<tr class='endpoint' data-state='{_e(state)}'><td>{_e(status.vendor)}</td>"
        f"<td><code>{_e(status.endpoint)}</code></td>"
        f"<td><span class='state {_e(state)}'>{_e(STATE_LABELS[state])}</span></td>"
        f"<td class='num'>{link}</td><td class='num'>{status.requests}</td><td>{_e(detail)}</td></tr>"
    )


def _finding_row(finding: Finding, options: VendorOptions) -> str:
    shown = finding.fix and finding.fix not in finding.message
    fix = f" <span class='muted'>To match: <code>{_e(finding.fix)}</code></span>" if shown else ""
    assumption = "".join(
        f"<div class='assumption'>assumption <code>{_e(name)}</code>: {_e(options.texts.get(name, ''))}"
        f"{fix}</div>"
        for name in assumptions_of(finding)
    )
    counted = f" <span class='muted'>({finding.count} occurrences)</span>" if finding.count > 1 else ""
    examples = "".join(f"<li><code>{_e(example)}</code></li>" for example in finding.examples)
    doc = f"<a href='{_e(finding.doc)}' rel='noreferrer'>vendor docs</a>" if finding.doc else "—"
    return (
        f"<tr class='finding' data-kind='{_e(finding.kind)}' data-severity='{finding.severity.value}'>"
        f"<td><span class='sev {finding.severity.value}'>{finding.severity.value}</span></td>"
        f"<td><code>{_e(finding.kind)}</code></td><td><code>{_e(finding.path or '/')}</code></td>"
        f"<td>{_e(finding.message)}{counted}{assumption}"
        + (f"<ul class='examples'>{examples}</ul>" if examples else "")
        + f"</td><td><pre>{_e(_shown(finding.expected))}</pre></td>"
        f"<td><pre>{_e(_shown(finding.observed))}</pre></td><td>{doc}</td></tr>"
    )


STYLE = """
body{margin:0;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1b1f24}
main{max-width:1400px;margin:0 auto;padding:12px 20px 40px}
h1{font-size:20px}h2{font-size:17px;border-bottom:1px solid #d0d7de;padding-bottom:4px;margin-top:28px}
h3{font-size:15px}code,pre{font:13px/1.4 ui-monospace,Menlo,Consolas,monospace}
pre{margin:0;white-space:pre-wrap;overflow-wrap:anywhere;max-height:16em;overflow:auto}
table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:4px 8px;border-bottom:1px solid #d0d7de;vertical-align:top}
thead th{background:#f6f8fa}.num{text-align:right}.muted{color:#57606a}
.scroll{overflow-x:auto}.state,.sev{display:inline-block;padding:0 8px;border-radius:10px;font-size:13px;
border:1px solid #d0d7de;white-space:nowrap}.state.clean{background:#dafbe1}.state.drift{background:#ffebe9}
.state.assumption-differs{background:#fff8c5}.state.unreachable{background:#eaeef2}.state.skipped{color:#57606a}
.sev.error{background:#ffebe9}.sev.warning{background:#fff8c5}.sev.info{background:#ddf4ff}
.assumption{margin-top:4px;font-size:13px;background:#fff8c5;padding:2px 6px;border-radius:6px}
.summary{display:flex;flex-wrap:wrap;gap:8px 24px}.summary div{font-size:14px}
td pre{min-width:9em}
svg{max-width:100%;height:auto;border:1px solid #d0d7de;border-radius:8px;background:#fff}
svg .error{fill:#cf222e}svg .warning{fill:#d4a72c}svg .info{fill:#54aeff}svg .axis{stroke:#57606a}
svg .tick,svg .count{font:11px system-ui,sans-serif;fill:#1b1f24}a{color:#0a58ca}
"""


def render_html(
    report: Report, runs: Sequence[HistoryRun] = (), schemas_dir: Path = DEFAULT_SCHEMAS_DIR
) -> str:
    """The whole report as one HTML document (no script, no external resource)."""
    states = endpoint_states(report)
    options = {vendor: vendor_options(schemas_dir, vendor) for vendor in {s.vendor for s in report.endpoints}}
    counts = {s.value: sum(1 for f in report.findings if f.severity == s) for s in Severity}
    by_state = {name: sum(1 for state in states.values() if state == name) for name in STATE_LABELS}
    by_state["skipped"] = sum(1 for s in report.endpoints if s.status == "skipped")
    rows, sections = [], []
    for status in report.endpoints:
        key = (status.vendor, status.endpoint)
        mine = sorted(
            (f for f in report.findings if (f.vendor, f.endpoint) == key),
            key=lambda f: (SEVERITY_ORDER[f.severity], f.kind, f.path),
        )
        rows.append(_endpoint_row(status, states.get(key, "skipped"), mine))
        if mine:
            body = "".join(_finding_row(f, options[status.vendor]) for f in mine)
            sections.append(
                f"<section id='{_anchor(*key)}' class='endpoint-findings'><h3>{_e(status.vendor)} "
                f"<code>{_e(status.endpoint)}</code></h3><div class='scroll'><table><thead><tr>"
                "<th>Severity</th><th>Kind</th><th>JSON path</th><th>What</th><th>Expected</th>"
                f"<th>Observed</th><th>Doc</th></tr></thead><tbody>{body}</tbody></table></div></section>"
            )
    summary = "".join(
        f"<div><span class='state {name}'>{STATE_LABELS[name]}</span> {count}</div>"
        for name, count in by_state.items()
    )
    findings = "".join(sections) or "<p>None: every checked endpoint keeps the documented contract.</p>"
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy"
 content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>Drift report: {_e(report.target)} {_e(report.started)}</title><style>{STYLE}</style></head>
<body><main>
<h1>Drift report <span class="muted">{_e(report.target)}, {_e(report.started)}</span></h1>
<div class="summary" id="summary">{summary}
<div><span class="sev error">error</span> {counts["error"]}</div>
<div><span class="sev warning">warning</span> {counts["warning"]}</div>
<div><span class="sev info">info</span> {counts["info"]}</div></div>
<h2>Findings per run</h2>
{chart(runs)}
{_history_table(runs)}
<h2>Endpoints</h2>
<div class="scroll"><table id="endpoints"><thead><tr><th>Vendor</th><th>Endpoint</th><th>State</th>
<th>Findings</th><th>Requests</th><th>Notes</th></tr></thead><tbody>{"".join(rows)}</tbody></table></div>
<h2>Findings ({len(report.findings)})</h2>
{findings}
<p class="muted">Written by vendor-emulator's <code>contracts check --html</code>. "assumption differs": every
finding of the endpoint is about a value the emulator assumes where the vendor's docs are silent (an
option, with its text); "drift": at least one finding is about documented behaviour.</p>
</main></body></html>
"""
