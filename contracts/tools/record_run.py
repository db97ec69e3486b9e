"""Run ``contracts record`` against a target: every dataset of every selected vendor, walked and written."""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from contracts.checks.endpoint import EndpointCheck
from contracts.checks.runner import TargetKind, sessions, with_options
from contracts.targets.client import Budget, Redactor
from contracts.tools.record import Recorded, record_dataset, widest_listing, write
from mockserver.documents.schemas import SchemaStore
from mockserver.engine.config import EmulatorConfig

RECORD_BUDGET_PER_LISTING = 600


def record_target(
    target: TargetKind,
    *,
    out: Path,
    url: str | None = None,
    vendors: Iterable[str] | None = None,
    environ: Mapping[str, str] | None = None,
    keep: bool = False,
    timeout: float = 10.0,
    budget_per_run: int = 2000,
    config: EmulatorConfig | None = None,
    options: Mapping[str, Mapping[str, Any]] | None = None,
) -> list[Recorded]:
    """Record each dataset of each reachable vendor into ``out/<vendor>/<dataset>.json``."""
    config = with_options(config, options)
    budget, redactor = Budget(budget_per_run, RECORD_BUDGET_PER_LISTING), Redactor()
    store = SchemaStore(config.schemas_dir)
    source = {"target": target, "at": datetime.now(UTC).isoformat(timespec="seconds")}
    results: list[Recorded] = []
    settings = (target, url, vendors, environ, budget, redactor, timeout, time.sleep, config)
    with sessions(*settings) as each:
        for session in each:
            if session.client is None:
                continue
            for dataset in session.spec.datasets:
                endpoint = widest_listing(session.spec, dataset)
                if endpoint is None:
                    continue
                check = EndpointCheck(
                    session.spec, endpoint, session.target, session.client, session.detector
                )
                recorded = record_dataset(check, store, out, keep=keep)
                recorded.rejected += [redactor.text(f"{f.kind}: {f.message}") for f in check.findings]
                write(recorded, source)
                results.append(recorded)
    return results
