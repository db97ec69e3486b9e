"""Drifts: tomorrow's vendor change, served today (issue 24).

A drift is a change a vendor might make (a field renamed, a total that is really the page length, an end
flag that never turns false, a burst of 503s...), described once as data with the finding kind the
contract monitor must report for it, and applied generically to any vendor whose declarations can
express it. :mod:`mockserver.drifts.base` defines what a drift is, :mod:`mockserver.drifts.families`
holds them (one module per family, found by discovery), :mod:`mockserver.drifts.view` reads the
declarations, and :mod:`mockserver.drifts.catalogue` checks and runs them for one vendor.
:mod:`mockserver.drifts.replay` turns the findings of a ``contracts check`` JSON report into the drifts
that reproduce them (``serve --drift-from``), each drift reading its own findings.

Layer: above ``declarations`` (it reads the typed model and the schemas), below ``state`` and ``engine``
(the engine runs the drifts a request has; drift rules live in the fault-rule store).
"""

from mockserver.drifts.base import Drift, DriftError, Exchange, Param, Target, looping
from mockserver.drifts.catalogue import DriftUse, VendorDrifts, parse_spec, preferred_drifts, use
from mockserver.drifts.view import VendorView, vendor_view

__all__ = [
    "Drift",
    "DriftError",
    "DriftUse",
    "Exchange",
    "Param",
    "Target",
    "VendorDrifts",
    "VendorView",
    "looping",
    "parse_spec",
    "preferred_drifts",
    "use",
    "vendor_view",
]
