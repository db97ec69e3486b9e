"""Generate the phone-number fixtures the emulator serves, then check them.

Writes five files under ``fixtures/``, each ``{"$comment": ..., "records": [...]}``:

* ``famulor/phone-numbers.json``: GET /api/user/phone-numbers/all (and the legacy GET /api/user/phone-numbers)
* ``famulor/whatsapp-senders.json``: GET /api/user/whatsapp/senders
* ``butter/phone-numbers.json``: GET /api/phone-numbers
* ``contactship/phone-numbers.json``: GET /v1/phone-numbers
* ``mindhunters/phone-numbers.json``: GET /api/v1/phone-numbers

The first records of every file are the vendor's documented examples, copied verbatim from the API
reference pages (Mindhunters documents only a template, whose placeholders are filled in plausibly). The
rest are generated: enough that every paginated endpoint spans at least three pages at its default page
size, and that every documented filter value matches at least one record.

The output is deterministic, so regenerating produces no diff unless this script changes. Each dataset
draws from its own ``random.Random`` with a fixed seed (changing one dataset leaves the others alone);
UUIDs and hex ids come from that generator, never from ``uuid4`` or the clock; timestamps are drawn from a
fixed window (2023-01-01 to 2026-10-31). Phone numbers use the ranges regulators reserve for fiction where
one exists (NANP 555-01XX, Ofcom's drama numbers, ARCEP's fiction blocks) and realistic prefixes elsewhere.

After writing, the script reads the files back and validates every record against its item schema under
``schemas/`` (Draft 2020-12, asserting the ``e164``, ``date-time`` and ``uuid`` formats), again with every
object closed to the keys its schema lists, and checks the invariants the emulator relies on: unique ids,
numbers and timestamps, each vendor's timestamp layout, record counts and filter coverage. It prints one
summary line per file and exits with status 1, listing every failure, if any check fails.
"""

from __future__ import annotations

import json
import re
import sys
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from random import Random
from typing import Any, Final, TypeVar

from mockserver.schemas import SchemaStore, describe, is_uuid

Record = dict[str, Any]
T = TypeVar("T")

ROOT: Final = Path(__file__).resolve().parent.parent
SCHEMA_DIR: Final = ROOT / "schemas"
FIXTURE_DIR: Final = ROOT / "fixtures"

WINDOW_START: Final = datetime(2023, 1, 1, tzinfo=UTC)
WINDOW_END: Final = datetime(2026, 10, 31, 23, 59, 59, tzinfo=UTC)
# Generated records sit on the far side of the documented examples in each list's default order, so the
# first page of a default request starts with the records a developer knows from the docs.
BUTTER_EXAMPLES_OLDEST: Final = datetime(
    2024, 1, 10, 8, 59, 59, tzinfo=UTC
)  # newest first: generated are older
CONTACTSHIP_EXAMPLES_OLDEST: Final = datetime(2026, 1, 15, 9, 59, 59, tzinfo=UTC)  # newest first
MINDHUNTERS_EXAMPLE_PURCHASED: Final = datetime(
    2023, 11, 7, 5, 31, 57, tzinfo=UTC
)  # ascending: generated are newer

# ---------------------------------------------------------------------------------------------- numbers

# Number patterns per country and kind. Spaces are for reading only; X is any digit, N a digit from 2 to 9.
_NANP_TOLL_FREE: Final = ("+1 800 555 01XX", "+1 833 555 01XX", "+1 844 555 01XX", "+1 855 555 01XX",
                          "+1 866 555 01XX", "+1 877 555 01XX", "+1 888 555 01XX")  # fmt: skip
NUMBERING: Final[Mapping[str, Mapping[str, tuple[str, ...]]]] = {
    "US": {
        "local": ("+1 212 555 01XX", "+1 415 555 01XX", "+1 312 555 01XX", "+1 617 555 01XX",
                  "+1 206 555 01XX", "+1 303 555 01XX", "+1 512 555 01XX", "+1 404 555 01XX",
                  "+1 305 555 01XX", "+1 702 555 01XX"),
        "mobile": ("+1 646 555 01XX", "+1 213 555 01XX", "+1 786 555 01XX", "+1 737 555 01XX"),
        "toll_free": _NANP_TOLL_FREE,
    },
    "CA": {
        "local": ("+1 416 555 01XX", "+1 604 555 01XX", "+1 514 555 01XX", "+1 403 555 01XX",
                  "+1 613 555 01XX"),
        "mobile": ("+1 647 555 01XX", "+1 778 555 01XX", "+1 438 555 01XX"),
        "toll_free": _NANP_TOLL_FREE,
    },
    "GB": {
        "local": ("+44 20 7946 0XXX", "+44 161 496 0XXX", "+44 113 496 0XXX", "+44 117 496 0XXX",
                  "+44 121 496 0XXX", "+44 131 496 0XXX", "+44 141 496 0XXX"),
        "mobile": ("+44 7700 900XXX",),
        "toll_free": ("+44 808 157 0XXX",),
        "national": ("+44 306 999 0XXX",),
    },
    "DE": {
        "local": ("+49 30 NXXX XXXX", "+49 40 NXXX XXXX", "+49 89 NXXX XXXX", "+49 69 NXXX XXXX",
                  "+49 221 NXX XXXX", "+49 211 NXX XXXX"),
        "mobile": ("+49 151 NXXX XXXX", "+49 157 NXXX XXXX", "+49 160 NXX XXXX", "+49 170 NXX XXXX",
                   "+49 176 NXXX XXXX"),
        "toll_free": ("+49 800 NXX XXXX",),
        "national": ("+49 32 21 NXX XXXX",),
    },
    "AT": {
        "local": ("+43 1 NXX XXXX", "+43 316 NXX XXX", "+43 662 NXX XXX"),
        "mobile": ("+43 664 NXX XXXX", "+43 676 NXX XXXX"),
    },
    "CH": {
        "local": ("+41 44 NXX XX XX", "+41 43 NXX XX XX", "+41 31 NXX XX XX", "+41 22 NXX XX XX"),
        "mobile": ("+41 79 NXX XX XX", "+41 78 NXX XX XX"),
    },
    "FR": {
        "local": ("+33 1 99 00 XX XX", "+33 2 61 91 XX XX", "+33 3 53 01 XX XX", "+33 4 65 71 XX XX",
                  "+33 5 36 49 XX XX"),
        "mobile": ("+33 6 39 98 XX XX",),
        "toll_free": ("+33 8 05 NX XX XX",),
        "national": ("+33 9 77 40 XX XX",),
    },
    "ES": {
        "local": ("+34 91 NXX XX XX", "+34 93 NXX XX XX", "+34 96 NXX XX XX", "+34 95 NXX XX XX"),
        "mobile": ("+34 6NX XXX XXX",),
        "toll_free": ("+34 900 NXX XXX",),
        "national": ("+34 902 NXX XXX",),
    },
    "IT": {
        "local": ("+39 02 NXXX XXXX", "+39 06 NXXX XXXX", "+39 011 NXX XXXX", "+39 055 NXX XXXX"),
        "mobile": ("+39 3NX NXX XXXX",),
        "toll_free": ("+39 800 NXX XXX",),
        "national": ("+39 848 NXX XXX",),
    },
    "NL": {
        "local": ("+31 20 NXX XXXX", "+31 10 NXX XXXX", "+31 70 NXX XXXX", "+31 30 NXX XXXX"),
        "mobile": ("+31 6 NXXX XXXX",),
        "toll_free": ("+31 800 NXX XXXX",),
        "national": ("+31 85 NXX XXXX", "+31 88 NXX XXXX"),
    },
    "MX": {"local": ("+52 55 NXXX XXXX", "+52 33 NXXX XXXX", "+52 81 NXXX XXXX")},
    "CO": {"local": ("+57 601 NXX XXXX", "+57 604 NXX XXXX"), "mobile": ("+57 3NX NXX XXXX",)},
    "AR": {"local": ("+54 11 NXXX XXXX",)},
    "CL": {"local": ("+56 2 2NXX XXXX",)},
}  # fmt: skip

