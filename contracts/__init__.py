"""The contract suite: check a target (the emulator, a URL, or the live vendor) against our schemas.

The public API is what ``__all__`` names.
"""

from contracts.checks.findings import Finding, Severity
from contracts.checks.runner import Report, run

__all__ = ["Finding", "Report", "Severity", "run"]
