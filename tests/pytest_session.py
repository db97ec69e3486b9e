"""Running pytest on a throwaway test file, in a fresh interpreter: how the plugin's own tests see it as
a user's session does (its entry point, its options, its fixtures)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path


def run_pytest(
    folder: Path,
    files: Mapping[str, str],
    *options: str,
    env: Mapping[str, str] | None = None,
    timeout: float = 120,
) -> subprocess.CompletedProcess[str]:
    """pytest in ``folder`` on ``files`` (name: source), with a ``pytest.ini`` of its own (the project's
    settings stay out) and no cache; its output is captured, its exit status left to the caller."""
    (folder / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
    for name, source in files.items():
        (folder / name).write_text(source, encoding="utf-8")
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *options, *files],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=None if env is None else dict(env),
        check=False,
    )