CALLING_CODES: Final[Mapping[str, str]] = {
    "US": "+1", "CA": "+1", "GB": "+44", "DE": "+49", "AT": "+43", "CH": "+41", "FR": "+33",
    "ES": "+34", "IT": "+39", "NL": "+31", "MX": "+52", "CO": "+57", "AR": "+54", "CL": "+56",
}  # fmt: skip
NANP: Final = frozenset({"US", "CA"})


def _digit(rng: Random, symbol: str) -> str:
    if symbol == "X":
        return str(rng.randrange(10))
    if symbol == "N":
        return str(rng.randrange(2, 10))
    return symbol


def draw_number(rng: Random, country: str, kind: str, taken: set[str]) -> str:
    """A number of ``kind`` in ``country`` that is not in ``taken`` (and is added to it)."""
    patterns = NUMBERING[country][kind]
    for _ in range(10_000):
        pattern = rng.choice(patterns).replace(" ", "")
        number = "".join(_digit(rng, symbol) for symbol in pattern)
        if number not in taken:
            taken.add(number)
            return number
    raise RuntimeError(f"no unused {kind} number left in {country}")


# ------------------------------------------------------------------------------------- random helpers


def draw_instant(
    rng: Random, taken: set[datetime], start: datetime = WINDOW_START, end: datetime = WINDOW_END
) -> datetime:
    """A whole-second instant in [start, end] that is not in ``taken`` (and is added to it)."""
    span = int((end - start).total_seconds())
    while True:
        instant = start + timedelta(seconds=rng.randint(0, span))
        if instant not in taken:
            taken.add(instant)
            return instant


def famulor_time(instant: datetime) -> str:
    """Famulor's layout: microseconds and Z, e.g. 2025-01-07T10:30:00.000000Z."""
    return instant.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def plain_time(instant: datetime) -> str:
    """The layout of the other vendors: whole seconds and Z, e.g. 2024-01-15T10:30:00Z."""
    return instant.strftime("%Y-%m-%dT%H:%M:%SZ")


def new_uuid(rng: Random) -> str:
    """A version-4 UUID drawn from ``rng``."""
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def new_hex(rng: Random, length: int) -> str:
    """``length`` lowercase hex digits drawn from ``rng``."""
    return f"{rng.getrandbits(4 * length):0{length}x}"


def deal(rng: Random, counts: Mapping[T, int]) -> list[T]:
    """Each key of ``counts`` repeated its count times, shuffled."""
    cards = [value for value, count in counts.items() for _ in range(count)]
    rng.shuffle(cards)
    return cards


def pick(rng: Random, weights: Mapping[T, int]) -> T:
    """One key of ``weights``, drawn with the given weights."""
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def used_values(records: Iterable[Record], key: str) -> set[str]:
    """The string values of ``key`` in ``records``."""
    return {str(record[key]) for record in records}


def used_instants(records: Iterable[Record], key: str) -> set[datetime]:
    """The instants of the timestamp ``key`` in ``records``."""
    return {datetime.fromisoformat(record[key]) for record in records}


# ------------------------------------------------------------------------------ famulor phone numbers

FAMULOR_TYPE_LABELS: Final[Mapping[str, str]] = {
    "normal": "Dedicated Number",
    "sip": "SIP",
    "caller_id": "Caller ID",
}
# (type, sms_capable, has_active_subscription) -> how many generated records have it.
FAMULOR_PLAN: Final[Mapping[tuple[str, bool, bool], int]] = {
    ("normal", True, True): 8,
    ("normal", True, False): 3,
    ("normal", False, True): 4,
    ("normal", False, False): 2,
    ("sip", False, True): 4,
    ("sip", False, False): 1,
    ("caller_id", False, False): 6,
}
FAMULOR_COUNTRIES: Final[Mapping[str, int]] = {"DE": 6, "AT": 2, "CH": 2, "GB": 2, "US": 3, "NL": 1}
FAMULOR_NICKNAMES: Final = (
    "Hauptnummer Berlin", "Kundenservice", "Vertrieb Outbound", "Support Hotline", "Zentrale München",
    "Praxis Empfang", "Terminbuchung", "Büro Zürich", "Sales UK", "US Outbound Campaign", "Rückrufnummer",
    "Filiale Wien", "Recruiting Hotline", "Inbound Leads Q3", "After-hours Voicemail",
)  # fmt: skip
FAMULOR_NICKNAMED: Final = 14  # generated records with a nickname key
FAMULOR_NULL_NICKNAMES: Final = 3  # of those, how many are null


