"""``Faults.drifting``: the one flag a request reads to skip the drift check while no drift rule exists.

It must be true whenever a drift rule is stored, however the rules changed (added, counted down, removed,
cleared, mirrored from another process), or a drift rule would be skipped.
"""

from __future__ import annotations

from mockserver.state.fault_store import Faults
from mockserver.state.faults import FaultRule


def drift(**given: object) -> FaultRule:
    return FaultRule(drift="rename_field", params={"from": "a", "to": "b"}, **given)  # type: ignore[arg-type]


def drifting(faults: Faults) -> bool:
    return faults.drifting  # read afresh (not narrowed by an earlier assert)


def test_the_flag_follows_every_change_of_the_rules() -> None:
    faults = Faults()
    assert not drifting(faults)
    plain = faults.add(FaultRule(status=503))
    assert not drifting(faults)  # a plain fault is no drift
    rule = faults.add(drift())
    assert drifting(faults)
    faults.remove(rule.id)
    assert not drifting(faults)
    faults.add(drift(tenant="acme"))
    faults.clear(drifts=False)
    assert drifting(faults)  # only the faults went
    faults.clear(tenant="acme")
    assert not drifting(faults)
    faults.applied([{**drift().as_dict(), "id": 9}])  # another process's rules
    assert drifting(faults)
    faults.applied([{**plain.as_dict()}])
    assert not drifting(faults)


def test_a_counted_drift_rule_used_up_clears_the_flag() -> None:
    faults = Faults()
    faults.add(drift(remaining=2))
    assert faults.take(None, "/x") is not None
    assert drifting(faults)
    assert faults.take(None, "/x") is not None
    assert not drifting(faults)
    assert faults.take(None, "/x") is None
