"""What the sample consumer's clients (:mod:`tests.consumer.naive`, :mod:`tests.consumer.careful`) return."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

MINDHUNTERS = "https://demo.mindhunters.ai"


@dataclass(frozen=True)
class Number:
    """One phone number as the team's code uses it: E.164 text, its kind (type or provider), when made."""

    number: str
    kind: str
    created: datetime