def famulor_number_examples() -> list[Record]:
    """The two records of the documented response (seed 000), which predates ``nickname``."""
    return [
        {
            "id": 1,
            "phone_number": "+49155551234",
            "country_code": "DE",
            "type": "normal",
            "type_label": "Dedicated Number",
            "sms_capable": True,
            "region": "us1",
            "has_active_subscription": True,
            "created_at": "2025-01-07T10:30:00.000000Z",
        },
        {
            "id": 2,
            "phone_number": "+442071234567",
            "country_code": "GB",
            "type": "normal",
            "type_label": "Dedicated Number",
            "sms_capable": False,
            "region": "us1",
            "has_active_subscription": True,
            "created_at": "2025-01-05T14:20:00.000000Z",
        },
    ]


def famulor_kind(rng: Random, number_type: str, country: str, sms_capable: bool) -> str:
    """Local or mobile: SMS outside North America needs a mobile number; caller ids are mostly mobiles."""
    if number_type == "caller_id":
        return "mobile" if rng.random() < 0.7 else "local"
    if number_type == "normal" and sms_capable and country not in NANP:
        return "mobile"
    return "local"


def famulor_nicknames(rng: Random, count: int) -> list[str | bool | None]:
    """Per generated record: a nickname, None (null), or False (no nickname key at all)."""
    values: list[str | None] = [None] * FAMULOR_NULL_NICKNAMES
    values += rng.sample(FAMULOR_NICKNAMES, FAMULOR_NICKNAMED - FAMULOR_NULL_NICKNAMES)
    slots: list[str | bool | None] = [False] * count
    for position, value in zip(rng.sample(range(count), FAMULOR_NICKNAMED), values, strict=True):
        slots[position] = value
    return slots


def generate_famulor_numbers(rng: Random, examples: list[Record]) -> list[Record]:
    """28 numbers with ids from 3: every type, every (sms_capable, subscription) pair, half nicknamed."""
    numbers = used_values(examples, "phone_number")
    instants = used_instants(examples, "created_at")
    plan = deal(rng, FAMULOR_PLAN)
    nicknames = famulor_nicknames(rng, len(plan))
    records = []
    for offset, ((number_type, sms_capable, subscribed), nickname) in enumerate(
        zip(plan, nicknames, strict=True)
    ):
        country = pick(rng, FAMULOR_COUNTRIES)
        kind = famulor_kind(rng, number_type, country, sms_capable)
        record: Record = {"id": 3 + offset, "phone_number": draw_number(rng, country, kind, numbers)}
        if nickname is not False:
            record["nickname"] = nickname
        record |= {
            "country_code": country,
            "type": number_type,
            "type_label": FAMULOR_TYPE_LABELS[number_type],
            "sms_capable": sms_capable,
            "region": rng.choice(("us1", "us1", "eu1")),
            "has_active_subscription": subscribed,
            "created_at": famulor_time(draw_instant(rng, instants)),
        }
        records.append(record)
    return records


# ----------------------------------------------------------------------------- famulor whatsapp senders

SENDER_COMPANIES: Final = (
    "Nordwind Logistik", "Praxis Dr. Hoffmann", "Autohaus Berger", "Bäckerei Krüger", "Hotel Alpenblick",
    "Brightline Dental", "Keller & Söhne Immobilien", "Fitnesswerk", "Gasthof Zur Linde",
    "Meyer Versicherungen", "Lakeside Realty", "Studio Haarwerk",
)  # fmt: skip
SENDER_DESKS: Final = ("Support", "Sales", "Service", "Termine", "Kundenservice", "Bookings")
SENDER_COUNTRIES: Final[Mapping[str, int]] = {"DE": 5, "AT": 1, "CH": 1, "GB": 1, "US": 1, "NL": 1}
SENDER_STATUSES: Final[Mapping[str, int]] = {"online": 5, "offline": 5}
SENDER_QUALITY: Final[Mapping[str, int]] = {"GREEN": 6, "YELLOW": 2, "RED": 2}
SENDER_LIMITS: Final[Mapping[int | None, int]] = {250: 2, 1000: 3, 10_000: 2, 100_000: 2, None: 1}


def sender_examples() -> list[Record]:
    """The two senders of the documented response (seed 002)."""
    return [
        {
            "id": 12,
            "phone_number": "+14155551234",
            "display_name": "Acme Corp Support",
            "status": "online",
            "quality_rating": "GREEN",
            "messaging_limit": 10000,
            "messaging_limit_formatted": "10,000 / 24hr",
        },
        {
            "id": 15,
            "phone_number": "+442071234567",
            "display_name": "Acme Corp Sales",
            "status": "online",
            "quality_rating": "GREEN",
            "messaging_limit": None,
            "messaging_limit_formatted": "Unlimited",
        },
    ]


def format_limit(limit: int | None) -> str:
    """Famulor's display form of a messaging limit: '1,000 / 24hr', or 'Unlimited' for null."""
    return "Unlimited" if limit is None else f"{limit:,} / 24hr"


def generate_senders(rng: Random, examples: list[Record]) -> list[Record]:
    """10 senders with ids above 15: half online, half offline, every rating and messaging tier."""
    numbers = used_values(examples, "phone_number")
    statuses = deal(rng, SENDER_STATUSES)
    ratings = deal(rng, SENDER_QUALITY)
    limits = deal(rng, SENDER_LIMITS)
    companies = rng.sample(SENDER_COMPANIES, len(statuses))
    records = []
    sender_id = max(record["id"] for record in examples)
    for status, rating, limit, company in zip(statuses, ratings, limits, companies, strict=True):
        sender_id += rng.randint(1, 6)
        country = pick(rng, SENDER_COUNTRIES)
        kind = "local" if country in NANP else "mobile"
        records.append(
            {
                "id": sender_id,
                "phone_number": draw_number(rng, country, kind, numbers),
                "display_name": f"{company} {rng.choice(SENDER_DESKS)}",
                "status": status,
                "quality_rating": rating,
                "messaging_limit": limit,
                "messaging_limit_formatted": format_limit(limit),
            }
        )
    return records


# ------------------------------------------------------------------------------------------ butter ai

BUTTER_STATUSES: Final[Mapping[str, int]] = {"assigned": 31, "free": 29}
BUTTER_PROVIDERS: Final[Mapping[str, int]] = {"twilio": 7, "sip": 3}
BUTTER_COUNTRIES: Final[Mapping[str, int]] = {"US": 8, "CA": 1, "GB": 1}
BUTTER_KINDS: Final[Mapping[str, int]] = {"local": 5, "toll_free": 1}
# Pairs of supports_inbound and supports_outbound, weighted.
BUTTER_DIRECTIONS: Final[Mapping[tuple[bool, bool], int]] = {
    (True, True): 8,
    (True, False): 1,
    (False, True): 1,
}
BUTTER_EXTRA_AGENTS: Final = 6


def butter_examples() -> list[Record]:
    """The two numbers of the documented response (seed 001)."""
    return [
        {
            "phone_number_id": "phon_a1b2c3d4e5f6",
            "phone_number": "+15551234567",
            "provider": "twilio",
            "status": "assigned",
            "supports_inbound": True,
            "supports_outbound": True,
            "assigned_agent_id": "agent_b2c3d4e5f6a7",
            "created_at": "2024-01-15T10:30:00Z",
        },
        {
            "phone_number_id": "phon_b2c3d4e5f6a7",
            "phone_number": "+15559876543",
            "provider": "sip",
            "status": "free",
            "supports_inbound": True,
            "supports_outbound": True,
            "assigned_agent_id": None,
            "created_at": "2024-01-10T09:00:00Z",
        },
    ]


def unused_hex_id(rng: Random, prefix: str, taken: set[str]) -> str:
    """``prefix`` and 12 hex digits, not in ``taken`` (and added to it)."""
    while True:
        candidate = f"{prefix}{new_hex(rng, 12)}"
        if candidate not in taken:
            taken.add(candidate)
            return candidate


def generate_butter(rng: Random, examples: list[Record]) -> list[Record]:
    """60 numbers, about half assigned (to a pool of agents) and half free, mostly North American."""
    ids = used_values(examples, "phone_number_id")
    numbers = used_values(examples, "phone_number")
    instants = used_instants(examples, "created_at")
    known_agents = sorted({record["assigned_agent_id"] for record in examples if record["assigned_agent_id"]})
    agents = known_agents + [f"agent_{new_hex(rng, 12)}" for _ in range(BUTTER_EXTRA_AGENTS)]
    records = []
    for status in deal(rng, BUTTER_STATUSES):
        inbound, outbound = pick(rng, BUTTER_DIRECTIONS)
        records.append(
            {
                "phone_number_id": unused_hex_id(rng, "phon_", ids),
                "phone_number": draw_number(
                    rng, pick(rng, BUTTER_COUNTRIES), pick(rng, BUTTER_KINDS), numbers
                ),
                "provider": pick(rng, BUTTER_PROVIDERS),
                "status": status,
                "supports_inbound": inbound,
                "supports_outbound": outbound,
                "assigned_agent_id": rng.choice(agents) if status == "assigned" else None,
                "created_at": plain_time(draw_instant(rng, instants, end=BUTTER_EXAMPLES_OLDEST)),
            }
        )
    return records


# ---------------------------------------------------------------------------------------- contactship

CONTACTSHIP_ORG: Final = "org-f1e2d3c4-b5a6-7890-1234-567890abcdef"
CONTACTSHIP_TYPES: Final[Mapping[str, int]] = {"inbound": 11, "outbound": 11}
CONTACTSHIP_COUNTRIES: Final[Mapping[str, int]] = {"US": 4, "ES": 3, "MX": 3, "CO": 2, "AR": 1, "CL": 1}


def contactship_examples() -> list[Record]:
    """The two numbers of the documented response (seed 003)."""
    return [
        {
            "id": "pn-a1b2c3d4-e5f6-7890-abcd-ef1234567890",
            "phone_number": "+12025551234",
            "type": "outbound",
            "organization_id": CONTACTSHIP_ORG,
            "created_at": "2026-01-15T10:00:00Z",
        },
        {
            "id": "pn-b2c3d4e5-f6a7-8901-bcde-f12345678901",
            "phone_number": "+14155559876",
            "type": "inbound",
            "organization_id": CONTACTSHIP_ORG,
            "created_at": "2026-02-01T08:30:00Z",
        },
    ]


def generate_contactship(rng: Random, examples: list[Record]) -> list[Record]:
    """22 numbers of the examples' organization, half inbound and half outbound, in the Americas and Spain."""
    numbers = used_values(examples, "phone_number")
    instants = used_instants(examples, "created_at")
    records = []
    for number_type in deal(rng, CONTACTSHIP_TYPES):
        country = pick(rng, CONTACTSHIP_COUNTRIES)
        kind = "mobile" if country == "CO" and rng.random() < 0.5 else "local"
        records.append(
            {
                "id": f"pn-{new_uuid(rng)}",
                "phone_number": draw_number(rng, country, kind, numbers),
                "type": number_type,
                "organization_id": CONTACTSHIP_ORG,
                "created_at": plain_time(draw_instant(rng, instants, end=CONTACTSHIP_EXAMPLES_OLDEST)),
            }
        )
    return records


# ---------------------------------------------------------------------------------------- mindhunters


@dataclass(frozen=True)
class Agent:
    """A Mindhunters agent that numbers can be bound to."""

    uuid: str
    name: str


@dataclass(frozen=True)
class Spec:
    """What a generated Mindhunters number is, before its details are drawn."""

    country: str
    kind: str
    status: str
    compliance: str
    external: bool


MH_AGENT_NAMES: Final = (
    "Front Desk Receptionist", "Outbound Sales (EN)", "Kundenservice DE", "Appointment Scheduler",
    "Payment Reminder", "Support Triage",
)  # fmt: skip
MH_COUNTRIES: Final[Mapping[str, int]] = {
    "US": 18,
    "GB": 12,
    "DE": 12,
    "FR": 9,
    "ES": 9,
    "IT": 9,
    "NL": 8,
    "CA": 6,
}
MH_KINDS: Final[Mapping[str, int]] = {"local": 5, "mobile": 2, "toll_free": 2, "national": 1}
MH_NANP_KINDS: Final[Mapping[str, int]] = {"local": 6, "mobile": 2, "toll_free": 2}
# Numbers bought through Mindhunters: one local number per country and each kind somewhere, then random.
MH_FORCED: Final = (
    *((country, "local") for country in MH_COUNTRIES),
    ("US", "toll_free"), ("GB", "mobile"), ("DE", "national"), ("FR", "mobile"), ("IT", "toll_free"),
    ("NL", "national"),
)  # fmt: skip
MH_INTERNAL: Final = 78
MH_EXTERNAL: Final = 11  # generated; the documented example is external too
# (status, compliance status) -> how many of the internal numbers have it.
MH_STATES: Final[Mapping[tuple[str, str], int]] = {
    ("active", "completed"): 56,
    ("pending", "requirement_pending"): 9,
    ("pending", "completed"): 3,
    ("inactive", "completed"): 10,
}
MH_NEIGHBOURS: Final[Mapping[str, tuple[str, ...]]] = {
    "US": ("CA", "MX"), "CA": ("US",), "GB": ("IE", "FR", "DE"), "DE": ("AT", "CH", "NL", "FR"),
    "FR": ("BE", "CH", "ES", "DE"), "ES": ("PT", "FR"), "IT": ("CH", "FR", "AT"), "NL": ("BE", "DE", "GB"),
}  # fmt: skip
# Monthly fee in the billing currency, by country and kind.
MH_FEES: Final[Mapping[str, Mapping[str, float]]] = {
    "US": {"local": 1.15, "mobile": 1.15, "toll_free": 2.15},
    "CA": {"local": 1.15, "mobile": 1.15, "toll_free": 2.15},
    "GB": {"local": 1.15, "mobile": 1.15, "toll_free": 2.5, "national": 1.15},
    "DE": {"local": 1.0, "mobile": 6.5, "toll_free": 12.0, "national": 1.0},
    "FR": {"local": 1.2, "mobile": 3.0, "toll_free": 15.0, "national": 1.2},
    "ES": {"local": 1.0, "mobile": 4.25, "toll_free": 14.0, "national": 1.5},
    "IT": {"local": 1.8, "mobile": 9.5, "toll_free": 12.5, "national": 2.0},
    "NL": {"local": 1.0, "mobile": 5.0, "toll_free": 13.0, "national": 1.5},
}
PROOF_OF_ADDRESS: Final[Record] = {
    "name": "Proof of address",
    "type": "textual",
    "description": "A utility bill or bank statement, at most three months old, showing an address in the "
    "number's local area.",
}
END_USER_NAME: Final[Record] = {
    "name": "End-user name",
    "type": "textual",
    "description": "The full legal name of the person or business that will use the number.",
}
IDENTITY_DOCUMENT: Final[Record] = {
    "name": "Identity document",
    "type": "textual",
    "description": "A passport or national identity card of the end user or of the company's legal "
    "representative.",
}
BUSINESS_REGISTRATION: Final[Record] = {
    "name": "Business registration",
    "type": "textual",
    "description": "An extract from the commercial register, or an equivalent document, naming the business.",
}
MH_REQUIREMENTS: Final[Mapping[str, tuple[Record, ...]]] = {
    "local": (PROOF_OF_ADDRESS, END_USER_NAME),
    "mobile": (IDENTITY_DOCUMENT, END_USER_NAME),
    "toll_free": (BUSINESS_REGISTRATION, END_USER_NAME),
    "national": (BUSINESS_REGISTRATION, PROOF_OF_ADDRESS),
}


def mindhunters_agents(rng: Random) -> list[Agent]:
    """The small pool of agents numbers are bound to, so that one agent matches several numbers."""
    return [Agent(new_uuid(rng), name) for name in MH_AGENT_NAMES]


def binding(agent: Agent | None) -> Record:
    """One channel's binding: to ``agent``, or unbound."""
    if agent is None:
        return {"bound": False, "agent_uuid": None, "agent_name": None}
    return {"bound": True, "agent_uuid": agent.uuid, "agent_name": agent.name}


def mindhunters_example(agents: Sequence[Agent]) -> Record:
    """The documented record (seed 004), its placeholders filled in and its agents taken from the pool."""
    return {
        "phone_number_uuid": "3c90c3cc-0d44-4b50-8888-8dd25736052a",
        "number": "+12084439178",
        "country_code": "US",
        "type": "local",
        "is_external": True,
        "status": "active",
        "compliance": {"status": "completed", "requirements": [dict(PROOF_OF_ADDRESS)]},
        "capabilities": {
            "voice": True,
            "sms": True,
            "mms": True,
            "fax": True,
            "emergency": True,
            "local_calling": True,
        },
        "channel_settings": {
            "voice": {"enabled": True, "channel_limit": 10, "whitelisted_destinations": ["US"]},
            "sms": {"enabled": True, "channel_limit": 5, "whitelisted_destinations": ["US"]},
            "inbound": {"enabled": True, "channel_limit": 10},
        },
        "billing": {"monthly_fee": 1.15, "currency": "EUR"},
        "bindings": {"call": binding(agents[0]), "sms": binding(agents[0]), "whatsapp": binding(agents[3])},
        "purchased_at": "2023-11-07T05:31:56Z",
        "updated_at": "2023-11-07T05:31:56Z",
    }


def mindhunters_specs(rng: Random) -> list[Spec]:
    """The internal numbers (covering every country, kind, status and compliance), then the external ones."""
    places = list(MH_FORCED)
    while len(places) < MH_INTERNAL:
        country = pick(rng, MH_COUNTRIES)
        places.append((country, pick(rng, MH_NANP_KINDS if country in NANP else MH_KINDS)))
    rng.shuffle(places)
    states = deal(rng, MH_STATES)
    specs = [
        Spec(country, kind, status, compliance, external=False)
        for (country, kind), (status, compliance) in zip(places, states, strict=True)
    ]
    for _ in range(MH_EXTERNAL):
        status = "inactive" if rng.random() < 0.15 else "active"
        country = pick(rng, MH_COUNTRIES)
        specs.append(
            Spec(country, rng.choice(("mobile", "mobile", "local")), status, "completed", external=True)
        )
    return specs


def mh_capabilities(rng: Random, spec: Spec) -> Record:
    """What the number can do: SMS on North American numbers and mobiles, MMS in North America only."""
    geographic = spec.kind in {"local", "mobile"}
    nanp = spec.country in NANP
    return {
        "voice": True,
        "sms": (nanp and spec.kind != "national") or spec.kind == "mobile",
        "mms": nanp and geographic,
        "fax": spec.kind == "local" and rng.random() < 0.3,
        "emergency": geographic,
        "local_calling": geographic,
    }


def mh_destinations(rng: Random, country: str) -> list[str]:
    """Allowed destination countries: the number's own and some neighbours."""
    neighbours = MH_NEIGHBOURS[country]
    return [country, *rng.sample(neighbours, rng.randint(0, len(neighbours)))]


def mh_channel_settings(rng: Random, spec: Spec, capabilities: Record) -> Record:
    """Per-channel settings; channels are enabled only on active numbers that have the capability."""
    active = spec.status == "active"
    voice = {
        "enabled": active and rng.random() < 0.9,
        "channel_limit": rng.choice((2, 5, 10, 20)),
        "whitelisted_destinations": mh_destinations(rng, spec.country),
    }
    sms = {"enabled": False, "channel_limit": 0, "whitelisted_destinations": []}
    if capabilities["sms"]:
        sms = {
            "enabled": active,
            "channel_limit": rng.choice((1, 2, 5)),
            "whitelisted_destinations": [spec.country],
        }
    inbound = {"enabled": active, "channel_limit": rng.choice((2, 5, 10, 20))}
    return {"voice": voice, "sms": sms, "inbound": inbound}


def mh_billing(rng: Random, spec: Spec) -> Record:
    """Fees by country and kind, some negotiated 10-15% off; external numbers cost nothing."""
    if spec.external:
        return {"monthly_fee": 0.0, "currency": "EUR"}
    fee = MH_FEES[spec.country][spec.kind]
    if rng.random() < 0.2:
        fee = round(fee * rng.choice((0.85, 0.9)), 2)
    currency = "USD" if spec.country in NANP and rng.random() < 0.7 else "EUR"
    return {"monthly_fee": fee, "currency": currency}


def mh_bindings(rng: Random, spec: Spec, capabilities: Record, agents: Sequence[Agent]) -> Record:
    """Agents bound per channel; only active numbers are bound, WhatsApp only on mobiles."""
    if spec.status != "active":
        return {"call": binding(None), "sms": binding(None), "whatsapp": binding(None)}
    call = rng.choice(agents) if rng.random() < 0.75 else None
    sms = None
    if capabilities["sms"] and rng.random() < 0.5:
        sms = call if call is not None and rng.random() < 0.5 else rng.choice(agents)
    whatsapp = rng.choice(agents) if spec.kind == "mobile" and rng.random() < 0.7 else None
    return {"call": binding(call), "sms": binding(sms), "whatsapp": binding(whatsapp)}


def mh_requirements(rng: Random, spec: Spec) -> list[Record]:
    """Open requirements when compliance is pending; sometimes the satisfied ones when completed."""
    candidates = MH_REQUIREMENTS[spec.kind]
    if spec.compliance == "requirement_pending":
        return [dict(item) for item in rng.sample(candidates, rng.randint(1, len(candidates)))]
    if spec.external or spec.country in NANP or rng.random() < 0.6:
        return []
    return [dict(item) for item in candidates]


def mindhunters_number(
    rng: Random, spec: Spec, agents: Sequence[Agent], numbers: set[str], instants: set[datetime]
) -> Record:
    """One generated Mindhunters number."""
    capabilities = mh_capabilities(rng, spec)
    purchased = draw_instant(rng, instants, start=MINDHUNTERS_EXAMPLE_PURCHASED)
    updated = purchased
    latest = min(400 * 86_400, int((WINDOW_END - purchased).total_seconds()))
    if rng.random() < 0.7 and latest >= 60:
        updated = purchased + timedelta(seconds=rng.randint(60, latest))
    return {
        "phone_number_uuid": new_uuid(rng),
        "number": draw_number(rng, spec.country, spec.kind, numbers),
        "country_code": spec.country,
        "type": spec.kind,
        "is_external": spec.external,
        "status": spec.status,
        "compliance": {"status": spec.compliance, "requirements": mh_requirements(rng, spec)},
        "capabilities": capabilities,
        "channel_settings": mh_channel_settings(rng, spec, capabilities),
        "billing": mh_billing(rng, spec),
        "bindings": mh_bindings(rng, spec, capabilities, agents),
        "purchased_at": plain_time(purchased),
        "updated_at": plain_time(updated),
    }


def mindhunters_examples() -> list[Record]:
    """The documented record; its agents come from the same pool, drawn first from the dataset's seed."""
    return [mindhunters_example(mindhunters_agents(Random(DATASET_SEEDS["mindhunters"])))]


def generate_mindhunters(rng: Random, examples: list[Record]) -> list[Record]:
    """78 numbers bought through Mindhunters and 11 external ones."""
    agents = mindhunters_agents(rng)
    numbers = used_values(examples, "number")
    instants = used_instants(examples, "purchased_at")
    return [mindhunters_number(rng, spec, agents, numbers, instants) for spec in mindhunters_specs(rng)]


# ------------------------------------------------------------------------------------------- coverage


def require(problems: list[str], condition: bool, message: str) -> None:
    """Record ``message`` as a problem unless ``condition`` holds."""
    if not condition:
        problems.append(message)


def require_each(
    problems: list[str], counts: Counter[Any], values: Iterable[Any], minimum: int, what: str
) -> None:
    """Every one of ``values`` occurs at least ``minimum`` times in ``counts``."""
    for value in values:
        require(
            problems,
            counts[value] >= minimum,
            f"{what}={value!r} occurs {counts[value]} times, need {minimum}",
        )


def famulor_number_coverage(records: list[Record]) -> list[str]:
    """Every type and (sms, subscription) pair, 8+ numbers on the legacy endpoint, nickname in 3 forms."""
    problems: list[str] = []
    require_each(problems, Counter(r["type"] for r in records), FAMULOR_TYPE_LABELS, 1, "type")
    pairs = Counter((r["sms_capable"], r["has_active_subscription"]) for r in records)
    require_each(
        problems, pairs, [(True, True), (True, False), (False, True), (False, False)], 1, "(sms, sub)"
    )
    require(problems, pairs[(True, True)] >= 8, "fewer than 8 numbers on the legacy endpoint")
    nicknames = Counter(type(r["nickname"]).__name__ if "nickname" in r else "absent" for r in records)
    require_each(problems, nicknames, ["str", "NoneType", "absent"], 1, "nickname")
    for record in records:
        require(
            problems, record["type_label"] == FAMULOR_TYPE_LABELS[record["type"]], f"id {record['id']}: label"
        )
        require(problems, len(record.get("nickname") or "") <= 50, f"id {record['id']}: nickname too long")
    return problems


def sender_coverage(records: list[Record]) -> list[str]:
    """4+ senders online and offline, every rating and tier, formatted limits matching the limits."""
    problems: list[str] = []
    require_each(problems, Counter(r["status"] for r in records), SENDER_STATUSES, 4, "status")
    require_each(problems, Counter(r["quality_rating"] for r in records), SENDER_QUALITY, 1, "quality_rating")
    require_each(
        problems, Counter(r["messaging_limit"] for r in records), SENDER_LIMITS, 1, "messaging_limit"
    )
    for record in records:
        formatted = format_limit(record["messaging_limit"])
        require(
            problems, record["messaging_limit_formatted"] == formatted, f"id {record['id']}: formatted limit"
        )
    return problems


def butter_coverage(records: list[Record]) -> list[str]:
    """A page (20) of each status and both providers; an agent exactly when assigned."""
    problems: list[str] = []
    require_each(problems, Counter(r["status"] for r in records), BUTTER_STATUSES, 20, "status")
    require_each(problems, Counter(r["provider"] for r in records), BUTTER_PROVIDERS, 1, "provider")
    for record in records:
        assigned = record["status"] == "assigned"
        agent_ok = (record["assigned_agent_id"] is not None) == assigned
        require(problems, agent_ok, f"{record['phone_number_id']}: assigned_agent_id does not match status")
        require(
            problems, re.fullmatch(r"phon_[0-9a-f]{12}", record["phone_number_id"]) is not None, "id layout"
        )
    return problems


def contactship_coverage(records: list[Record]) -> list[str]:
    """8+ numbers of each type, all in one organization, ids 'pn-' + UUID."""
    problems: list[str] = []
    require_each(problems, Counter(r["type"] for r in records), CONTACTSHIP_TYPES, 8, "type")
    require(
        problems, {r["organization_id"] for r in records} == {CONTACTSHIP_ORG}, "more than one organization"
    )
    for record in records:
        require(problems, is_uuid(record["id"].removeprefix("pn-")), record["id"])
    return problems


def mindhunters_binding_problems(record: Record) -> list[str]:
    """A bound channel names an agent; an unbound one names none."""
    problems: list[str] = []
    for channel, bound in record["bindings"].items():
        named = bound["agent_uuid"] is not None and bound["agent_name"] is not None
        unnamed = bound["agent_uuid"] is None and bound["agent_name"] is None
        require(problems, named if bound["bound"] else unnamed, f"{record['number']}: {channel} binding")
    return problems


def mindhunters_record_problems(record: Record) -> list[str]:
    """Per-record consistency: bindings, timestamps, open requirements."""
    problems = mindhunters_binding_problems(record)
    label = record["number"]
    in_order = datetime.fromisoformat(record["updated_at"]) >= datetime.fromisoformat(record["purchased_at"])
    require(problems, in_order, f"{label}: updated_at before purchased_at")
    pending = record["compliance"]["status"] == "requirement_pending"
    require(
        problems, not pending or bool(record["compliance"]["requirements"]), f"{label}: no open requirement"
    )
    return problems


def mindhunters_coverage(records: list[Record]) -> list[str]:
    """Three default pages of internal numbers, every filter value among them, 5+ external numbers."""
    internal = [r for r in records if not r["is_external"]]
    problems: list[str] = []
    require(problems, len(internal) >= 60, f"only {len(internal)} internal numbers")
    require(problems, len(records) - len(internal) >= 5, "fewer than 5 external numbers")
    require_each(
        problems, Counter(r["status"] for r in internal), ["active", "pending", "inactive"], 1, "status"
    )
    require_each(problems, Counter(r["type"] for r in internal), MH_KINDS, 1, "type")
    compliance = Counter(r["compliance"]["status"] for r in internal)
    require_each(problems, compliance, ["completed", "requirement_pending"], 1, "compliance")
    require_each(problems, Counter(r["country_code"] for r in internal), MH_COUNTRIES, 1, "country_code")
    pool = [agent.uuid for agent in mindhunters_agents(Random(DATASET_SEEDS["mindhunters"]))]
    require_each(problems, Counter(bound_agents(internal)), pool, 2, "agent bound to numbers")
    require_each(
        problems, Counter(agent for agent, _ in set(agent_channels(internal))), pool, 2, "agent channels"
    )
    for record in records:
        problems += mindhunters_record_problems(record)
    return problems


def bound_agents(records: Iterable[Record]) -> list[str]:
    """One agent uuid per (number, agent) pair: how many numbers each agent is bound to."""
    return [
        agent
        for r in records
        for agent in {b["agent_uuid"] for b in r["bindings"].values() if b["bound"]}
    ]  # fmt: skip


def agent_channels(records: Iterable[Record]) -> list[tuple[str, str]]:
    """(agent uuid, channel) for every bound channel."""
    return [(b["agent_uuid"], channel) for r in records for channel, b in r["bindings"].items() if b["bound"]]


# ------------------------------------------------------------------------------------------- datasets


@dataclass(frozen=True)
class Dataset:
    """One fixture file: where it goes, how it is built and what it must satisfy."""

    name: str
    fixture: str  # path under fixtures/
    schema: str  # item schema, path under schemas/
    examples: Callable[[], list[Record]]
    generate: Callable[[Random, list[Record]], list[Record]]
    comment: str
    count: int
    id_key: str
    number_key: str
    time_key: str | None  # must be unique, so that ordering by it is total
    time_layout: str  # regex every *_at field matches
    coverage: Callable[[list[Record]], list[str]]
    facets: tuple[str, ...]  # fields summarised on stdout

    def path(self) -> Path:
        """The fixture file."""
        return FIXTURE_DIR / self.fixture


DATASET_SEEDS: Final[Mapping[str, int]] = {
    "famulor-numbers": 1_000,
    "famulor-senders": 1_002,
    "butter": 1_001,
    "contactship": 1_003,
    "mindhunters": 1005,
}
FAMULOR_LAYOUT: Final = r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z"
PLAIN_LAYOUT: Final = r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z"
GENERATED_BY: Final = "Generated by scripts/generate_fixtures.py (do not edit by hand)"

DATASETS: Final = (
    Dataset(
        "famulor-numbers", "famulor/phone-numbers.json", "famulor/phone-number.json",
        famulor_number_examples, generate_famulor_numbers,
        f"{GENERATED_BY}; the first 2 records are the vendor's documented examples, verbatim "
        "(docs.famulor.io phone-numbers/list, which predates the nickname field).",
        30, "id", "phone_number", "created_at", FAMULOR_LAYOUT, famulor_number_coverage,
        ("type", "sms_capable", "has_active_subscription", "region", "country_code"),
    ),
    Dataset(
        "famulor-senders", "famulor/whatsapp-senders.json", "famulor/whatsapp-sender.json",
        sender_examples, generate_senders,
        f"{GENERATED_BY}; the first 2 records are the vendor's documented examples, verbatim "
        "(docs.famulor.io whatsapp/get-senders).",
        12, "id", "phone_number", None, FAMULOR_LAYOUT, sender_coverage,
        ("status", "quality_rating", "messaging_limit"),
    ),
    Dataset(
        "butter", "butter/phone-numbers.json", "butter/phone-number.json",
        butter_examples, generate_butter,
        f"{GENERATED_BY}; the first 2 records are the vendor's documented examples, verbatim "
        "(docs.getbutter.ai phone-numbers/list).",
        62, "phone_number_id", "phone_number", "created_at", PLAIN_LAYOUT, butter_coverage,
        ("status", "provider", "supports_inbound", "supports_outbound"),
    ),
    Dataset(
        "contactship", "contactship/phone-numbers.json", "contactship/phone-number.json",
        contactship_examples, generate_contactship,
        f"{GENERATED_BY}; the first 2 records are the vendor's documented examples, verbatim "
        "(docs.contactship.ai get-phone-numbers).",
        24, "id", "phone_number", "created_at", PLAIN_LAYOUT, contactship_coverage,
        ("type", "organization_id"),
    ),
    Dataset(
        "mindhunters", "mindhunters/phone-numbers.json", "mindhunters/phone-number.json",
        mindhunters_examples, generate_mindhunters,
        f"{GENERATED_BY}; the first record is the vendor's documented example (developers.mindhunters.ai "
        "list-your-phone-numbers), verbatim except that its placeholders (<string>, 123, {}) are filled in.",
        90, "phone_number_uuid", "number", "purchased_at", PLAIN_LAYOUT, mindhunters_coverage,
        ("is_external", "status", "type", "compliance.status", "country_code", "billing.currency"),
    ),
)  # fmt: skip


def build(dataset: Dataset) -> list[Record]:
    """The examples, then records generated from the dataset's own seed."""
    examples = dataset.examples()
    return examples + dataset.generate(Random(DATASET_SEEDS[dataset.name]), examples)


def render(dataset: Dataset, records: list[Record]) -> str:
    """The fixture file's text: pretty-printed, UTF-8 as is, with a trailing newline."""
    document = {"$comment": dataset.comment, "records": records}
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def write(dataset: Dataset) -> None:
    """Build the dataset and write its fixture file."""
    path = dataset.path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(dataset, build(dataset)), encoding="utf-8", newline="\n")


# ----------------------------------------------------------------------------------------- validation


def schema_problems(dataset: Dataset, records: list[Record], store: SchemaStore, strict: bool) -> list[str]:
    """Every schema violation of every record, one line each (the emulator's own validation)."""
    variant = "strict" if strict else "lenient"
    return [
        f"record {index} ({record.get(dataset.id_key)}), {variant} schema, {describe(error)}"
        for index, record in enumerate(records)
        for error in store.errors(SCHEMA_DIR / dataset.schema, record, strict=strict)
    ]


def duplicates(values: Iterable[Any]) -> list[Any]:
    """The values that occur more than once."""
    return [value for value, count in Counter(values).items() if count > 1]


def invariant_problems(dataset: Dataset, records: list[Record]) -> list[str]:
    """Count, examples first and verbatim, unique keys, timestamp layout, country calling codes."""
    problems: list[str] = []
    examples = dataset.examples()
    require(problems, len(records) == dataset.count, f"{len(records)} records, expected {dataset.count}")
    require(
        problems,
        records[: len(examples)] == examples,
        "the documented examples are not first or not verbatim",
    )
    keys = [dataset.id_key, dataset.number_key] + ([dataset.time_key] if dataset.time_key else [])
    for key in keys:
        repeated = duplicates(record[key] for record in records)
        require(problems, not repeated, f"duplicate {key}: {repeated}")
    for record in records:
        for key, value in record.items():
            if key.endswith("_at"):
                require(
                    problems, re.fullmatch(dataset.time_layout, value) is not None, f"{key} layout: {value}"
                )
        country = record.get("country_code")
        if country is not None:
            matches = record[dataset.number_key].startswith(CALLING_CODES[country])
            require(problems, matches, f"{record[dataset.number_key]} is not a {country} number")
    return problems


def field(record: Record, dotted: str) -> Any:
    """The value at a dotted path such as ``billing.currency``."""
    value: Any = record
    for part in dotted.split("."):
        value = value[part]
    return value


def summary(dataset: Dataset, records: list[Record]) -> str:
    """One line: the file, its record count and the value counts of its filterable fields."""
    parts = [f"{dataset.fixture}: {len(records)} records"]
    for facet in dataset.facets:
        counts = Counter(json.dumps(field(record, facet)) for record in records)
        parts.append(f"{facet} " + " ".join(f"{value}={count}" for value, count in sorted(counts.items())))
    return "; ".join(parts)


def check(dataset: Dataset, store: SchemaStore) -> list[str]:
    """Every problem of the fixture file as written, each prefixed with the file's path."""
    records: list[Record] = json.loads(dataset.path().read_text(encoding="utf-8"))["records"]
    problems: list[str] = []
    for strict in (False, True):
        problems += schema_problems(dataset, records, store, strict)
    problems += invariant_problems(dataset, records)
    problems += dataset.coverage(records)
    print(summary(dataset, records))
    return [f"fixtures/{dataset.fixture}: {problem}" for problem in problems]


def main() -> int:
    """Write every fixture, then check them all; 1 if any check failed."""
    for dataset in DATASETS:
        write(dataset)
    store = SchemaStore(SCHEMA_DIR)
    problems = [problem for dataset in DATASETS for problem in check(dataset, store)]
    if problems:
        print(f"fixture check failed ({len(problems)} problems):", *problems, sep="\n  ", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
